/**
 * The unique flow identifier: a 128-bit id a datapath flow is known by
 * (OVS's ovs_u128 ufid), kept as four u32 words. One module for the
 * concept, as OVS has it in lib/odp-util.c and ofproto-dpif-upcall.c:
 * generating one from a flow key (odp_flow_key_hash / odp_ufid_generate),
 * printing it (odp_format_ufid: UUID_FMT over the four words), parsing it
 * (odp_ufid_from_string), and the hash the udpif key maps use
 * (get_ukey_hash). The datapath, dpctl, the dpif log and the revalidator's
 * log lines all print through `formatUfid`, so a UFID reads the same
 * everywhere.
 *
 * `ufidFromKey` and `ufidHash` allocate nothing (the PMD calls the first
 * per upcall); the text functions are for the control path.
 */
import { hash2Words, hashWords128 } from "../lib/mod.ts";
import { FLOW_WORDS } from "./layout.ts";

/** OVS's UFID basis for datapath-generated UFIDs is per process; ours is fixed. */
export const UFID_BASIS = 0x5bd1e995;

/** odp_flow_key_hash(): a UFID from a key, with RFC 4122 v4 bits set. */
export function ufidFromKey(key: Uint32Array, off: number, out: Uint32Array, outOff = 0): void {
  hashWords128(key, off, FLOW_WORDS, UFID_BASIS, out, outOff);
  out[outOff + 2] = ((out[outOff + 2] & ~0xc0000000) | 0x80000000) >>> 0;
  out[outOff + 1] = ((out[outOff + 1] & ~0xf000) | 0x4000) >>> 0;
}

/** The UFID as UUID text (UUID_FMT: the words' halves in order), without "ufid:". */
export function formatUfid(u: Uint32Array): string {
  const h = (v: number, n: number) => (v >>> 0).toString(16).padStart(n, "0");
  return `${h(u[0], 8)}-${h(u[1] >>> 16, 4)}-${h(u[1] & 0xffff, 4)}-${h(u[2] >>> 16, 4)}-${
    h(u[2] & 0xffff, 4)
  }${h(u[3], 8)}`;
}

/** odp_format_ufid(): `ufid:` and the UUID text, as log lines and dump-flows print it. */
export function odpFormatUfid(u: Uint32Array): string {
  return `ufid:${formatUfid(u)}`;
}

/** odp_ufid_from_string(): `ufid:UUID` or a bare UUID; null when `s` is not one. */
export function parseUfid(s: string): Uint32Array | null {
  const m =
    /^(?:ufid:)?([0-9a-f]{8})-([0-9a-f]{4})-([0-9a-f]{4})-([0-9a-f]{4})-([0-9a-f]{4})([0-9a-f]{8})$/i
      .exec(s);
  if (!m) return null;
  const n = (x: string) => parseInt(x, 16);
  return Uint32Array.of(
    n(m[1]),
    ((n(m[2]) << 16) | n(m[3])) >>> 0,
    ((n(m[4]) << 16) | n(m[5])) >>> 0,
    n(m[6]),
  );
}

/** get_ukey_hash(): the hash that picks a ukey's map and bucket. */
export function ufidHash(ufid: Uint32Array, pmdId: number): number {
  return hash2Words(ufid[0], pmdId);
}

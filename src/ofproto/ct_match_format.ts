/**
 * The connection tracking part of a match as match_format prints it,
 * right after pkt_mark: ct_state (flags, `+a-b` when masked), ct_zone,
 * ct_mark, ct_label, the original-direction tuple, and ct_nw_proto with
 * its ports.
 */
import { CT_STATE_NAMES, F, formatFlagsMasked, getUint } from "../flow/mod.ts";
import { be16Masked, ipMasked, ipv6Masked } from "./_masked_format.ts";

function readBig(b: Uint8Array, off: number, n: number): bigint {
  let v = 0n;
  for (let i = 0; i < n; i++) v = (v << 8n) | BigInt(b[off + i]);
  return v;
}

/** C's `%#x` (and ds_put_hex): 0 prints as "0". */
const altHex = (v: bigint | number): string => (v ? `0x${v.toString(16)}` : "0");

/** Appends the ct_* items of match key `k` under mask `w` to `out`. */
export function formatCtMatch(k: Uint8Array, w: Uint8Array, out: string[]): void {
  const stateMask = w[F.ct_state.off];
  if (stateMask) {
    out.push(`ct_state=${formatFlagsMasked(CT_STATE_NAMES, k[F.ct_state.off], stateMask, 0xff)}`);
  }
  const zoneMask = getUint(w, F.ct_zone.off, 2);
  if (zoneMask) {
    const z = getUint(k, F.ct_zone.off, 2);
    out.push(`ct_zone=${z}` + (zoneMask !== 0xffff ? `/${altHex(zoneMask)}` : ""));
  }
  const markMask = getUint(w, F.ct_mark.off, 4);
  if (markMask) {
    const v = getUint(k, F.ct_mark.off, 4);
    out.push(`ct_mark=${altHex(v)}` + (markMask !== 0xffffffff ? `/${altHex(markMask)}` : ""));
  }
  const labelMask = readBig(w, F.ct_label.off, 16);
  if (labelMask) {
    const v = readBig(k, F.ct_label.off, 16);
    out.push(
      `ct_label=${altHex(v)}` + (labelMask !== (1n << 128n) - 1n ? `/${altHex(labelMask)}` : ""),
    );
  }
  const ip4 = (name: string, off: number) => {
    const m = readBig(w, off, 4);
    if (m) out.push(`${name}=${ipMasked(readBig(k, off, 4), m)}`);
  };
  const ip6 = (name: string, off: number) => {
    const m = readBig(w, off, 16);
    if (m) out.push(`${name}=${ipv6Masked(readBig(k, off, 16), m)}`);
  };
  ip4("ct_nw_src", F.ct_nw_src.off);
  ip6("ct_ipv6_src", F.ct_ipv6_src.off);
  ip4("ct_nw_dst", F.ct_nw_dst.off);
  ip6("ct_ipv6_dst", F.ct_ipv6_dst.off);
  if (w[F.ct_nw_proto.off]) {
    out.push(`ct_nw_proto=${k[F.ct_nw_proto.off]}`);
    for (const [name, span] of [["ct_tp_src", F.ct_tp_src], ["ct_tp_dst", F.ct_tp_dst]] as const) {
      const m = getUint(w, span.off, 2);
      if (m) out.push(`${name}=${be16Masked(getUint(k, span.off, 2), m)}`);
    }
  }
}

/**
 * The fields a table tracks with prefix tries (a Flow_Table's `prefixes`
 * column in OVS): by default ip_dst and ip_src, at most three, each an IPv4
 * or IPv6 address. Also the bit helpers the classifier's trie checks use on
 * masks and wildcards (minimask_get_prefix_len, mask_set_prefix_bits).
 */
import { be32, F, type FlowKey } from "../flow/mod.ts";
import { OfctlError } from "./ofctl_error.ts";

export interface PrefixField {
  readonly name: string;
  /** First key word of the field, and its width. */
  readonly word: number;
  readonly nBits: number;
  /** The eth_type a flow must have for the field to mean an address. */
  readonly dlType: number;
}

const field = (name: string, off: number, nBits: number, dlType: number): PrefixField => ({
  name,
  word: off / 4,
  nBits,
  dlType,
});

const FIELDS: ReadonlyMap<string, PrefixField> = new Map([
  ["ip_src", field("ip_src", F.nw_src.off, 32, 0x0800)],
  ["nw_src", field("ip_src", F.nw_src.off, 32, 0x0800)],
  ["ip_dst", field("ip_dst", F.nw_dst.off, 32, 0x0800)],
  ["nw_dst", field("ip_dst", F.nw_dst.off, 32, 0x0800)],
  ["ipv6_src", field("ipv6_src", F.ipv6_src.off, 128, 0x86dd)],
  ["ipv6_dst", field("ipv6_dst", F.ipv6_dst.off, 128, 0x86dd)],
]);

/** CLS_MAX_TRIES. */
export const MAX_PREFIX_FIELDS = 3;

/** OVS's default_prefix_fields. */
export const DEFAULT_PREFIX_FIELDS: readonly string[] = ["ip_dst", "ip_src"];

/** The fields for `names`, or an error naming the bad one (as bridge.c warns). */
export function prefixFields(names: readonly string[]): PrefixField[] {
  const out: PrefixField[] = [];
  for (const name of names) {
    const f = FIELDS.get(name);
    if (!f) throw new OfctlError(`'prefixes' with unknown or incompatible field: ${name}`);
    if (out.length === MAX_PREFIX_FIELDS) {
      throw new OfctlError(`'prefixes' with too many fields, ignoring: ${name}`);
    }
    if (out.some((o) => o.name === f.name)) {
      throw new OfctlError(`'prefixes' with duplicate field: ${name}`);
    }
    out.push(f);
  }
  return out;
}

/** The mask's length on the field as a CIDR prefix; 0 if it is none. */
export function maskPrefixLen(mask: FlowKey, f: PrefixField): number {
  let n = 0;
  let ended = false;
  for (let i = 0; i < f.nBits / 32; i++) {
    const m = be32(mask[f.word + i]);
    if (ended) {
      if (m) return 0;
      continue;
    }
    const inv = ~m >>> 0;
    if ((inv & (inv + 1)) !== 0) return 0;
    const ones = Math.clz32(inv);
    n += ones;
    ended = ones < 32;
  }
  return n;
}

const prefix32 = (
  bits: number,
) => (bits <= 0 ? 0 : bits >= 32 ? 0xffffffff : (0xffffffff << (32 - bits)) >>> 0);

/** ORs the field's first `bits` bits into `wc`. */
export function setPrefixBits(wc: FlowKey, f: PrefixField, bits: number): void {
  for (let i = 0; bits > 32 * i; i++) wc[f.word + i] |= be32(prefix32(bits - 32 * i));
}

/** Whether `wc` already has the field's first `bits` bits. */
export function hasPrefixBits(wc: FlowKey, f: PrefixField, bits: number): boolean {
  for (let i = 0; bits > 32 * i; i++) {
    const p = prefix32(bits - 32 * i);
    if (((be32(wc[f.word + i]) & p) >>> 0) !== p) return false;
  }
  return true;
}

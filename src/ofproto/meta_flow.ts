/**
 * The field table: OVS's mf_field names (and their extra names, NXM/OXM
 * names) mapped to where the field lives in a flow key, how wide it is and
 * what the flow must be for the field to exist (prerequisites).
 *
 * Matching, set_field, load and move all go through this one table, so a
 * field means the same bits everywhere. Sub-byte fields (vlan_vid in the
 * tci, ip_dscp in nw_tos) carry a shift: the value is
 * `(bytes >> shift) & ((1 << nBits) - 1)`.
 */
import {
  bytesOf,
  CS_ESTABLISHED,
  CS_NEW,
  CS_REPLY_DIR,
  F,
  type FieldSpan,
  type FlowKey,
  getUint,
  regOffset,
} from "../flow/mod.ts";

/** What must hold in a flow for a field to be meaningful (mf_prereqs). */
export type Prereq =
  | "none"
  | "vlan"
  | "ip"
  | "ipv6"
  | "ip_any"
  | "arp"
  | "tcp"
  | "udp"
  | "sctp"
  | "icmp"
  | "icmp6"
  /** An IPv6 neighbor solicitation or advertisement (nd_target). */
  | "nd"
  /** A neighbor solicitation (nd_sll) or advertisement (nd_tll). */
  | "nd_ns"
  | "nd_na"
  /** A valid conntrack entry (MFP_CT_VALID): the ct_nw_*, ct_ipv6_*, ct_tp_* fields. */
  | "ct";

/** How a field's value is written in ovs-ofctl syntax. */
export type FieldFormat =
  | "mac"
  | "ipv4"
  | "ipv6"
  | "dec"
  | "hex"
  | "frag"
  | "tcp_flags"
  | "port"
  | "ct_state";

export interface MfField {
  readonly name: string;
  /** Other spellings accepted on input (OVS's extra_name, OF1.0 names). */
  readonly aliases: readonly string[];
  /** NXM or OXM name, used when printing load/move (`NXM_NX_REG0[]`). */
  readonly nxm: string;
  /** Byte offset and length in the flow key of the bytes holding the field. */
  readonly off: number;
  readonly nBytes: number;
  /** Width of the value and its position inside those bytes. */
  readonly nBits: number;
  readonly shift: number;
  /** Bytes of the value as OVS parses it (mf_field.n_bytes), when not nBytes. */
  readonly valueBytes: number;
  readonly prereq: Prereq;
  readonly format: FieldFormat;
  readonly maskable: boolean;
  readonly writable: boolean;
}

const fields: MfField[] = [];

function def(
  name: string,
  aliases: string[],
  nxm: string,
  span: FieldSpan,
  nBits: number,
  shift: number,
  prereq: Prereq,
  format: FieldFormat,
  maskable = true,
  writable = true,
  valueBytes = span.len,
): void {
  fields.push({
    valueBytes,
    name,
    aliases,
    nxm,
    off: span.off,
    nBytes: span.len,
    nBits,
    shift,
    prereq,
    format,
    maskable,
    writable,
  });
}

const sub = (span: FieldSpan, off: number, len: number): FieldSpan => ({
  off: span.off + off,
  len,
});

def("metadata", [], "OXM_OF_METADATA", F.metadata, 64, 0, "none", "hex");
for (let i = 0; i < 16; i++) {
  def(`reg${i}`, [], `NXM_NX_REG${i}`, { off: regOffset(i), len: 4 }, 32, 0, "none", "hex");
}
def("in_port", [], "NXM_OF_IN_PORT", F.in_port, 16, 0, "none", "port", false, true, 2);
def("pkt_mark", [], "NXM_NX_PKT_MARK", F.pkt_mark, 32, 0, "none", "hex");
def("eth_src", ["dl_src"], "NXM_OF_ETH_SRC", F.dl_src, 48, 0, "none", "mac");
def("eth_dst", ["dl_dst"], "NXM_OF_ETH_DST", F.dl_dst, 48, 0, "none", "mac");
def("eth_type", ["dl_type"], "NXM_OF_ETH_TYPE", F.dl_type, 16, 0, "none", "hex", false, false);
def("vlan_tci", [], "NXM_OF_VLAN_TCI", F.vlan0_tci, 16, 0, "none", "hex");
def("dl_vlan", [], "dl_vlan", F.vlan0_tci, 12, 0, "none", "dec", false);
def("vlan_vid", [], "OXM_OF_VLAN_VID", F.vlan0_tci, 13, 0, "none", "dec");
def("dl_vlan_pcp", [], "dl_vlan_pcp", F.vlan0_tci, 3, 13, "none", "dec", false, true, 1);
def("vlan_pcp", [], "OXM_OF_VLAN_PCP", F.vlan0_tci, 3, 13, "vlan", "dec", false, true, 1);
def("ip_src", ["nw_src"], "NXM_OF_IP_SRC", F.nw_src, 32, 0, "ip", "ipv4");
def("ip_dst", ["nw_dst"], "NXM_OF_IP_DST", F.nw_dst, 32, 0, "ip", "ipv4");
def("ipv6_src", [], "NXM_NX_IPV6_SRC", F.ipv6_src, 128, 0, "ipv6", "ipv6");
def("ipv6_dst", [], "NXM_NX_IPV6_DST", F.ipv6_dst, 128, 0, "ipv6", "ipv6");
def("ipv6_label", [], "NXM_NX_IPV6_LABEL", F.ipv6_label, 20, 0, "ipv6", "hex");
def("nw_proto", ["ip_proto"], "NXM_OF_IP_PROTO", F.nw_proto, 8, 0, "ip_any", "dec", false, false);
def("nw_tos", [], "NXM_OF_IP_TOS", F.nw_tos, 8, 0, "ip_any", "dec", false);
def("ip_dscp", [], "OXM_OF_IP_DSCP", F.nw_tos, 6, 2, "ip_any", "dec", false);
def("nw_ecn", ["ip_ecn"], "NXM_NX_IP_ECN", F.nw_tos, 2, 0, "ip_any", "dec", false);
def("nw_ttl", [], "NXM_NX_IP_TTL", F.nw_ttl, 8, 0, "ip_any", "dec", false);
def("ip_frag", ["nw_frag"], "NXM_NX_IP_FRAG", F.nw_frag, 2, 0, "ip_any", "frag", true, false);
def("arp_op", [], "NXM_OF_ARP_OP", F.nw_proto, 8, 0, "arp", "dec", false, true, 2);
def("arp_spa", [], "NXM_OF_ARP_SPA", F.nw_src, 32, 0, "arp", "ipv4");
def("arp_tpa", [], "NXM_OF_ARP_TPA", F.nw_dst, 32, 0, "arp", "ipv4");
def("arp_sha", [], "NXM_NX_ARP_SHA", F.arp_sha, 48, 0, "arp", "mac");
def("arp_tha", [], "NXM_NX_ARP_THA", F.arp_tha, 48, 0, "arp", "mac");
def("tcp_src", ["tp_src"], "NXM_OF_TCP_SRC", F.tp_src, 16, 0, "tcp", "dec");
def("tcp_dst", ["tp_dst"], "NXM_OF_TCP_DST", F.tp_dst, 16, 0, "tcp", "dec");
def("tcp_flags", [], "NXM_NX_TCP_FLAGS", F.tcp_flags, 12, 0, "tcp", "tcp_flags", true, false);
def("udp_src", [], "NXM_OF_UDP_SRC", F.tp_src, 16, 0, "udp", "dec");
def("udp_dst", [], "NXM_OF_UDP_DST", F.tp_dst, 16, 0, "udp", "dec");
def("sctp_src", [], "OXM_OF_SCTP_SRC", F.tp_src, 16, 0, "sctp", "dec");
def("sctp_dst", [], "OXM_OF_SCTP_DST", F.tp_dst, 16, 0, "sctp", "dec");
def("icmp_type", [], "NXM_OF_ICMP_TYPE", sub(F.tp_src, 1, 1), 8, 0, "icmp", "dec", false);
def("icmp_code", [], "NXM_OF_ICMP_CODE", sub(F.tp_dst, 1, 1), 8, 0, "icmp", "dec", false);
def("icmpv6_type", [], "NXM_NX_ICMPV6_TYPE", sub(F.tp_src, 1, 1), 8, 0, "icmp6", "dec", false);
def("icmpv6_code", [], "NXM_NX_ICMPV6_CODE", sub(F.tp_dst, 1, 1), 8, 0, "icmp6", "dec", false);
def("nd_target", [], "NXM_NX_ND_TARGET", F.nd_target, 128, 0, "nd", "ipv6");
def("nd_sll", [], "NXM_NX_ND_SLL", F.arp_sha, 48, 0, "nd_ns", "mac");
def("nd_tll", [], "NXM_NX_ND_TLL", F.arp_tha, 48, 0, "nd_na", "mac");
// Connection tracking fields (a 32-bit ct_state on the wire, 8 bits in the flow).
def("ct_state", [], "NXM_NX_CT_STATE", F.ct_state, 8, 0, "none", "ct_state", true, false, 4);
def("ct_zone", [], "NXM_NX_CT_ZONE", F.ct_zone, 16, 0, "none", "hex", false, false);
def("ct_mark", [], "NXM_NX_CT_MARK", F.ct_mark, 32, 0, "none", "hex");
def("ct_label", [], "NXM_NX_CT_LABEL", F.ct_label, 128, 0, "none", "hex");
def("ct_nw_proto", [], "NXM_NX_CT_NW_PROTO", F.ct_nw_proto, 8, 0, "ct", "dec", false, false);
def("ct_nw_src", [], "NXM_NX_CT_NW_SRC", F.ct_nw_src, 32, 0, "ct", "ipv4", true, false);
def("ct_nw_dst", [], "NXM_NX_CT_NW_DST", F.ct_nw_dst, 32, 0, "ct", "ipv4", true, false);
def("ct_ipv6_src", [], "NXM_NX_CT_IPV6_SRC", F.ct_ipv6_src, 128, 0, "ct", "ipv6", true, false);
def("ct_ipv6_dst", [], "NXM_NX_CT_IPV6_DST", F.ct_ipv6_dst, 128, 0, "ct", "ipv6", true, false);
def("ct_tp_src", [], "NXM_NX_CT_TP_SRC", F.ct_tp_src, 16, 0, "ct", "dec", true, false);
def("ct_tp_dst", [], "NXM_NX_CT_TP_DST", F.ct_tp_dst, 16, 0, "ct", "dec", true, false);

const byName = new Map<string, MfField>();
for (const fl of fields) {
  byName.set(fl.name, fl);
  for (const a of fl.aliases) byName.set(a, fl);
}
const byNxm = new Map<string, MfField>();
for (const fl of fields) if (!byNxm.has(fl.nxm)) byNxm.set(fl.nxm, fl);
// Fields whose NXM name is shared read back as the widest one.
byNxm.set("NXM_OF_VLAN_TCI", byName.get("vlan_tci")!);
byNxm.set("OXM_OF_IPV4_SRC", byName.get("ip_src")!);
byNxm.set("OXM_OF_IPV4_DST", byName.get("ip_dst")!);
byNxm.set("OXM_OF_ETH_SRC", byName.get("eth_src")!);
byNxm.set("OXM_OF_ETH_DST", byName.get("eth_dst")!);
byNxm.set("OXM_OF_TCP_SRC", byName.get("tcp_src")!);
byNxm.set("OXM_OF_TCP_DST", byName.get("tcp_dst")!);
byNxm.set("OXM_OF_UDP_SRC", byName.get("udp_src")!);
byNxm.set("OXM_OF_UDP_DST", byName.get("udp_dst")!);
byNxm.set("OXM_OF_IN_PORT", byName.get("in_port")!);

/** Every field, in table order. */
export const MF_FIELDS: readonly MfField[] = fields;

/** Looks a field up by mf name, extra name or NXM/OXM name. */
export function mfByName(name: string): MfField | undefined {
  return byName.get(name) ?? byNxm.get(name);
}

/** The field's value bits, as they sit in the field's bytes. */
export function mfValueMask(fl: MfField): bigint {
  return ((1n << BigInt(fl.nBits)) - 1n) << BigInt(fl.shift);
}

function readBytes(b: Uint8Array, off: number, n: number): bigint {
  let v = 0n;
  for (let i = 0; i < n; i++) v = (v << 8n) | BigInt(b[off + i]);
  return v;
}

function writeBytes(b: Uint8Array, off: number, n: number, v: bigint): void {
  for (let i = n - 1; i >= 0; i--) {
    b[off + i] = Number(v & 0xffn);
    v >>= 8n;
  }
}

/** Reads a field's value from a key (or a mask). */
export function mfGet(fl: MfField, key: FlowKey): bigint {
  const raw = readBytes(bytesOf(key), fl.off, fl.nBytes);
  return (raw >> BigInt(fl.shift)) & ((1n << BigInt(fl.nBits)) - 1n);
}

/**
 * Writes `value` into the bits of the field selected by `mask` (both in
 * field units), leaving the other bits of the key alone.
 */
export function mfSetMasked(fl: MfField, key: FlowKey, value: bigint, mask: bigint): void {
  const b = bytesOf(key);
  const width = (1n << BigInt(fl.nBits)) - 1n;
  const sh = BigInt(fl.shift);
  const m = (mask & width) << sh;
  const raw = readBytes(b, fl.off, fl.nBytes);
  writeBytes(b, fl.off, fl.nBytes, (raw & ~m) | (((value & width) << sh) & m));
}

export function mfSet(fl: MfField, key: FlowKey, value: bigint): void {
  mfSetMasked(fl, key, value, (1n << BigInt(fl.nBits)) - 1n);
}

export const ETH_TYPE_IP = 0x0800;
export const ETH_TYPE_IPV6 = 0x86dd;
export const ETH_TYPE_ARP = 0x0806;
export const ETH_TYPE_RARP = 0x8035;
export const IPPROTO_ICMP = 1;
export const IPPROTO_TCP = 6;
export const IPPROTO_UDP = 17;
export const IPPROTO_SCTP = 132;
export const IPPROTO_ICMPV6 = 58;
export const ND_NEIGHBOR_SOLICIT = 135;
export const ND_NEIGHBOR_ADVERT = 136;

/** Fields only ct() may write, inside its exec() (field_requires_ct). */
export function fieldRequiresCt(fl: MfField): boolean {
  return fl.name === "ct_mark" || fl.name === "ct_label";
}

/**
 * Whether the prerequisite holds for the flow `key` (mf_are_prereqs_ok).
 * Reads the key's bytes without allocating, so tries can call it per lookup.
 */
export function prereqOk(p: Prereq, b: Uint8Array): boolean {
  if (p === "none") return true;
  // A tracked packet's valid state always has new, est or rpl (is_ct_valid).
  if (p === "ct") return (b[F.ct_state.off] & (CS_NEW | CS_ESTABLISHED | CS_REPLY_DIR)) !== 0;
  const dlType = getUint(b, F.dl_type.off, 2);
  const ip = dlType === ETH_TYPE_IP;
  const ip6 = dlType === ETH_TYPE_IPV6;
  const proto = b[F.nw_proto.off];
  switch (p) {
    case "vlan":
      return (getUint(b, F.vlan0_tci.off, 2) & 0x1000) !== 0;
    case "ip":
      return ip;
    case "ipv6":
      return ip6;
    case "ip_any":
      return ip || ip6;
    case "arp":
      return dlType === ETH_TYPE_ARP || dlType === ETH_TYPE_RARP;
    case "tcp":
      return (ip || ip6) && proto === IPPROTO_TCP;
    case "udp":
      return (ip || ip6) && proto === IPPROTO_UDP;
    case "sctp":
      return (ip || ip6) && proto === IPPROTO_SCTP;
    case "icmp":
      return ip && proto === IPPROTO_ICMP;
    case "icmp6":
      return ip6 && proto === IPPROTO_ICMPV6;
    case "nd":
    case "nd_ns":
    case "nd_na": {
      if (!ip6 || proto !== IPPROTO_ICMPV6 || b[F.tp_src.off] !== 0) return false;
      const type = b[F.tp_src.off + 1];
      const code = getUint(b, F.tp_dst.off, 2);
      if (code !== 0) return false;
      if (p === "nd_ns") return type === ND_NEIGHBOR_SOLICIT;
      if (p === "nd_na") return type === ND_NEIGHBOR_ADVERT;
      return type === ND_NEIGHBOR_SOLICIT || type === ND_NEIGHBOR_ADVERT;
    }
  }
}

/**
 * A match: a flow key and a mask of the same layout, the key always kept
 * masked (bits outside the mask are zero), as OVS's struct match after
 * match_zero_wildcarded_fields. Parsing a match item (`tcp`, `nw_dst=...`)
 * and normalizing away fields whose prerequisites are absent live here.
 */
import {
  bytesOf,
  exactField,
  F,
  type FlowKey,
  getUint,
  newKey,
  setUint,
  VLAN_CFI,
} from "../flow/mod.ts";
import {
  ETH_TYPE_ARP,
  ETH_TYPE_IP,
  ETH_TYPE_IPV6,
  ETH_TYPE_RARP,
  IPPROTO_ICMP,
  IPPROTO_ICMPV6,
  IPPROTO_SCTP,
  IPPROTO_TCP,
  IPPROTO_UDP,
  mfByName,
  type MfField,
  mfGet,
  mfSetMasked,
  mfValueMask,
  ND_NEIGHBOR_ADVERT,
  ND_NEIGHBOR_SOLICIT,
} from "./meta_flow.ts";
import { parseFieldValue, type PortNames } from "./field_value.ts";

export interface Match {
  key: FlowKey;
  mask: FlowKey;
}

export function newMatch(): Match {
  return { key: newKey(), mask: newKey() };
}

export function cloneMatch(m: Match): Match {
  return { key: m.key.slice(), mask: m.mask.slice() };
}

/**
 * Adds `value/mask` (field units) for `fl` to the match, replacing what
 * the match had for the `bits` of the field this item sets (the whole
 * field unless told: dl_vlan and dl_vlan_pcp each set their own part of
 * vlan_tci), as a later `nw_src=` replaces an earlier one in OVS.
 */
export function matchSetField(
  m: Match,
  fl: MfField,
  value: bigint,
  mask: bigint,
  bits = (1n << BigInt(fl.nBits)) - 1n,
): void {
  const full = (1n << BigInt(fl.nBits)) - 1n;
  mfSetMasked(fl, m.mask, (mfGet(fl, m.mask) & ~bits) | mask, full);
  mfSetMasked(fl, m.key, (mfGet(fl, m.key) & ~bits) | (value & mask), full);
}

/**
 * match_set_ipv6_label_masked as mf_set calls it: OVS keeps the label in
 * a 32-bit field, so a mask covering the 20 label bits is an exact match
 * on all 32, and any other mask is kept whole, bits beyond the label
 * included, and printed so (ipv6_label=0x00001/0xfff00001). Used by the
 * text parser and the NXM/OXM decoder alike.
 */
export function matchSetIpv6Label(m: Match, value: bigint, mask: bigint): void {
  if ((mask & 0xfffffn) === 0xfffffn) {
    matchSetField(m, IPV6_LABEL, value, mask);
    exactField(bytesOf(m.mask), F.ipv6_label);
  } else {
    const mask32 = Number(mask & 0xffffffffn);
    setUint(bytesOf(m.mask), F.ipv6_label.off, 4, mask32);
    setUint(bytesOf(m.key), F.ipv6_label.off, 4, (Number(value & 0xffffffffn) & mask32) >>> 0);
  }
}

const PROTOCOLS: Record<string, [number, number]> = {
  ip: [ETH_TYPE_IP, 0],
  ipv4: [ETH_TYPE_IP, 0],
  ip4: [ETH_TYPE_IP, 0],
  ipv6: [ETH_TYPE_IPV6, 0],
  ip6: [ETH_TYPE_IPV6, 0],
  arp: [ETH_TYPE_ARP, 0],
  rarp: [ETH_TYPE_RARP, 0],
  icmp: [ETH_TYPE_IP, IPPROTO_ICMP],
  tcp: [ETH_TYPE_IP, IPPROTO_TCP],
  udp: [ETH_TYPE_IP, IPPROTO_UDP],
  sctp: [ETH_TYPE_IP, IPPROTO_SCTP],
  icmp6: [ETH_TYPE_IPV6, IPPROTO_ICMPV6],
  tcp6: [ETH_TYPE_IPV6, IPPROTO_TCP],
  udp6: [ETH_TYPE_IPV6, IPPROTO_UDP],
  sctp6: [ETH_TYPE_IPV6, IPPROTO_SCTP],
};

const DL_TYPE = mfByName("eth_type")!;
const NW_PROTO = mfByName("nw_proto")!;
const VLAN_TCI = mfByName("vlan_tci")!;
const NW_TOS = mfByName("nw_tos")!;
const IPV6_LABEL = mfByName("ipv6_label")!;

/** Whether `name` is a protocol shorthand such as `tcp6`. */
export function isProtocolName(name: string): boolean {
  return Object.hasOwn(PROTOCOLS, name);
}

/** How each field can travel in an OpenFlow 1.0 ofp_match; others need NXM. */
const OF10_SUPPORT: Record<string, "exact" | "cidr"> = {
  in_port: "exact",
  eth_src: "exact",
  eth_dst: "exact",
  eth_type: "exact",
  vlan_tci: "exact",
  dl_vlan: "exact",
  vlan_vid: "exact",
  dl_vlan_pcp: "exact",
  vlan_pcp: "exact",
  ip_src: "cidr",
  ip_dst: "cidr",
  nw_proto: "exact",
  nw_tos: "exact",
  ip_dscp: "exact",
  arp_op: "exact",
  arp_spa: "cidr",
  arp_tpa: "cidr",
  tcp_src: "exact",
  tcp_dst: "exact",
  udp_src: "exact",
  udp_dst: "exact",
  icmp_type: "exact",
  icmp_code: "exact",
};

/** What ovs-ofctl learns while parsing a match: whether OpenFlow 1.0 can carry it. */
export interface MatchUsage {
  nxmOnly: boolean;
}

/**
 * Whether the parsed match fits an OpenFlow 1.0 ofp_match, so that
 * ovs-ofctl sends it as one (ofputil_usable_protocols): every field
 * matched the way OF1.0 can, and no L3/L4 field inside IPv6.
 */
export function fitsOf10(m: Match, usage: MatchUsage): boolean {
  if (usage.nxmOnly) return false;
  const k = bytesOf(m.key);
  const w = bytesOf(m.mask);
  if (getUint(k, F.dl_type.off, 2) !== ETH_TYPE_IPV6) return true;
  return !w[F.nw_proto.off] && !w[F.nw_tos.off] && !getUint(w, F.tp_src.off, 4);
}

/**
 * Applies one `name[=value]` match item. Returns false when `name` is not
 * a match field (the caller then tries its own keywords). `usage` learns
 * whether the item needs NXM.
 */
export function parseMatchItem(
  m: Match,
  name: string,
  value: string,
  usage: MatchUsage = { nxmOnly: false },
  names?: PortNames,
): boolean {
  if (isProtocolName(name)) {
    const [dlType, proto] = PROTOCOLS[name];
    matchSetField(m, DL_TYPE, BigInt(dlType), 0xffffn);
    if (proto) matchSetField(m, NW_PROTO, BigInt(proto), 0xffn);
    return true;
  }
  const fl = mfByName(name);
  if (!fl) return false;
  const mv = parseFieldValue(fl, value, names);
  const of10 = OF10_SUPPORT[fl.name];
  const exact = !value.includes("/");
  if (!of10 || (of10 === "exact" && !exact) || (of10 === "cidr" && !isCidr(mv.mask, fl.nBits))) {
    usage.nxmOnly = true;
  }
  switch (fl.name) {
    case "dl_vlan":
      // OpenFlow 1.0's OFP_VLAN_NONE: no VLAN header at all.
      if (mv.value === 0xffffn) matchSetField(m, VLAN_TCI, 0n, 0xffffn);
      else matchSetField(m, VLAN_TCI, (mv.value & 0xfffn) | BigInt(VLAN_CFI), 0x1fffn, 0x1fffn);
      return true;
    case "dl_vlan_pcp":
    case "vlan_pcp":
      matchSetField(m, VLAN_TCI, ((mv.value & 7n) << 13n) | BigInt(VLAN_CFI), 0xf000n, 0xf000n);
      return true;
    case "vlan_vid":
      matchSetField(m, VLAN_TCI, mv.value, mv.mask & 0x1fffn, 0x1fffn);
      return true;
    case "icmp_type":
    case "icmp_code":
    case "icmpv6_type":
    case "icmpv6_code":
      // OVS stores ICMP type and code in tp_src/tp_dst and matches all 16 bits.
      matchSetField(
        m,
        mfByName(fl.name.endsWith("type") ? "tcp_src" : "tcp_dst")!,
        mv.value,
        0xffffn,
      );
      return true;
    case "ipv6_label":
      matchSetIpv6Label(m, mv.value, mv.mask);
      return true;
    case "nw_tos":
      matchSetField(m, NW_TOS, mv.value & 0xfcn, 0xfcn);
      return true;
  }
  // Wider values are cut to the field, as OVS's setters do (arp_op=256 is 0).
  matchSetField(m, fl, mv.value & mfValueMask(fl) >> BigInt(fl.shift), mv.mask);
  return true;
}

function isCidr(mask: bigint, width: number): boolean {
  const inv = ~mask & ((1n << BigInt(width)) - 1n);
  return (inv & (inv + 1n)) === 0n;
}

const clear = (b: Uint8Array, off: number, len: number) => b.fill(0, off, off + len);

/**
 * Drops fields whose prerequisites the match does not establish
 * (ofputil_normalize_match): `nw_dst=1.2.3.4` without `ip` matches
 * everything, as in OVS. The key is then re-masked.
 */
export function normalizeMatch(m: Match): void {
  const k = bytesOf(m.key);
  const w = bytesOf(m.mask);
  const dlType = getUint(k, F.dl_type.off, 2);
  const proto = k[F.nw_proto.off];
  let nwProto = false, ipvx = false, nwAddr = false, tpAddr = false;
  let arpSha = false, arpTha = false, ipv6 = false, ndTarget = false;
  if (dlType === ETH_TYPE_IP) {
    nwProto = ipvx = nwAddr = true;
    tpAddr = proto === IPPROTO_TCP || proto === IPPROTO_UDP || proto === IPPROTO_SCTP ||
      proto === IPPROTO_ICMP;
  } else if (dlType === ETH_TYPE_IPV6) {
    nwProto = ipvx = ipv6 = true;
    tpAddr = proto === IPPROTO_TCP || proto === IPPROTO_UDP || proto === IPPROTO_SCTP ||
      proto === IPPROTO_ICMPV6;
    if (proto === IPPROTO_ICMPV6) {
      const type = getUint(k, F.tp_src.off, 2);
      ndTarget = type === ND_NEIGHBOR_SOLICIT || type === ND_NEIGHBOR_ADVERT;
      arpSha = type === ND_NEIGHBOR_SOLICIT;
      arpTha = type === ND_NEIGHBOR_ADVERT;
    }
  } else if (dlType === ETH_TYPE_ARP || dlType === ETH_TYPE_RARP) {
    nwProto =
      nwAddr =
      arpSha =
      arpTha =
        true;
  }
  if (!nwAddr) clear(w, F.nw_src.off, 8);
  if (!tpAddr) clear(w, F.tp_src.off, 4);
  if (!nwProto) clear(w, F.nw_proto.off, 1);
  if (!ipvx) {
    clear(w, F.nw_tos.off, 2);
  }
  if (!arpSha) clear(w, F.arp_sha.off, 6);
  if (!arpTha) clear(w, F.arp_tha.off, 6);
  if (!ndTarget) clear(w, F.nd_target.off, 16);
  if (!ipv6) {
    clear(w, F.ipv6_src.off, 32);
    clear(w, F.ipv6_label.off, 4);
  }
  if (!(ipvx && proto === IPPROTO_TCP)) clear(w, F.tcp_flags.off, 2);
  // The original direction's ports travel only with a nonzero protocol (nx_put_raw).
  if (!k[F.ct_nw_proto.off]) {
    clear(w, F.ct_nw_proto.off, 1);
    clear(w, F.ct_tp_src.off, 4);
  }
  for (let i = 0; i < m.key.length; i++) m.key[i] &= m.mask[i];
}

/**
 * The match after a trip as NXM or OXM (anything but an OpenFlow 1.0
 * ofp_match; nx_put_raw): nw_frag goes only with IP (`nw_frag=no` alone
 * reads back as nothing), and ICMP and ICMPv6 type and code travel as
 * 1-byte fields without a mask (nxm_put_8m), so `icmp6,tp_src=4096`
 * reads back as `icmp_type=0` and `icmp6,tp_src=0x10/0xfff0` as
 * `icmp_type=16`.
 */
export function matchOverNxm(m: Match): Match {
  const k = bytesOf(m.key), w = bytesOf(m.mask);
  const dlType = getUint(k, F.dl_type.off, 2), proto = k[F.nw_proto.off];
  const ip = dlType === ETH_TYPE_IP || dlType === ETH_TYPE_IPV6;
  const icmp = (dlType === ETH_TYPE_IP && proto === IPPROTO_ICMP) ||
    (dlType === ETH_TYPE_IPV6 && proto === IPPROTO_ICMPV6);
  if (!icmp && (ip || !w[F.nw_frag.off])) return m;
  const out = cloneMatch(m);
  const ok = bytesOf(out.key), ow = bytesOf(out.mask);
  if (!ip) ok[F.nw_frag.off] = ow[F.nw_frag.off] = 0;
  if (!icmp) return out;
  // The fields have no mask: any bit of the low byte matched makes it exact.
  for (const off of [F.tp_src.off, F.tp_dst.off]) {
    const exact = (getUint(ow, off, 2) & 0xff) !== 0;
    setUint(ow, off, 2, exact ? 0xffff : 0);
    setUint(ok, off, 2, exact ? getUint(ok, off, 2) & 0xff : 0);
  }
  return out;
}

/**
 * The match as it comes back from an OXM (OpenFlow 1.2+) flow stats reply:
 * the VLAN TCI travels as VLAN_VID (VID and present bit) plus an exact
 * VLAN_PCP only when a VLAN is required, so `vlan_tci=0` reads back as
 * `vlan_tci=0x0000/0x1fff` (nx_put_raw).
 */
export function oxmRoundTrip(m: Match): Match {
  const w = bytesOf(m.mask);
  const tciMask = getUint(w, F.vlan0_tci.off, 2);
  if (!tciMask) return m;
  const k = bytesOf(m.key);
  const tci = getUint(k, F.vlan0_tci.off, 2);
  const vidMask = tciMask & 0x1fff;
  const newMask = vidMask | ((tci & vidMask) && (tciMask & 0xe000) ? 0xe000 : 0);
  if (newMask === tciMask) return m;
  const out = cloneMatch(m);
  setUint(bytesOf(out.mask), F.vlan0_tci.off, 2, newMask);
  setUint(bytesOf(out.key), F.vlan0_tci.off, 2, tci & newMask);
  return out;
}

/**
 * The match as OVS stores it after ovs-ofctl sent it in an OpenFlow 1.0
 * ofp_match (only when `fitsOf10`): "VID 0, no VLAN" becomes
 * dl_vlan=OFP_VLAN_NONE and comes back as an exact `vlan_tci=0x0000`.
 */
export function of10RoundTrip(m: Match): Match {
  const w = bytesOf(m.mask);
  const tciMask = getUint(w, F.vlan0_tci.off, 2);
  const tci = getUint(bytesOf(m.key), F.vlan0_tci.off, 2);
  if (!(tciMask & VLAN_CFI) || (tci & VLAN_CFI) || tciMask === 0xffff) return m;
  const out = cloneMatch(m);
  setUint(bytesOf(out.mask), F.vlan0_tci.off, 2, 0xffff);
  return out;
}

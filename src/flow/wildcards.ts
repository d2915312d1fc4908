/**
 * The exact-match mask of a packet's key: every field the packet has,
 * and nothing it lacks (OVS's flow_wildcards_init_for_packet). The
 * datapath uses it for a flow installed without a mask, which is what
 * handlers do when megaflows are disabled.
 */
import type { FlowKey } from "./key.ts";
import { viewOf } from "./_bytes.ts";
import {
  F,
  type FieldSpan,
  FRAG_LATER,
  FRAG_MASK,
  METADATA_FIELDS,
  PT_ETH,
  vlanOffset,
} from "./layout.ts";
import {
  ETH_TYPE_ARP,
  ETH_TYPE_IP,
  ETH_TYPE_IPV6,
  ETH_TYPE_RARP,
  ethTypeMpls,
  IPPROTO_ICMP,
  IPPROTO_ICMPV6,
  IPPROTO_IGMP,
  IPPROTO_SCTP,
  IPPROTO_TCP,
  IPPROTO_UDP,
  MPLS_BOS_MASK,
  ND_NEIGHBOR_ADVERT,
  ND_NEIGHBOR_SOLICIT,
} from "../packet/mod.ts";

function exact(m: Uint8Array, s: FieldSpan): void {
  m.fill(0xff, s.off, s.off + s.len);
}

const u16 = (b: Uint8Array, o: number) => (b[o] << 8) | b[o + 1];

/** Fills `mask` with the exact-match mask for `key`. */
export function wildcardsForPacket(key: FlowKey, mask: FlowKey): void {
  mask.fill(0);
  const m = viewOf(mask);
  const k = viewOf(key);
  for (const s of METADATA_FIELDS) exact(m, s);
  const pt = ((k[F.packet_type.off] << 24) | (k[F.packet_type.off + 1] << 16) |
    u16(k, F.packet_type.off + 2)) >>> 0;
  let dlType: number;
  if (pt === PT_ETH) {
    exact(m, F.dl_dst);
    exact(m, F.dl_src);
    exact(m, F.dl_type);
    for (let i = 0; i < 2; i++) {
      m.fill(0xff, vlanOffset(i), vlanOffset(i) + 4);
      if (u16(k, vlanOffset(i) + 2) === 0) break;
    }
    dlType = u16(k, F.dl_type.off);
  } else {
    dlType = pt & 0xffff;
  }
  if (dlType === ETH_TYPE_IP) {
    exact(m, F.nw_src);
    exact(m, F.nw_dst);
    exact(m, F.ct_nw_src);
    exact(m, F.ct_nw_dst);
  } else if (dlType === ETH_TYPE_IPV6) {
    exact(m, F.ipv6_src);
    exact(m, F.ipv6_dst);
    exact(m, F.ipv6_label);
    const type = u16(k, F.tp_src.off);
    const isNd = k[F.nw_proto.off] === IPPROTO_ICMPV6 && u16(k, F.tp_dst.off) === 0 &&
      (type === ND_NEIGHBOR_SOLICIT || type === ND_NEIGHBOR_ADVERT);
    if (isNd) {
      exact(m, F.arp_sha);
      exact(m, F.arp_tha);
      exact(m, F.nd_target);
    } else {
      exact(m, F.ct_ipv6_src);
      exact(m, F.ct_ipv6_dst);
    }
  } else if (dlType === ETH_TYPE_ARP || dlType === ETH_TYPE_RARP) {
    exact(m, F.nw_src);
    exact(m, F.nw_dst);
    exact(m, F.nw_proto);
    exact(m, F.arp_sha);
    exact(m, F.arp_tha);
    return;
  } else if (ethTypeMpls(dlType)) {
    for (let i = 0; i < 3; i++) {
      const o = F.mpls_lse.off + 4 * i;
      m.fill(0xff, o, o + 4);
      if (k[o + 2] & (MPLS_BOS_MASK >> 8)) break;
    }
    return;
  } else {
    return;
  }
  m[F.nw_frag.off] = FRAG_MASK;
  exact(m, F.nw_tos);
  exact(m, F.nw_ttl);
  exact(m, F.nw_proto);
  exact(m, F.ct_nw_proto);
  exact(m, F.ct_tp_src);
  exact(m, F.ct_tp_dst);
  const proto = k[F.nw_proto.off];
  if (
    !(k[F.nw_frag.off] & FRAG_LATER) &&
    (proto === IPPROTO_ICMP || proto === IPPROTO_ICMPV6 || proto === IPPROTO_TCP ||
      proto === IPPROTO_UDP || proto === IPPROTO_SCTP || proto === IPPROTO_IGMP)
  ) {
    exact(m, F.tp_src);
    exact(m, F.tp_dst);
    if (proto === IPPROTO_TCP) exact(m, F.tcp_flags);
    else if (proto === IPPROTO_IGMP) exact(m, F.igmp_group_ip4);
  }
}

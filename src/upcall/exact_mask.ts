/**
 * The mask of an exact-match datapath flow (flow_wildcards_init_for_packet):
 * what a flow matches when megaflows are disabled. Every field the packet
 * actually has is exact; fields it cannot have (an inner VLAN that is not
 * there, L4 ports of a later fragment), metadata, registers, conj_id and
 * actset_output stay wildcarded.
 */
import { exactField, getField } from "../flow/key.ts";
import type { FlowKey } from "../flow/key.ts";
import { F, FRAG_LATER, FRAG_MASK, PT_ETH, vlanOffset } from "../flow/layout.ts";

const ETH_TYPE_IP = 0x0800;
const ETH_TYPE_IPV6 = 0x86dd;
const ETH_TYPE_ARP = 0x0806;
const ETH_TYPE_RARP = 0x8035;
const ETH_TYPE_MPLS = 0x8847;
const ETH_TYPE_MPLS_MCAST = 0x8848;
const ETH_TYPE_NSH = 0x894f;
const IPPROTO_ICMP = 1;
const IPPROTO_IGMP = 2;
const IPPROTO_TCP = 6;
const IPPROTO_UDP = 17;
const IPPROTO_ICMPV6 = 58;
const IPPROTO_SCTP = 132;
const MPLS_BOS = 0x100;

function bytes(k: FlowKey): Uint8Array {
  return new Uint8Array(k.buffer, k.byteOffset, k.byteLength);
}

/** Sets `mask` to the exact-match mask for the packet whose flow is `key`. */
export function exactMaskForPacket(mask: FlowKey, key: FlowKey): void {
  mask.fill(0);
  const k = bytes(key);
  const m = bytes(mask);
  for (
    const s of [
      F.skb_priority,
      F.pkt_mark,
      F.ct_state,
      F.ct_zone,
      F.ct_mark,
      F.ct_label,
      F.recirc_id,
      F.dp_hash,
      F.in_port,
      F.packet_type,
    ]
  ) exactField(m, s);

  let dlType: number;
  if (getField(k, F.packet_type) === PT_ETH) {
    exactField(m, F.dl_dst);
    exactField(m, F.dl_src);
    exactField(m, F.dl_type);
    for (let i = 0; i < 2; i++) {
      const off = vlanOffset(i);
      m.fill(0xff, off, off + 4);
      if (((k[off + 2] << 8) | k[off + 3]) === 0) break;
    }
    dlType = getField(k, F.dl_type);
  } else {
    dlType = getField(k, F.packet_type) & 0xffff;
  }

  const proto = getField(k, F.nw_proto);
  if (dlType === ETH_TYPE_IP) {
    exactField(m, F.nw_src);
    exactField(m, F.nw_dst);
    exactField(m, F.ct_nw_src);
    exactField(m, F.ct_nw_dst);
  } else if (dlType === ETH_TYPE_IPV6) {
    exactField(m, F.ipv6_src);
    exactField(m, F.ipv6_dst);
    exactField(m, F.ipv6_label);
    const tpSrc = getField(k, F.tp_src);
    const nd = proto === IPPROTO_ICMPV6 && getField(k, F.tp_dst) === 0 &&
      (tpSrc === 135 || tpSrc === 136);
    if (nd) {
      exactField(m, F.arp_sha);
      exactField(m, F.arp_tha);
      exactField(m, F.nd_target);
    } else {
      exactField(m, F.ct_ipv6_src);
      exactField(m, F.ct_ipv6_dst);
    }
  } else if (dlType === ETH_TYPE_ARP || dlType === ETH_TYPE_RARP) {
    exactField(m, F.nw_src);
    exactField(m, F.nw_dst);
    exactField(m, F.nw_proto);
    exactField(m, F.arp_sha);
    exactField(m, F.arp_tha);
    return;
  } else if (dlType === ETH_TYPE_MPLS || dlType === ETH_TYPE_MPLS_MCAST) {
    for (let i = 0; i < 3; i++) {
      const off = F.mpls_lse.off + 4 * i;
      m.fill(0xff, off, off + 4);
      if (((k[off + 2] << 8) | k[off + 3]) & MPLS_BOS) break;
    }
    return;
  } else if (dlType === ETH_TYPE_NSH) {
    exactField(m, F.nsh);
  } else {
    return;
  }

  m[F.nw_frag.off] = FRAG_MASK;
  exactField(m, F.nw_tos);
  exactField(m, F.nw_ttl);
  exactField(m, F.nw_proto);
  exactField(m, F.ct_nw_proto);
  exactField(m, F.ct_tp_src);
  exactField(m, F.ct_tp_dst);
  if (
    !(getField(k, F.nw_frag) & FRAG_LATER) &&
    (proto === IPPROTO_ICMP || proto === IPPROTO_ICMPV6 || proto === IPPROTO_TCP ||
      proto === IPPROTO_UDP || proto === IPPROTO_SCTP || proto === IPPROTO_IGMP)
  ) {
    exactField(m, F.tp_src);
    exactField(m, F.tp_dst);
    if (proto === IPPROTO_TCP) exactField(m, F.tcp_flags);
    else if (proto === IPPROTO_IGMP) exactField(m, F.igmp_group_ip4);
  }
}

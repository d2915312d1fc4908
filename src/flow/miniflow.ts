/**
 * `dp-extra-info:miniflow_bits(A,B)`: how many 64-bit words of OVS's
 * `struct flow` a datapath flow's mask keeps, in miniflow map unit 0
 * (words 0..63) and unit 1 (words 64..83). Our key starts at word 43 of
 * struct flow (after the tunnel), so key word i is flow word 43 + i.
 *
 * Like netdev_flow_mask_init, only words that can matter for the flow's
 * packet type count (flow_wc_map of the key, when one is given), and
 * in_port never does: the userspace datapath picks its classifier by port
 * and leaves in_port out of the stored mask.
 */
import type { FlowKey } from "./key.ts";
import { F, type FieldSpan, FLOW_WORDS, MAP_UNIT_BITS, OVS_TUNNEL_BYTES } from "./layout.ts";
import { viewOf } from "./_bytes.ts";
import {
  ETH_TYPE_ARP,
  ETH_TYPE_IP,
  ETH_TYPE_IPV6,
  ETH_TYPE_RARP,
  ethTypeMpls,
  IPPROTO_ICMPV6,
  IPPROTO_IGMP,
  ND_NEIGHBOR_ADVERT,
  ND_NEIGHBOR_SOLICIT,
} from "../packet/mod.ts";

const FIRST_U64 = OVS_TUNNEL_BYTES / 8;
const IN_PORT_WORD = F.in_port.off / 4;
const N_U64 = FLOW_WORDS / 2;

const ALWAYS = [
  F.skb_priority,
  F.pkt_mark,
  F.recirc_id,
  F.dp_hash,
  F.in_port,
  F.dl_dst,
  F.dl_src,
  F.dl_type,
  { off: F.vlan0_tpid.off, len: 8 },
  F.ct_state,
  F.ct_zone,
  F.ct_mark,
  F.ct_label,
  F.packet_type,
];
const IP_COMMON = [F.nw_proto, F.nw_frag, F.nw_tos, F.nw_ttl, F.tp_src, F.tp_dst];
const IPV4 = [
  F.nw_src,
  F.nw_dst,
  F.ct_nw_proto,
  F.ct_nw_src,
  F.ct_nw_dst,
  F.ct_tp_src,
  F.ct_tp_dst,
];
const IPV6 = [F.ipv6_src, F.ipv6_dst, F.ipv6_label];
const ND = [F.nd_target, F.arp_sha, F.arp_tha, F.tcp_flags, F.igmp_group_ip4];
const IPV6_NOT_ND = [
  F.ct_nw_proto,
  F.ct_ipv6_src,
  F.ct_ipv6_dst,
  F.ct_tp_src,
  F.ct_tp_dst,
  F.tcp_flags,
];
const ARP = [F.nw_src, F.nw_dst, F.nw_proto, F.arp_sha, F.arp_tha];

const inMap = new Uint8Array(N_U64);

function mark(spans: readonly FieldSpan[]): void {
  for (const s of spans) {
    for (let w = s.off >> 3; w <= (s.off + s.len - 1) >> 3; w++) inMap[w] = 1;
  }
}

/** Marks the 64-bit key words flow_wc_map would give a flow like `key`. */
function wcMap(key: FlowKey): void {
  inMap.fill(0);
  const k = viewOf(key);
  mark(ALWAYS);
  const dl = (k[F.dl_type.off] << 8) | k[F.dl_type.off + 1];
  const proto = k[F.nw_proto.off];
  if (dl === ETH_TYPE_IP) {
    mark(IPV4);
    mark(IP_COMMON);
    mark(proto === IPPROTO_IGMP ? [F.igmp_group_ip4] : [F.tcp_flags]);
  } else if (dl === ETH_TYPE_IPV6) {
    mark(IPV6);
    mark(IP_COMMON);
    const type = (k[F.tp_src.off] << 8) | k[F.tp_src.off + 1];
    const code = (k[F.tp_dst.off] << 8) | k[F.tp_dst.off + 1];
    const nd = proto === IPPROTO_ICMPV6 && code === 0 &&
      (type === ND_NEIGHBOR_SOLICIT || type === ND_NEIGHBOR_ADVERT);
    mark(nd ? ND : IPV6_NOT_ND);
  } else if (ethTypeMpls(dl)) {
    mark([F.mpls_lse]);
  } else if (dl === ETH_TYPE_ARP || dl === ETH_TYPE_RARP) {
    mark(ARP);
  }
}

/**
 * Counts into out[0] and out[1]. With `key`, only words flow_wc_map(key)
 * holds count; without, every nonzero word of the mask does.
 */
export function miniflowBits(
  mask: FlowKey,
  key: FlowKey | null = null,
  out: Uint32Array | number[] = [0, 0],
): typeof out {
  if (key) wcMap(key);
  out[0] = 0;
  out[1] = 0;
  for (let w = 0; w < N_U64; w++) {
    if (key && !inMap[w]) continue;
    const hi = 2 * w === IN_PORT_WORD ? 0 : mask[2 * w];
    const lo = 2 * w + 1 === IN_PORT_WORD ? 0 : mask[2 * w + 1];
    if (hi === 0 && lo === 0) continue;
    out[FIRST_U64 + w < MAP_UNIT_BITS ? 0 : 1]++;
  }
  return out;
}

export function miniflowBitsInfo(mask: FlowKey, key: FlowKey | null = null): string {
  const b = miniflowBits(mask, key);
  return `miniflow_bits(${b[0]},${b[1]})`;
}

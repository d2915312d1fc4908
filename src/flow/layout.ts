/**
 * The flow key layout: byte for byte the part of OVS's `struct flow` that
 * follows the tunnel metadata (OVS 3.1, include/openvswitch/flow.h), so
 * that a mask's nonzero 64-bit words are the same words OVS's miniflow map
 * would hold (`dp-extra-info:miniflow_bits(A,B)` is derived from that).
 *
 * Every multi-byte field is stored big-endian in its bytes, whatever its
 * byte order in OVS: keys are compared, masked and hashed as whole words
 * and read as numbers only through the accessors in key.ts.
 */

/** Bytes of OVS's `struct flow` before `metadata` (struct flow_tnl). */
export const OVS_TUNNEL_BYTES = 344;
/** 64-bit words of `struct flow` (FLOW_U64S) and of a miniflow map unit. */
export const OVS_FLOW_U64S = 84;
export const MAP_UNIT_BITS = 64;

export const FLOW_BYTES = 328;
export const FLOW_WORDS = FLOW_BYTES / 4;

export interface FieldSpan {
  readonly off: number;
  readonly len: number;
}

const f = (off: number, len: number): FieldSpan => ({ off, len });

/** Byte offsets of every field, relative to the start of a key. */
export const F = {
  metadata: f(0, 8),
  regs: f(8, 64),
  skb_priority: f(72, 4),
  pkt_mark: f(76, 4),
  dp_hash: f(80, 4),
  in_port: f(84, 4),
  recirc_id: f(88, 4),
  ct_state: f(92, 1),
  ct_nw_proto: f(93, 1),
  ct_zone: f(94, 2),
  ct_mark: f(96, 4),
  packet_type: f(100, 4),
  ct_label: f(104, 16),
  conj_id: f(120, 4),
  actset_output: f(124, 4),
  dl_dst: f(128, 6),
  dl_src: f(134, 6),
  dl_type: f(140, 2),
  vlan0_tpid: f(144, 2),
  vlan0_tci: f(146, 2),
  vlan1_tpid: f(148, 2),
  vlan1_tci: f(150, 2),
  mpls_lse: f(152, 16),
  nw_src: f(168, 4),
  nw_dst: f(172, 4),
  ct_nw_src: f(176, 4),
  ct_nw_dst: f(180, 4),
  ipv6_src: f(184, 16),
  ipv6_dst: f(200, 16),
  ct_ipv6_src: f(216, 16),
  ct_ipv6_dst: f(232, 16),
  ipv6_label: f(248, 4),
  nw_frag: f(252, 1),
  nw_tos: f(253, 1),
  nw_ttl: f(254, 1),
  nw_proto: f(255, 1),
  nd_target: f(256, 16),
  arp_sha: f(272, 6),
  arp_tha: f(278, 6),
  tcp_flags: f(284, 2),
  nsh: f(288, 24),
  tp_src: f(312, 2),
  tp_dst: f(314, 2),
  ct_tp_src: f(316, 2),
  ct_tp_dst: f(318, 2),
  igmp_group_ip4: f(320, 4),
} as const;

export type FieldName = keyof typeof F;

/** Byte offset of register `i` (reg0..reg15). */
export const regOffset = (i: number): number => F.regs.off + 4 * i;
/** Byte offset of VLAN header `i` (0 outer, 1 inner): tpid, then tci. */
export const vlanOffset = (i: number): number => F.vlan0_tpid.off + 4 * i;
/** Byte offset of MPLS label stack entry `i` (0..2). */
export const mplsOffset = (i: number): number => F.mpls_lse.off + 4 * i;

/**
 * The metadata a datapath key always carries, whatever the packet (the
 * attributes before eth() in odp_flow_key_from_flow).
 */
export const METADATA_FIELDS: readonly FieldSpan[] = [
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
];

/** nw_frag bits (FLOW_NW_FRAG_*). */
export const FRAG_ANY = 1;
export const FRAG_LATER = 2;
export const FRAG_MASK = FRAG_ANY | FRAG_LATER;

/** The CFI bit marks a present VLAN header in a tci (VLAN_CFI). */
export const VLAN_CFI = 0x1000;
export const VLAN_VID_MASK = 0x0fff;
export const VLAN_PCP_MASK = 0xe000;
export const VLAN_PCP_SHIFT = 13;

/** packet_type for Ethernet frames: PACKET_TYPE(OFPHTN_ONF, 0). */
export const PT_ETH = 0;

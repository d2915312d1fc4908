/**
 * Wire constants of the headers the flow layer understands. Values and
 * sizes are the protocol's, named the way OVS's lib/packets.h names them
 * so that a reader can follow both side by side.
 */

export const ETH_ADDR_LEN = 6;
export const ETH_HEADER_LEN = 14;
export const VLAN_HEADER_LEN = 4;
export const MPLS_HLEN = 4;
export const LLC_SNAP_HEADER_LEN = 8;
export const ARP_ETH_HEADER_LEN = 28;
export const IP_HEADER_LEN = 20;
export const IPV6_HEADER_LEN = 40;
export const TCP_HEADER_LEN = 20;
export const UDP_HEADER_LEN = 8;
export const SCTP_HEADER_LEN = 12;
export const ICMP_HEADER_LEN = 8;
export const IGMP_HEADER_LEN = 8;
export const ICMP6_HEADER_LEN = 8;

/** Ethertypes below this are 802.3 lengths, not types. */
export const ETH_TYPE_MIN = 0x600;
export const ETH_TYPE_IP = 0x0800;
export const ETH_TYPE_ARP = 0x0806;
export const ETH_TYPE_TEB = 0x6558;
export const ETH_TYPE_VLAN_8021Q = 0x8100;
export const ETH_TYPE_VLAN_8021AD = 0x88a8;
export const ETH_TYPE_IPV6 = 0x86dd;
export const ETH_TYPE_LACP = 0x8809;
export const ETH_TYPE_RARP = 0x8035;
export const ETH_TYPE_MPLS = 0x8847;
export const ETH_TYPE_MPLS_MCAST = 0x8848;
export const ETH_TYPE_NSH = 0x894f;
/** dl_type of a frame with no Ethernet II type (802.3 without SNAP). */
export const FLOW_DL_TYPE_NONE = 0x5ff;

export const IPPROTO_HOPOPTS = 0;
export const IPPROTO_ICMP = 1;
export const IPPROTO_IGMP = 2;
export const IPPROTO_TCP = 6;
export const IPPROTO_UDP = 17;
export const IPPROTO_ROUTING = 43;
export const IPPROTO_FRAGMENT = 44;
export const IPPROTO_GRE = 47;
export const IPPROTO_ESP = 50;
export const IPPROTO_AH = 51;
export const IPPROTO_ICMPV6 = 58;
export const IPPROTO_NONE = 59;
export const IPPROTO_DSTOPTS = 60;
export const IPPROTO_SCTP = 132;

export const IP_MORE_FRAGMENTS = 0x2000;
export const IP_DONT_FRAGMENT = 0x4000;
export const IP_FRAG_OFF_MASK = 0x1fff;
/** IPv6 fragment header: offset bits of ip6f_offlg. */
export const IP6F_OFF_MASK = 0xfff8;

export const ND_NEIGHBOR_SOLICIT = 135;
export const ND_NEIGHBOR_ADVERT = 136;
export const ND_OPT_SOURCE_LINKADDR = 1;
export const ND_OPT_TARGET_LINKADDR = 2;
export const ND_LLA_OPT_LEN = 8;

export const TCP_FIN = 0x001;
export const TCP_SYN = 0x002;
export const TCP_RST = 0x004;
export const TCP_PSH = 0x008;
export const TCP_ACK = 0x010;
export const TCP_URG = 0x020;
export const TCP_ECE = 0x040;
export const TCP_CWR = 0x080;
export const TCP_NS = 0x100;
/** The 12 bits of a TCP header's offset/flags word that are flags. */
export const TCP_FLAGS_MASK = 0x0fff;

export const MPLS_LABEL_SHIFT = 12;
export const MPLS_TC_SHIFT = 9;
export const MPLS_BOS_SHIFT = 8;
export const MPLS_BOS_MASK = 0x100;

export function ethTypeVlan(t: number): boolean {
  return t === ETH_TYPE_VLAN_8021Q || t === ETH_TYPE_VLAN_8021AD;
}

export function ethTypeMpls(t: number): boolean {
  return t === ETH_TYPE_MPLS || t === ETH_TYPE_MPLS_MCAST;
}

/** Big-endian reads from a byte array: the header fields' byte order. */
export function be16(b: Uint8Array, off: number): number {
  return (b[off] << 8) | b[off + 1];
}

export function be32(b: Uint8Array, off: number): number {
  return ((b[off] << 24) | (b[off + 1] << 16) | (b[off + 2] << 8) | b[off + 3]) >>> 0;
}

export function putBe16(b: Uint8Array, off: number, v: number): void {
  b[off] = v >>> 8;
  b[off + 1] = v;
}

export function putBe32(b: Uint8Array, off: number, v: number): void {
  b[off] = v >>> 24;
  b[off + 1] = v >>> 16;
  b[off + 2] = v >>> 8;
  b[off + 3] = v;
}

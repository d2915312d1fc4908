/**
 * Which bytes of the flow key each settable datapath key attribute
 * covers. A set action carries just these bytes (of key and mask); the
 * binary action encoding stores them in this order, and executing a set
 * rewrites the packet fields they stand for.
 */
import type { OdpSetAttr } from "./odp_action.ts";
import { F, type FieldSpan } from "./layout.ts";

const s = (off: number, len: number): FieldSpan => ({ off, len });

/** Attribute index <-> name, for the binary encoding. */
export const SET_ATTRS: readonly OdpSetAttr[] = [
  "skb_priority",
  "skb_mark",
  "eth",
  "mpls",
  "ipv4",
  "ipv6",
  "tcp",
  "udp",
  "sctp",
  "icmp",
  "icmpv6",
  "arp",
  "nd",
  "nd_ext",
];

export const SET_ATTR_SPANS: Readonly<Record<OdpSetAttr, readonly FieldSpan[]>> = {
  skb_priority: [F.skb_priority],
  skb_mark: [F.pkt_mark],
  eth: [s(F.dl_dst.off, 12)],
  mpls: [s(F.mpls_lse.off, 4)],
  ipv4: [s(F.nw_src.off, 8), s(F.nw_frag.off, 4)],
  ipv6: [s(F.ipv6_src.off, 32), s(F.ipv6_label.off, 8)],
  tcp: [s(F.tp_src.off, 4)],
  udp: [s(F.tp_src.off, 4)],
  sctp: [s(F.tp_src.off, 4)],
  icmp: [s(F.tp_src.off + 1, 1), s(F.tp_dst.off + 1, 1)],
  icmpv6: [s(F.tp_src.off + 1, 1), s(F.tp_dst.off + 1, 1)],
  arp: [s(F.nw_src.off, 8), s(F.nw_proto.off, 1), s(F.arp_sha.off, 12)],
  nd: [s(F.nd_target.off, 16), s(F.arp_sha.off, 12)],
  // struct flow keeps ND's reserved word in igmp_group_ip4 and the option
  // type in tcp_flags' low byte.
  nd_ext: [F.igmp_group_ip4, s(F.tcp_flags.off + 1, 1)],
};

/** Bytes a set attribute's key (or mask) takes in the binary encoding. */
export function setAttrBytes(attr: OdpSetAttr): number {
  let n = 0;
  for (const sp of SET_ATTR_SPANS[attr]) n += sp.len;
  return n;
}

/**
 * Whether a mask covers every field of the attribute, so that OVS would
 * use a plain set rather than a masked one. nw_frag counts as covered when
 * its "is a fragment" bit is, the way the datapath's frag enum does.
 */
export function setMaskIsExact(attr: OdpSetAttr, mask: Uint8Array): boolean {
  for (const sp of SET_ATTR_SPANS[attr]) {
    for (let i = sp.off; i < sp.off + sp.len; i++) {
      if (i === F.nw_frag.off && (attr === "ipv4" || attr === "ipv6")) {
        if (!(mask[i] & 1)) return false;
      } else if (mask[i] !== 0xff) return false;
    }
  }
  return true;
}

/**
 * The mask a datapath actually keeps for a megaflow: OVS hands the
 * datapath a key and mask as netlink attributes (odp_flow_key_from_mask)
 * and the datapath rebuilds its mask from them (odp_flow_key_to_mask).
 * That round trip drops mask bits no attribute of the key carries (for
 * example ports of a later fragment, or the high byte of an ICMP type),
 * widens nw_frag to both bits, and turns "no VLAN attribute" into an
 * exact match on "no VLAN". `odpMaskNormalize` does the same without the
 * text or netlink in between, so the datapath stores, prints and counts
 * (miniflow_bits) the mask OVS would. Allocation-free.
 */
import type { FlowKey } from "./key.ts";
import { viewOf } from "./_bytes.ts";
import {
  F,
  type FieldSpan,
  FLOW_BYTES,
  FRAG_ANY,
  FRAG_LATER,
  FRAG_MASK,
  METADATA_FIELDS,
  PT_ETH,
  vlanOffset,
} from "./layout.ts";
import { getVlanLimit } from "./extract.ts";
import {
  ETH_TYPE_ARP,
  ETH_TYPE_IP,
  ETH_TYPE_IPV6,
  ETH_TYPE_MIN,
  ETH_TYPE_RARP,
  ethTypeMpls,
  ethTypeVlan,
  IPPROTO_ICMP,
  IPPROTO_ICMPV6,
  IPPROTO_SCTP,
  IPPROTO_TCP,
  IPPROTO_UDP,
  MPLS_BOS_MASK,
  ND_NEIGHBOR_ADVERT,
  ND_NEIGHBOR_SOLICIT,
} from "../packet/mod.ts";

const u16 = (b: Uint8Array, o: number) => (b[o] << 8) | b[o + 1];

function copy(o: Uint8Array, m: Uint8Array, s: FieldSpan): void {
  for (let i = s.off; i < s.off + s.len; i++) o[i] = m[i];
}

function ones(o: Uint8Array, off: number, len: number): void {
  for (let i = off; i < off + len; i++) o[i] = 0xff;
}

/** Writes into `out` the mask the datapath keeps for (key, mask). `out` may be `mask`. */
export function odpMaskNormalize(key: FlowKey, mask: FlowKey, out: FlowKey): void {
  const k = viewOf(key);
  const m0 = viewOf(mask);
  // Work on a copy when normalizing in place.
  const m = out === mask ? scratchOf(m0) : m0;
  out.fill(0);
  const o = viewOf(out);
  for (const s of METADATA_FIELDS) copy(o, m, s);
  const dlType = u16(k, F.dl_type.off);
  if (k[F.ct_nw_proto.off] !== 0 && (dlType === ETH_TYPE_IP || dlType === ETH_TYPE_IPV6)) {
    const v4 = dlType === ETH_TYPE_IP;
    for (
      const s of [
        v4 ? F.ct_nw_src : F.ct_ipv6_src,
        v4 ? F.ct_nw_dst : F.ct_ipv6_dst,
        F.ct_nw_proto,
        F.ct_tp_src,
        F.ct_tp_dst,
      ]
    ) copy(o, m, s);
  }
  const pt = ((k[F.packet_type.off] << 24) | (k[F.packet_type.off + 1] << 16) |
    u16(k, F.packet_type.off + 2)) >>> 0;
  let depth = 0;
  if (pt === PT_ETH) {
    copy(o, m, F.dl_dst);
    copy(o, m, F.dl_src);
    for (; depth < getVlanLimit(); depth++) {
      const vo = vlanOffset(depth);
      const tci = u16(k, vo + 2);
      if (tci === 0 && !ethTypeVlan(dlType)) break;
      if (tci === 0) {
        // A cut-short tag: only an outer one keeps its TCI mask.
        if (depth === 0) {
          ones(o, vo, 2);
          o[vo + 2] = m[vo + 2];
          o[vo + 3] = m[vo + 3];
        }
        ones(o, F.dl_type.off, 2);
        return;
      }
      ones(o, vo, 2);
      o[vo + 2] = m[vo + 2];
      o[vo + 3] = m[vo + 3];
    }
    // A missing VLAN attribute means an exact match on "no VLAN".
    if (depth === 0) ones(o, vlanOffset(0), 4);
  }
  if (dlType < ETH_TYPE_MIN) {
    ones(o, F.dl_type.off, 2);
    return;
  }
  copy(o, m, F.dl_type);
  if (ethTypeVlan(dlType)) return;
  if (dlType === ETH_TYPE_IP || dlType === ETH_TYPE_IPV6) {
    if (dlType === ETH_TYPE_IP) {
      copy(o, m, F.nw_src);
      copy(o, m, F.nw_dst);
    } else {
      copy(o, m, F.ipv6_src);
      copy(o, m, F.ipv6_dst);
      copy(o, m, F.ipv6_label);
    }
    copy(o, m, F.nw_proto);
    copy(o, m, F.nw_tos);
    copy(o, m, F.nw_ttl);
    o[F.nw_frag.off] = m[F.nw_frag.off] & FRAG_ANY ? FRAG_MASK : 0;
    if (!(k[F.nw_frag.off] & FRAG_LATER)) l4(k, m, o, dlType);
  } else if (dlType === ETH_TYPE_ARP || dlType === ETH_TYPE_RARP) {
    for (const s of [F.nw_src, F.nw_dst, F.nw_proto, F.arp_sha, F.arp_tha]) copy(o, m, s);
  } else if (ethTypeMpls(dlType)) {
    copy(o, m, { off: F.mpls_lse.off, len: 4 * mplsCount(k) });
  }
}

/** flow_count_mpls_labels: up to bottom of stack, else the nonzero entries. */
function mplsCount(k: Uint8Array): number {
  let n = 0;
  for (let i = 0; i < 3; i++) {
    const o = F.mpls_lse.off + 4 * i;
    if (k[o + 2] & (MPLS_BOS_MASK >> 8)) return i + 1;
    if (k[o] | k[o + 1] | k[o + 2] | k[o + 3]) n++;
  }
  return n;
}

function l4(k: Uint8Array, m: Uint8Array, o: Uint8Array, dlType: number): void {
  const proto = k[F.nw_proto.off];
  if (proto === IPPROTO_TCP || proto === IPPROTO_UDP || proto === IPPROTO_SCTP) {
    copy(o, m, F.tp_src);
    copy(o, m, F.tp_dst);
    if (proto === IPPROTO_TCP) copy(o, m, F.tcp_flags);
  } else if (
    (dlType === ETH_TYPE_IP && proto === IPPROTO_ICMP) ||
    (dlType === ETH_TYPE_IPV6 && proto === IPPROTO_ICMPV6)
  ) {
    // The datapath keeps 8-bit ICMP type and code.
    o[F.tp_src.off + 1] = m[F.tp_src.off + 1];
    o[F.tp_dst.off + 1] = m[F.tp_dst.off + 1];
    const type = u16(k, F.tp_src.off);
    const nd = proto === IPPROTO_ICMPV6 && u16(k, F.tp_dst.off) === 0 &&
      (type === ND_NEIGHBOR_SOLICIT || type === ND_NEIGHBOR_ADVERT);
    if (nd && u16(m, F.tp_src.off) === 0xff && u16(m, F.tp_dst.off) === 0xff) {
      copy(o, m, F.nd_target);
      copy(o, m, F.arp_sha);
      copy(o, m, F.arp_tha);
    }
  }
}

const scratch = new Uint8Array(FLOW_BYTES);

function scratchOf(m: Uint8Array): Uint8Array {
  for (let i = 0; i < scratch.length; i++) scratch[i] = m[i];
  return scratch;
}

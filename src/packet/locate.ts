/**
 * Header offsets of a frame, found once so that actions can rewrite
 * headers in place: where the VLAN tags end, where L3 and L4 start and
 * which L4 protocol it is. Writes into a caller's Int32Array; -1 marks a
 * header the frame does not have (or has cut short).
 */
import {
  be16,
  ETH_HEADER_LEN,
  ETH_TYPE_ARP,
  ETH_TYPE_IP,
  ETH_TYPE_IPV6,
  ETH_TYPE_RARP,
  ethTypeMpls,
  ethTypeVlan,
  IP6F_OFF_MASK,
  IP_FRAG_OFF_MASK,
  IPPROTO_AH,
  IPPROTO_DSTOPTS,
  IPPROTO_FRAGMENT,
  IPPROTO_HOPOPTS,
  IPPROTO_ROUTING,
} from "./headers.ts";

/** Offset of the Ethertype after the VLAN tags. */
export const HDR_ETHTYPE = 0;
/** Offset of the first MPLS label, or -1. */
export const HDR_MPLS = 1;
export const HDR_L3 = 2;
/** Offset of the transport header (not for later fragments), or -1. */
export const HDR_L4 = 3;
export const HDR_L4_PROTO = 4;
export const HDR_DL_TYPE = 5;
export const HDR_SLOTS = 6;

export function newHeaderOffsets(): Int32Array {
  return new Int32Array(HDR_SLOTS);
}

export function locateHeaders(p: Uint8Array, len: number, out: Int32Array): void {
  out.fill(-1);
  if (len < ETH_HEADER_LEN) return;
  let o = 12;
  while (ethTypeVlan(be16(p, o)) && o + 6 <= len) o += 4;
  out[HDR_ETHTYPE] = o;
  const dl = be16(p, o);
  out[HDR_DL_TYPE] = dl;
  o += 2;
  if (ethTypeMpls(dl)) {
    if (o + 4 <= len) out[HDR_MPLS] = o;
    return;
  }
  if (dl === ETH_TYPE_ARP || dl === ETH_TYPE_RARP) {
    if (o + 28 <= len) out[HDR_L3] = o;
    return;
  }
  if (dl === ETH_TYPE_IP) {
    if (o + 20 > len) return;
    out[HDR_L3] = o;
    const ihl = (p[o] & 15) * 4;
    out[HDR_L4_PROTO] = p[o + 9];
    if (ihl < 20 || o + ihl > len || (be16(p, o + 6) & IP_FRAG_OFF_MASK)) return;
    out[HDR_L4] = o + ihl;
  } else if (dl === ETH_TYPE_IPV6) {
    if (o + 40 > len) return;
    out[HDR_L3] = o;
    let nxt = p[o + 6];
    let q = o + 40;
    for (;;) {
      if (
        nxt !== IPPROTO_HOPOPTS && nxt !== IPPROTO_ROUTING && nxt !== IPPROTO_DSTOPTS &&
        nxt !== IPPROTO_AH && nxt !== IPPROTO_FRAGMENT
      ) break;
      if (q + 8 > len) return;
      const n = p[q];
      if (nxt === IPPROTO_FRAGMENT) {
        if (be16(p, q + 2) & IP6F_OFF_MASK) return;
        q += 8;
      } else if (nxt === IPPROTO_AH) q += (p[q + 1] + 2) * 4;
      else q += (p[q + 1] + 1) * 8;
      nxt = n;
    }
    out[HDR_L4_PROTO] = nxt;
    if (q <= len) out[HDR_L4] = q;
  }
}

/**
 * Runs a datapath `set`/`set_masked` action on a packet: the encoded
 * action carries the attribute's key bytes (and mask bytes) in the order
 * of SET_ATTR_SPANS; each key byte maps to a header byte of the packet,
 * which is rewritten under the mask. IPv4 header checksums and TCP/UDP
 * checksums (including their pseudo-header addresses) are updated
 * incrementally, a 16-bit word at a time, as OVS's packet_set_* helpers
 * do, so a packet keeps a wrong checksum wrong rather than hiding it.
 *
 * Attributes that only live in packet metadata (skb_priority, skb_mark)
 * and ones this datapath does not rewrite (mpls, sctp, nd) leave the
 * packet as it is.
 */
import { SET_ATTR_SPANS, SET_ATTRS } from "../flow/mod.ts";

const ETH_IP = 0x0800;
const ETH_IPV6 = 0x86dd;
const ETH_ARP = 0x0806;
const NO = -1;

/** Packet offset of each key byte for the attribute, filled per packet. */
const where = new Int32Array(64);
let nWhere = 0;
let frameLen = 0;

function at(o: number): void {
  where[nWhere++] = o >= 0 && o < frameLen ? o : NO;
}

function be16(b: Uint8Array, o: number): number {
  return (b[o] << 8) | b[o + 1];
}

/** Header offsets of the packet in `b[0..len)`. */
export class HeaderOffsets {
  l3 = NO;
  l4 = NO;
  ethType = 0;
  proto = 0;

  parse(b: Uint8Array, len: number): void {
    this.l3 = this.l4 = NO;
    if (len < 14) return;
    let o = 12;
    let t = be16(b, o);
    while ((t === 0x8100 || t === 0x88a8) && o + 6 <= len) {
      o += 4;
      t = be16(b, o);
    }
    this.ethType = t;
    this.l3 = o + 2;
    if (t === ETH_IP && this.l3 + 20 <= len) {
      this.proto = b[this.l3 + 9];
      const fragOff = be16(b, this.l3 + 6) & 0x1fff;
      if (fragOff === 0) this.l4 = this.l3 + (b[this.l3] & 15) * 4;
    } else if (t === ETH_IPV6 && this.l3 + 40 <= len) {
      this.proto = b[this.l3 + 6];
      this.l4 = this.l3 + 40;
    }
  }
}

/** Maps the key bytes of `attr`'s spans (in order) to packet offsets. */
function mapAttr(attr: number, h: HeaderOffsets, len: number): number {
  const l3 = h.l3, l4 = h.l4;
  nWhere = 0;
  frameLen = len;
  switch (SET_ATTRS[attr]) {
    case "eth":
      for (let i = 0; i < 12; i++) at(i);
      break;
    case "ipv4": {
      const ok = h.ethType === ETH_IP && l3 >= 0;
      for (let i = 0; i < 8; i++) at(ok ? l3 + 12 + i : NO); // src, dst
      at(NO); // frag
      at(ok ? l3 + 1 : NO); // tos
      at(ok ? l3 + 8 : NO); // ttl
      at(NO); // proto
      break;
    }
    case "ipv6": {
      const ok = h.ethType === ETH_IPV6 && l3 >= 0;
      for (let i = 0; i < 32; i++) at(ok ? l3 + 8 + i : NO);
      // ipv6_label: 20 bits in the low bits of the first word.
      at(NO);
      at(ok ? l3 + 1 : NO);
      at(ok ? l3 + 2 : NO);
      at(ok ? l3 + 3 : NO);
      at(NO); // frag
      at(NO); // tos: split across nibbles, not rewritten here
      at(ok ? l3 + 7 : NO); // hop limit
      at(NO); // proto
      break;
    }
    case "tcp":
    case "udp":
      for (let i = 0; i < 4; i++) at(l4 >= 0 ? l4 + i : NO);
      break;
    case "icmp":
    case "icmpv6":
      at(l4 >= 0 ? l4 : NO);
      at(l4 >= 0 ? l4 + 1 : NO);
      break;
    case "arp": {
      const ok = h.ethType === ETH_ARP && l3 >= 0;
      for (let i = 0; i < 4; i++) at(ok ? l3 + 14 + i : NO); // spa
      for (let i = 0; i < 4; i++) at(ok ? l3 + 24 + i : NO); // tpa
      at(ok ? l3 + 7 : NO); // op (low byte)
      for (let i = 0; i < 6; i++) at(ok ? l3 + 8 + i : NO); // sha
      for (let i = 0; i < 6; i++) at(ok ? l3 + 18 + i : NO); // tha
      break;
    }
    default:
      for (const sp of SET_ATTR_SPANS[SET_ATTRS[attr]]) for (let i = 0; i < sp.len; i++) at(NO);
  }
  return nWhere;
}

/**
 * Applies a set (mask null: every bit) to packet `b[0..len)`. `act` holds
 * the action payload at `off`: attribute index, key bytes, mask bytes.
 */
export function executeSet(
  b: Uint8Array,
  len: number,
  h: HeaderOffsets,
  act: Uint8Array,
  off: number,
  masked: boolean,
): void {
  const attr = act[off];
  const n = mapAttr(attr, h, len);
  const keyAt = off + 1, maskAt = off + 1 + n;
  const ipv4 = h.ethType === ETH_IP && h.l3 >= 0;
  const l4 = h.l4;
  const l4csum = l4 < 0
    ? NO
    : h.proto === 6 && l4 + 18 <= len
    ? l4 + 16
    : h.proto === 17 && l4 + 8 <= len && be16(b, l4 + 6) !== 0
    ? l4 + 6
    : (h.proto === 58 || h.proto === 1) && l4 + 4 <= len
    ? l4 + 2
    : NO;
  const pseudo = h.proto === 6 || h.proto === 17 || h.proto === 58;
  for (let i = 0; i < n; i++) {
    const p = where[i];
    if (p < 0) continue;
    const m = masked ? act[maskAt + i] : 0xff;
    const nb = (b[p] & ~m) | (act[keyAt + i] & m);
    if (nb === b[p]) continue;
    const w = p & ~1;
    const oldW = be16(b, w);
    b[p] = nb;
    const newW = be16(b, w);
    if (ipv4 && w >= h.l3 && w < h.l3 + 20 && w !== h.l3 + 10) {
      const c = h.l3 + 10;
      const v = recalc(be16(b, c), oldW, newW);
      b[c] = v >> 8, b[c + 1] = v;
    }
    // L4 checksums cover the L4 header and the pseudo-header addresses.
    const inAddrs = h.l3 >= 0 &&
      (ipv4 ? w >= h.l3 + 12 && w < h.l3 + 20 : w >= h.l3 + 8 && w < h.l3 + 40);
    if (l4csum >= 0 && w !== l4csum && ((w >= l4 && w < l4 + 20) || (inAddrs && pseudo))) {
      const v = recalc(be16(b, l4csum), oldW, newW);
      b[l4csum] = v >> 8, b[l4csum + 1] = v;
    }
  }
}

function recalc(c: number, oldW: number, newW: number): number {
  let s = (~c & 0xffff) + (~oldW & 0xffff) + newW;
  s = (s & 0xffff) + (s >>> 16);
  s = (s & 0xffff) + (s >>> 16);
  return ~s & 0xffff;
}

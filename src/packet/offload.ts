/**
 * Finishing in software what a `system` port's kernel left to "hardware"
 * (OVS's dp_packet_ol_send_prepare and its software GSO): a partial L4
 * checksum (virtio NEEDS_CSUM: only the pseudo-header is in the field) is
 * completed, and a TCP super-frame is cut into gso_size segments, each a
 * wire-ready frame with its own IP length, IPv4 id and checksum, TCP
 * sequence number, flags and checksum. Used for every destination that
 * cannot take offloads (dummy, pcap and stream ports, upcalls, sockets
 * without a vnet header).
 *
 * Header offsets come from locateHeaders at the time of sending, so VLAN
 * tags pushed or popped since the frame was received are accounted for.
 * Nothing here allocates.
 */
import { csumAdd, csumFinish } from "./checksum.ts";
import {
  be16,
  be32,
  ETH_TYPE_IP,
  IPPROTO_TCP,
  IPPROTO_UDP,
  putBe16,
  putBe32,
  TCP_CWR,
  TCP_FIN,
  TCP_PSH,
} from "./headers.ts";
import { HDR_DL_TYPE, HDR_L3, HDR_L4, HDR_L4_PROTO } from "./locate.ts";

/** Where the L4 checksum sits in its header (TCP 16, UDP 6), or -1. */
export function l4ChecksumOffset(proto: number): number {
  return proto === IPPROTO_TCP ? 16 : proto === IPPROTO_UDP ? 6 : -1;
}

/** The unfolded sum of the IPv4/IPv6 pseudo-header for `l4Len` bytes of L4. */
export function pseudoHeaderSum(p: Uint8Array, hdr: Int32Array, l4Len: number): number {
  const l3 = hdr[HDR_L3];
  let sum = hdr[HDR_L4_PROTO] + l4Len;
  if (hdr[HDR_DL_TYPE] === ETH_TYPE_IP) sum = csumAdd(sum, p, l3 + 12, 8);
  else sum = csumAdd(sum, p, l3 + 8, 32);
  return sum;
}

/**
 * Where the L4 payload ends: the IP header's length fields say, so that
 * Ethernet padding after the packet is not summed; never past `len`.
 */
function l4End(p: Uint8Array, len: number, hdr: Int32Array): number {
  const l3 = hdr[HDR_L3];
  const end = hdr[HDR_DL_TYPE] === ETH_TYPE_IP ? l3 + be16(p, l3 + 2) : l3 + 40 + be16(p, l3 + 4);
  return end < len ? end : len;
}

function fold(sum: number): number {
  while (sum > 0xffff) sum = (sum & 0xffff) + Math.floor(sum / 0x10000);
  return sum;
}

/**
 * Puts the partial form in the L4 checksum field (the folded
 * pseudo-header sum, as the kernel expects with NEEDS_CSUM); returns the
 * field's offset in the L4 header, or -1 when the frame has no TCP/UDP
 * header.
 */
export function setPartialL4Checksum(p: Uint8Array, len: number, hdr: Int32Array): number {
  const l4 = hdr[HDR_L4], off = l4ChecksumOffset(hdr[HDR_L4_PROTO]);
  const end = l4End(p, len, hdr);
  if (l4 < 0 || off < 0 || l4 + off + 2 > end) return -1;
  putBe16(p, l4 + off, fold(pseudoHeaderSum(p, hdr, end - l4)));
  return off;
}

/** Computes the whole L4 checksum of a TCP/UDP frame in place; false if it has none. */
export function completeL4Checksum(p: Uint8Array, len: number, hdr: Int32Array): boolean {
  const l4 = hdr[HDR_L4], off = l4ChecksumOffset(hdr[HDR_L4_PROTO]);
  const end = l4End(p, len, hdr);
  if (l4 < 0 || off < 0 || l4 + off + 2 > end) return false;
  p[l4 + off] = p[l4 + off + 1] = 0;
  let c = csumFinish(csumAdd(pseudoHeaderSum(p, hdr, end - l4), p, l4, end - l4));
  if (c === 0 && off === 6) c = 0xffff;
  putBe16(p, l4 + off, c);
  return true;
}

/** The length of the headers a TCP super-frame's segments repeat, or -1 if it is not TCP. */
export function tcpHeadersLength(p: Uint8Array, len: number, hdr: Int32Array): number {
  const l4 = hdr[HDR_L4];
  if (l4 < 0 || hdr[HDR_L4_PROTO] !== IPPROTO_TCP || l4 + 20 > len) return -1;
  const end = l4 + (p[l4 + 12] >> 4) * 4;
  return end > len ? -1 : end;
}

/** How many segments of `mss` payload bytes the TCP super-frame makes. */
export function tcpSegmentCount(len: number, headersLen: number, mss: number): number {
  return mss > 0 ? Math.max(1, Math.ceil((len - headersLen) / mss)) : 1;
}

/**
 * Writes segment `index` of the TCP super-frame `src[0, len)` (headers
 * `headersLen` long, per locateHeaders `hdr`) into `dst` as a complete
 * frame; returns its length. `dst` must hold headersLen + mss bytes.
 */
export function tcpSegment(
  src: Uint8Array,
  len: number,
  hdr: Int32Array,
  headersLen: number,
  mss: number,
  index: number,
  dst: Uint8Array,
): number {
  const payload = len - headersLen;
  const from = headersLen + index * mss;
  const n = Math.min(mss, payload - index * mss);
  for (let i = 0; i < headersLen; i++) dst[i] = src[i];
  for (let i = 0; i < n; i++) dst[headersLen + i] = src[from + i];
  const segLen = headersLen + n;
  const l3 = hdr[HDR_L3], l4 = hdr[HDR_L4];
  if (hdr[HDR_DL_TYPE] === ETH_TYPE_IP) {
    putBe16(dst, l3 + 2, segLen - l3);
    putBe16(dst, l3 + 4, (be16(src, l3 + 4) + index) & 0xffff);
    dst[l3 + 10] = dst[l3 + 11] = 0;
    putBe16(dst, l3 + 10, csumFinish(csumAdd(0, dst, l3, l4 - l3)));
  } else {
    putBe16(dst, l3 + 4, segLen - l3 - 40);
  }
  putBe32(dst, l4 + 4, (be32(src, l4 + 4) + index * mss) >>> 0);
  const last = from + n >= len;
  let flags = dst[l4 + 13];
  if (!last) flags &= ~(TCP_FIN | TCP_PSH);
  if (index > 0) flags &= ~TCP_CWR;
  dst[l4 + 13] = flags;
  completeL4Checksum(dst, segLen, hdr);
  return segLen;
}

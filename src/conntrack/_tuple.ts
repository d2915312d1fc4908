/**
 * A packet's connection key (OVS's conn_key_extract with extract_l3_ipv4,
 * extract_l3_ipv6, extract_l4_tcp/udp/icmp/icmp6): the zone, protocol,
 * addresses and ports (ICMP: id, type and code; the destination side holds
 * the type of the expected reply), checking lengths and checksums as OVS
 * does. An ICMP error yields the key of the packet it quotes, reversed,
 * and is `related`. A packet whose key cannot be read is invalid.
 * Allocates nothing.
 */
import {
  csumAdd,
  csumFinish,
  IP_FRAG_OFF_MASK,
  IP_MORE_FRAGMENTS,
  IPPROTO_FRAGMENT,
  IPPROTO_ICMP,
  IPPROTO_ICMPV6,
  IPPROTO_TCP,
  IPPROTO_UDP,
} from "../packet/mod.ts";
import { coverageCounter } from "../lib/mod.ts";
import { K_DPORT, K_DST, K_PROTO, K_SPORT, K_SRC, K_V6, K_ZONE, KEY_WORDS } from "./_table.ts";

const covL3Csum = coverageCounter("conntrack_l3csum_err");
const covL4Csum = coverageCounter("conntrack_l4csum_err");

export const KEY_INVALID = 0;
export const KEY_OK = 1;
/** An ICMP error: the key is the quoted packet's, reversed. */
export const KEY_RELATED = 2;

const be16 = (p: Uint8Array, o: number) => (p[o] << 8) | p[o + 1];
const be32 = (p: Uint8Array, o: number) =>
  (p[o] << 24) | (p[o + 1] << 16) | (p[o + 2] << 8) | p[o + 3];

/** The reply type of an ICMP query type (reverse_icmp_type / reverse_icmp6_type). */
function reverseIcmpType(v6: boolean, t: number): number {
  if (v6) return t === 128 ? 129 : t === 129 ? 128 : -1;
  switch (t) {
    case 8:
      return 0;
    case 0:
      return 8;
    case 13:
      return 14;
    case 14:
      return 13;
    case 15:
      return 16;
    case 16:
      return 15;
  }
  return -1;
}

const isIcmpError = (v6: boolean, t: number) =>
  v6 ? t >= 1 && t <= 4 : t === 3 || t === 4 || t === 5 || t === 11 || t === 12;

/** Sum of the pseudo-header for an L4 checksum. */
function pseudoSum(p: Uint8Array, l3: number, v6: boolean, proto: number, l4len: number): number {
  let s = v6 ? csumAdd(0, p, l3 + 8, 32) : csumAdd(0, p, l3 + 12, 8);
  s += proto + (l4len & 0xffff) + Math.floor(l4len / 0x10000);
  return s;
}

/**
 * Reads the IP header at `l3` (length up to `end`) and its L4 into
 * `k[at..]`; `inner` for a header quoted by an ICMP error (its L4 may be
 * truncated to 8 bytes, its checksums are not checked). Returns the L4
 * offset, or -1.
 */
function extractL3(
  p: Uint8Array,
  l3: number,
  end: number,
  v6: boolean,
  k: Int32Array,
  at: number,
  inner: boolean,
): number {
  if (!v6) {
    if (l3 + 20 > end || p[l3] >> 4 !== 4) return -1;
    const ihl = (p[l3] & 15) * 4, tot = be16(p, l3 + 2);
    if (ihl < 20 || l3 + ihl > end) return -1;
    if (!inner && (tot < ihl || l3 + tot > end)) return -1;
    if (!inner && csumFinish(csumAdd(0, p, l3, ihl)) !== 0) {
      covL3Csum.inc();
      return -1;
    }
    const frag = be16(p, l3 + 6);
    if (frag & (IP_FRAG_OFF_MASK | IP_MORE_FRAGMENTS)) return -1;
    k[at + K_PROTO] = p[l3 + 9];
    k[at + K_V6] = 0;
    k[at + K_SRC] = be32(p, l3 + 12);
    k[at + K_DST] = be32(p, l3 + 16);
    for (let i = 1; i < 4; i++) k[at + K_SRC + i] = k[at + K_DST + i] = 0;
    return l3 + ihl;
  }
  if (l3 + 40 > end || p[l3] >> 4 !== 6) return -1;
  if (!inner && l3 + 40 + be16(p, l3 + 4) > end) return -1;
  let nxt = p[l3 + 6], q = l3 + 40;
  // Extension headers (ipv6_parse_exts); a fragment is not tracked.
  while (nxt === 0 || nxt === 43 || nxt === 60 || nxt === 51 || nxt === IPPROTO_FRAGMENT) {
    if (q + 8 > end || nxt === IPPROTO_FRAGMENT) return -1;
    const n = p[q];
    q += nxt === 51 ? (p[q + 1] + 2) * 4 : (p[q + 1] + 1) * 8;
    nxt = n;
  }
  if (q > end) return -1;
  k[at + K_PROTO] = nxt;
  k[at + K_V6] = 1;
  for (let i = 0; i < 4; i++) {
    k[at + K_SRC + i] = be32(p, l3 + 8 + 4 * i);
    k[at + K_DST + i] = be32(p, l3 + 24 + 4 * i);
  }
  return q;
}

/**
 * Fills `k[at..at+KEY_WORDS)` with the key of the IPv4/IPv6 packet whose
 * L3 header is at `l3` (packet length `len`), in `zone`. Returns KEY_OK,
 * KEY_RELATED or KEY_INVALID.
 */
export function extractConnKey(
  p: Uint8Array,
  len: number,
  l3: number,
  v6: boolean,
  zone: number,
  k: Int32Array,
  at: number,
): number {
  k.fill(0, at, at + KEY_WORDS);
  k[at + K_ZONE] = zone;
  const l4 = extractL3(p, l3, len, v6, k, at, false);
  if (l4 < 0) return KEY_INVALID;
  const end = v6 ? l3 + 40 + be16(p, l3 + 4) : l3 + be16(p, l3 + 2);
  const l4len = end - l4;
  const proto = k[at + K_PROTO];
  if (proto === IPPROTO_TCP) {
    if (l4len < 20 || ((p[l4 + 12] >> 4) * 4) < 20 || ((p[l4 + 12] >> 4) * 4) > l4len) {
      return KEY_INVALID;
    }
    if (csumFinish(csumAdd(pseudoSum(p, l3, v6, proto, l4len), p, l4, l4len)) !== 0) {
      covL4Csum.inc();
      return KEY_INVALID;
    }
    k[at + K_SPORT] = be16(p, l4);
    k[at + K_DPORT] = be16(p, l4 + 2);
    return KEY_OK;
  }
  if (proto === IPPROTO_UDP) {
    if (l4len < 8 || be16(p, l4 + 4) > l4len || be16(p, l4 + 4) < 8) return KEY_INVALID;
    const noCsum = !v6 && be16(p, l4 + 6) === 0;
    if (
      !noCsum &&
      csumFinish(csumAdd(pseudoSum(p, l3, v6, proto, l4len), p, l4, l4len)) !== 0
    ) {
      covL4Csum.inc();
      return KEY_INVALID;
    }
    k[at + K_SPORT] = be16(p, l4);
    k[at + K_DPORT] = be16(p, l4 + 2);
    return KEY_OK;
  }
  const icmp = v6 ? IPPROTO_ICMPV6 : IPPROTO_ICMP;
  if (proto === IPPROTO_ICMP && v6 || proto === IPPROTO_ICMPV6 && !v6) return KEY_INVALID;
  if (proto !== icmp) return KEY_OK;
  if (l4len < 8) return KEY_INVALID;
  const sum = v6 ? pseudoSum(p, l3, v6, proto, l4len) : 0;
  if (csumFinish(csumAdd(sum, p, l4, l4len)) !== 0) {
    covL4Csum.inc();
    return KEY_INVALID;
  }
  const type = p[l4], code = p[l4 + 1];
  const rev = reverseIcmpType(v6, type);
  if (rev >= 0) {
    if (code !== 0) return KEY_INVALID;
    const id = be16(p, l4 + 4);
    k[at + K_SPORT] = (id << 16) | (type << 8) | code;
    k[at + K_DPORT] = (id << 16) | (rev << 8) | code;
    return KEY_OK;
  }
  if (!isIcmpError(v6, type)) return KEY_INVALID;
  // The quoted packet: its header and at least 8 bytes of its L4.
  const il3 = l4 + 8;
  const il4 = extractL3(p, il3, end, v6, k, at, true);
  if (il4 < 0 || il4 + 8 > end) return KEY_INVALID;
  const ip = k[at + K_PROTO];
  if (ip === IPPROTO_TCP || ip === IPPROTO_UDP) {
    k[at + K_SPORT] = be16(p, il4);
    k[at + K_DPORT] = be16(p, il4 + 2);
  } else if (ip === icmp) {
    const it = p[il4], irev = reverseIcmpType(v6, it);
    if (irev < 0) return KEY_INVALID;
    const id = be16(p, il4 + 4);
    k[at + K_SPORT] = (id << 16) | (it << 8) | p[il4 + 1];
    k[at + K_DPORT] = (id << 16) | (irev << 8) | p[il4 + 1];
  }
  reverseKey(k, at, k, at);
  return KEY_RELATED;
}

/** Writes the reverse of key `src[sAt..]` (source and destination swapped) at `dst[dAt..]`. */
export function reverseKey(src: Int32Array, sAt: number, dst: Int32Array, dAt: number): void {
  dst[dAt + K_ZONE] = src[sAt + K_ZONE];
  dst[dAt + K_PROTO] = src[sAt + K_PROTO];
  dst[dAt + K_V6] = src[sAt + K_V6];
  for (let i = 0; i < 4; i++) {
    const a = src[sAt + K_SRC + i];
    dst[dAt + K_SRC + i] = src[sAt + K_DST + i];
    dst[dAt + K_DST + i] = a;
  }
  const sp = src[sAt + K_SPORT];
  dst[dAt + K_SPORT] = src[sAt + K_DPORT];
  dst[dAt + K_DPORT] = sp;
}

/** True for ICMP/ICMPv6 keys (whose "ports" are id/type/code words). */
export function isIcmpKey(k: Int32Array, at: number): boolean {
  const p = k[at + K_PROTO];
  return k[at + K_V6] ? p === IPPROTO_ICMPV6 : p === IPPROTO_ICMP;
}

/**
 * Offset of the L4 header of the IP packet at `l3`, past IPv6 extension
 * headers; only for a packet whose key `extractConnKey` read, so its
 * offsets are sound.
 */
export function l4Offset(p: Uint8Array, l3: number, v6: boolean): number {
  if (!v6) return l3 + (p[l3] & 15) * 4;
  let nxt = p[l3 + 6], q = l3 + 40;
  while (nxt === 0 || nxt === 43 || nxt === 60 || nxt === 51) {
    const n = p[q];
    q += nxt === 51 ? (p[q + 1] + 2) * 4 : (p[q + 1] + 1) * 8;
    nxt = n;
  }
  return q;
}

/** End of the IP packet at `l3` (its total/payload length, within `len`). */
export function ipEnd(p: Uint8Array, l3: number, v6: boolean, len: number): number {
  const e = v6 ? l3 + 40 + ((p[l3 + 4] << 8) | p[l3 + 5]) : l3 + ((p[l3 + 2] << 8) | p[l3 + 3]);
  return Math.min(e, len);
}

/**
 * In-place header rewrites for datapath actions (set, masked set,
 * push_vlan, pop_vlan), with the checksums they affect updated
 * incrementally as OVS's packet_set_* functions do. Values come as bytes
 * (with an optional mask: new = (old & ~mask) | (value & mask)) so the
 * flow layer can hand over a set action's bytes as they are stored.
 * Nothing here allocates.
 */
import {
  be16,
  ethTypeVlan,
  IPPROTO_ICMPV6,
  IPPROTO_SCTP,
  IPPROTO_TCP,
  IPPROTO_UDP,
  putBe16,
  putBe32,
} from "./headers.ts";
import { recalcCsum16 } from "./checksum.ts";

/** Adds a VLAN header after the MACs; returns the new length, or -1 if it does not fit. */
export function pushVlan(p: Uint8Array, len: number, tpid: number, tci: number): number {
  if (len < 12 || len + 4 > p.length) return -1;
  p.copyWithin(16, 12, len);
  putBe16(p, 12, tpid);
  // The CFI bit only marks "tag present" inside keys; on the wire it is clear.
  putBe16(p, 14, tci & ~0x1000);
  return len + 4;
}

/** Removes the outer VLAN header, if any; returns the new length. */
export function popVlan(p: Uint8Array, len: number): number {
  if (len < 18 || !ethTypeVlan(be16(p, 12))) return len;
  p.copyWithin(12, 16, len);
  return len - 4;
}

function merge(old: number, v: number, m: number): number {
  return (old & ~m) | (v & m);
}

/**
 * Masked byte copy into p[off..off+n), keeping a 16-bit one's-complement
 * checksum at `csumOff` right (-1: none). `csumBase` is where the
 * checksummed region starts, which fixes the 16-bit word alignment.
 */
export function setBytesMasked(
  p: Uint8Array,
  off: number,
  v: Uint8Array,
  vOff: number,
  m: Uint8Array | null,
  mOff: number,
  n: number,
  csumOff = -1,
  csumBase = 0,
): void {
  let i = 0;
  if (csumOff >= 0 && (off - csumBase) & 1) {
    // Leading odd byte: the low half of a word.
    const nb = m ? merge(p[off], v[vOff], m[mOff]) : v[vOff];
    if (nb !== p[off]) {
      const w = (p[off - 1] << 8) | p[off];
      putBe16(p, csumOff, recalcCsum16(be16(p, csumOff), w, (p[off - 1] << 8) | nb));
      p[off] = nb;
    }
    i = 1;
  }
  for (; i < n; i += csumOff >= 0 ? 2 : 1) {
    const a = p[off + i];
    const na = m ? merge(a, v[vOff + i], m[mOff + i]) : v[vOff + i];
    if (csumOff < 0) {
      p[off + i] = na;
      continue;
    }
    const two = i + 1 < n;
    const b = p[off + i + 1];
    const nb = two ? (m ? merge(b, v[vOff + i + 1], m[mOff + i + 1]) : v[vOff + i + 1]) : b;
    if (na !== a || nb !== b) {
      putBe16(p, csumOff, recalcCsum16(be16(p, csumOff), (a << 8) | b, (na << 8) | nb));
      p[off + i] = na;
      p[off + i + 1] = nb;
    }
  }
}

/** Offset of the L4 checksum for TCP/UDP/ICMPv6, or -1 (UDP without checksum: -1). */
function l4CsumOff(p: Uint8Array, l4: number, proto: number): number {
  if (l4 < 0) return -1;
  if (proto === IPPROTO_TCP) return l4 + 16;
  if (proto === IPPROTO_UDP) return be16(p, l4 + 6) === 0 ? -1 : l4 + 6;
  if (proto === IPPROTO_ICMPV6) return l4 + 2;
  return -1;
}

/** Changes bytes covered by both the IP header checksum (maybe) and the L4 pseudo-header. */
function setPseudo(
  p: Uint8Array,
  off: number,
  v: Uint8Array,
  vOff: number,
  m: Uint8Array | null,
  mOff: number,
  n: number,
  l4: number,
  proto: number,
): void {
  const c = l4CsumOff(p, l4, proto);
  if (c < 0) return;
  // Pseudo-header words align with the address fields (even offsets).
  for (let i = 0; i < n; i += 2) {
    const a = be16(p, off + i);
    const hi = m ? merge(p[off + i], v[vOff + i], m[mOff + i]) : v[vOff + i];
    const lo = m ? merge(p[off + i + 1], v[vOff + i + 1], m[mOff + i + 1]) : v[vOff + i + 1];
    const na = (hi << 8) | lo;
    if (a !== na) {
      let s = recalcCsum16(be16(p, c), a, na);
      if (proto === IPPROTO_UDP && s === 0) s = 0xffff;
      putBe16(p, c, s);
    }
  }
}

/**
 * IPv4 src/dst from v[vOff..+8) (mask m[mOff..+8)), tos and ttl from
 * v[tOff] and v[tOff+1] (masks at m[tmOff], m[tmOff+1]).
 */
export function setIpv4(
  p: Uint8Array,
  l3: number,
  l4: number,
  v: Uint8Array,
  vOff: number,
  m: Uint8Array | null,
  mOff: number,
  tOff: number,
  tmOff: number,
): void {
  const proto = p[l3 + 9];
  setPseudo(p, l3 + 12, v, vOff, m, mOff, 8, l4, proto);
  setBytesMasked(p, l3 + 12, v, vOff, m, mOff, 8, l3 + 10, l3);
  setBytesMasked(p, l3 + 1, v, tOff, m, tmOff, 1, l3 + 10, l3);
  setBytesMasked(p, l3 + 8, v, tOff + 1, m, tmOff + 1, 1, l3 + 10, l3);
}

/**
 * IPv6 src/dst from v[vOff..+32), then label (4 bytes, low 20 bits),
 * traffic class and hop limit from v[tOff..] (label, tclass, hlimit at
 * tOff, tOff+5, tOff+6: the flow key's ipv6_label/nw_tos/nw_ttl order).
 */
export function setIpv6(
  p: Uint8Array,
  l3: number,
  l4: number,
  proto: number,
  v: Uint8Array,
  vOff: number,
  m: Uint8Array | null,
  mOff: number,
  tOff: number,
  tmOff: number,
): void {
  setPseudo(p, l3 + 8, v, vOff, m, mOff, 32, l4, proto);
  setBytesMasked(p, l3 + 8, v, vOff, m, mOff, 32);
  const old = ((p[l3] << 24) | (p[l3 + 1] << 16) | (p[l3 + 2] << 8) | p[l3 + 3]) >>> 0;
  const label = ((v[tOff + 1] << 16) | (v[tOff + 2] << 8) | v[tOff + 3]) & 0xfffff;
  const labelMask = (((m ? m[tmOff + 1] : 0xff) << 16) | ((m ? m[tmOff + 2] : 0xff) << 8) |
    (m ? m[tmOff + 3] : 0xff)) & 0xfffff;
  const tc = v[tOff + 5], tcMask = m ? m[tmOff + 5] : 0xff;
  const oldTc = (old >>> 20) & 0xff;
  const newTc = merge(oldTc, tc, tcMask);
  const newLabel = merge(old & 0xfffff, label, labelMask);
  putBe32(p, l3, ((6 << 28) | (newTc << 20) | newLabel) >>> 0);
  p[l3 + 7] = merge(p[l3 + 7], v[tOff + 6], m ? m[tmOff + 6] : 0xff);
}

/** TCP/UDP/SCTP ports from v[vOff..+4). SCTP gets its CRC32c recomputed over [l4, len). */
export function setPorts(
  p: Uint8Array,
  len: number,
  l4: number,
  proto: number,
  v: Uint8Array,
  vOff: number,
  m: Uint8Array | null,
  mOff: number,
): void {
  if (proto === IPPROTO_SCTP) {
    setBytesMasked(p, l4, v, vOff, m, mOff, 4);
    putBe32(p, l4 + 8, 0);
    const c = crc32c(p, l4, len - l4);
    // SCTP stores its CRC little-endian.
    p[l4 + 8] = c;
    p[l4 + 9] = c >>> 8;
    p[l4 + 10] = c >>> 16;
    p[l4 + 11] = c >>> 24;
    return;
  }
  const c = proto === IPPROTO_TCP ? l4 + 16 : proto === IPPROTO_UDP ? l4 + 6 : -1;
  if (proto === IPPROTO_UDP && be16(p, c) === 0) {
    setBytesMasked(p, l4, v, vOff, m, mOff, 4);
    return;
  }
  setBytesMasked(p, l4, v, vOff, m, mOff, 4, c, l4);
  if (proto === IPPROTO_UDP && be16(p, c) === 0) putBe16(p, c, 0xffff);
}

/** ICMP or ICMPv6 type (v[tOff]) and code (v[cOff]); the checksum covers both. */
export function setIcmp(
  p: Uint8Array,
  l4: number,
  v: Uint8Array,
  tOff: number,
  cOff: number,
  m: Uint8Array | null,
  tmOff: number,
  cmOff: number,
): void {
  const old = be16(p, l4);
  const t = m ? merge(p[l4], v[tOff], m[tmOff]) : v[tOff];
  const c = m ? merge(p[l4 + 1], v[cOff], m[cmOff]) : v[cOff];
  const nw = (t << 8) | c;
  if (nw !== old) {
    putBe16(p, l4 + 2, recalcCsum16(be16(p, l4 + 2), old, nw));
    putBe16(p, l4, nw);
  }
}

let crcTable: Uint32Array | null = null;

/** CRC32c (Castagnoli), SCTP's checksum. */
export function crc32c(b: Uint8Array, off: number, len: number): number {
  if (!crcTable) {
    crcTable = new Uint32Array(256);
    for (let i = 0; i < 256; i++) {
      let c = i;
      for (let k = 0; k < 8; k++) c = c & 1 ? (c >>> 1) ^ 0x82f63b78 : c >>> 1;
      crcTable[i] = c >>> 0;
    }
  }
  let c = 0xffffffff;
  for (let i = off; i < off + len; i++) c = crcTable[(c ^ b[i]) & 0xff] ^ (c >>> 8);
  return (c ^ 0xffffffff) >>> 0;
}

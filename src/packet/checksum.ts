/**
 * Internet checksums (RFC 1071) and their incremental update (RFC 1624),
 * which is how header rewrites keep IPv4, TCP, UDP and ICMPv6 checksums
 * right without summing the whole packet again.
 */

/** Adds the 16-bit big-endian words of b[off, off+len) to a partial sum. */
export function csumAdd(sum: number, b: Uint8Array, off: number, len: number): number {
  let i = off;
  const end = off + len;
  for (; i + 1 < end; i += 2) sum += (b[i] << 8) | b[i + 1];
  if (i < end) sum += b[i] << 8;
  return sum;
}

/** Folds a partial sum to 16 bits and complements it. */
export function csumFinish(sum: number): number {
  while (sum > 0xffff) sum = (sum & 0xffff) + Math.floor(sum / 0x10000);
  return ~sum & 0xffff;
}

export function csum(b: Uint8Array, off: number, len: number): number {
  return csumFinish(csumAdd(0, b, off, len));
}

/** New checksum after a 16-bit word changes from `oldW` to `newW`. */
export function recalcCsum16(oldCsum: number, oldW: number, newW: number): number {
  let s = (~oldCsum & 0xffff) + (~oldW & 0xffff) + (newW & 0xffff);
  s = (s & 0xffff) + (s >>> 16);
  s = (s & 0xffff) + (s >>> 16);
  return ~s & 0xffff;
}

/** New checksum after a 32-bit value changes from `oldV` to `newV`. */
export function recalcCsum32(oldCsum: number, oldV: number, newV: number): number {
  const c = recalcCsum16(oldCsum, oldV >>> 16, newV >>> 16);
  return recalcCsum16(c, oldV & 0xffff, newV & 0xffff);
}

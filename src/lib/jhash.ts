/**
 * Bob Jenkins' lookup3 hash as OVS uses it (lib/jhash.c, `jhash_bytes`):
 * what multipath and bundle hash flow fields with, so that they choose
 * the links and members OVS chooses. Bytes are read as little-endian
 * words, as OVS reads them on x86.
 */

const rot = (x: number, k: number): number => ((x << k) | (x >>> (32 - k))) >>> 0;

/** jhash_bytes over `n` bytes of `p` from `off`. */
export function jhashBytes(p: Uint8Array, off: number, n: number, basis: number): number {
  let a = (0xdeadbeef + n + basis) >>> 0;
  let b = a, c = a;
  const word = (i: number): number => {
    let w = 0;
    for (let k = 3; k >= 0; k--) w = (w << 8) | (i + k < off + n ? p[i + k] : 0);
    return w >>> 0;
  };
  let i = off;
  let left = n;
  while (left >= 12) {
    a = (a + word(i)) >>> 0;
    b = (b + word(i + 4)) >>> 0;
    c = (c + word(i + 8)) >>> 0;
    // jhash_mix
    a = (a - c) >>> 0, a = (a ^ rot(c, 4)) >>> 0, c = (c + b) >>> 0;
    b = (b - a) >>> 0, b = (b ^ rot(a, 6)) >>> 0, a = (a + c) >>> 0;
    c = (c - b) >>> 0, c = (c ^ rot(b, 8)) >>> 0, b = (b + a) >>> 0;
    a = (a - c) >>> 0, a = (a ^ rot(c, 16)) >>> 0, c = (c + b) >>> 0;
    b = (b - a) >>> 0, b = (b ^ rot(a, 19)) >>> 0, a = (a + c) >>> 0;
    c = (c - b) >>> 0, c = (c ^ rot(b, 4)) >>> 0, b = (b + a) >>> 0;
    left -= 12;
    i += 12;
  }
  if (left > 0) {
    a = (a + word(i)) >>> 0;
    b = (b + word(i + 4)) >>> 0;
    c = (c + word(i + 8)) >>> 0;
    // jhash_final
    c = (c ^ b) >>> 0, c = (c - rot(b, 14)) >>> 0;
    a = (a ^ c) >>> 0, a = (a - rot(c, 11)) >>> 0;
    b = (b ^ a) >>> 0, b = (b - rot(a, 25)) >>> 0;
    c = (c ^ b) >>> 0, c = (c - rot(b, 16)) >>> 0;
    a = (a ^ c) >>> 0, a = (a - rot(c, 4)) >>> 0;
    b = (b ^ a) >>> 0, b = (b - rot(a, 14)) >>> 0;
    c = (c ^ b) >>> 0, c = (c - rot(b, 24)) >>> 0;
  }
  return c >>> 0;
}

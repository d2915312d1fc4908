/**
 * OVS's 32-bit hash functions (lib/hash.h, the portable murmur-based
 * variant) and the 128-bit murmur3 used for UFIDs (`hash_bytes128`).
 *
 * Every function takes typed arrays plus offsets and returns numbers, so the
 * fast path can hash a flow key in place without allocating. Words are read
 * in host order, as OVS reads `uint32_t`s; results are unsigned 32-bit.
 */

/** Rotates `x` left by `k` bits (0 < k < 32). */
export function hashRot(x: number, k: number): number {
  return ((x << k) | (x >>> (32 - k))) >>> 0;
}

/** One murmur3 mixing step without the final rotate (zero data is a no-op). */
function mhashAddRaw(hash: number, data: number): number {
  if (data === 0) return hash >>> 0;
  let d = Math.imul(data, 0xcc9e2d51);
  d = (d << 15) | (d >>> 17);
  d = Math.imul(d, 0x1b873593);
  return (hash ^ d) >>> 0;
}

/** Mixes one 32-bit word into a running hash (`mhash_add`). */
export function mhashAdd(hash: number, data: number): number {
  let h = mhashAddRaw(hash, data);
  h = (h << 13) | (h >>> 19);
  return (Math.imul(h, 5) + 0xe6546b64) >>> 0;
}

/** murmur3's avalanche step (`mhash_finish`). */
export function mhashFinish(hash: number): number {
  let h = hash >>> 0;
  h ^= h >>> 16;
  h = Math.imul(h, 0x85ebca6b);
  h ^= h >>> 13;
  h = Math.imul(h, 0xc2b2ae35);
  h ^= h >>> 16;
  return h >>> 0;
}

/** Adds a word to a hash (`hash_add`). */
export function hashAdd(hash: number, data: number): number {
  return mhashAdd(hash, data);
}

/** Adds a 64-bit value given as low and high halves (`hash_add64`). */
export function hashAdd64(hash: number, lo: number, hi: number): number {
  return hashAdd(hashAdd(hash, lo), hi);
}

/** Finishes a hash, folding in `final` (usually the input length in bytes). */
export function hashFinish(hash: number, final: number): number {
  return mhashFinish((hash ^ final) >>> 0);
}

/** Adds `n` words of `p` starting at `off` (`hash_add_words`). */
export function hashAddWords(hash: number, p: Uint32Array, off: number, n: number): number {
  let h = hash;
  for (let i = 0; i < n; i++) h = mhashAdd(h, p[off + i]);
  return h;
}

/** Hash of `n` words of `p` from `off` (`hash_words`). */
export function hashWords(p: Uint32Array, off: number, n: number, basis: number): number {
  return hashFinish(hashAddWords(basis, p, off, n), n * 4);
}

/** Hash of `n` bytes of `p` from `off` (`hash_bytes`); words are little-endian. */
export function hashBytes(p: Uint8Array, off: number, n: number, basis: number): number {
  let h = basis;
  let i = off;
  const end = off + n;
  for (; i + 4 <= end; i += 4) {
    h = hashAdd(h, (p[i] | (p[i + 1] << 8) | (p[i + 2] << 16) | (p[i + 3] << 24)) >>> 0);
  }
  if (i < end) {
    let tail = 0;
    for (let s = 0; i < end; i++, s += 8) tail |= p[i] << s;
    h = hashAdd(h, tail >>> 0);
  }
  return hashFinish(h, n);
}

/** Hash of an ASCII/Latin-1 string's code units (`hash_string` for such text). */
export function hashString(s: string, basis: number): number {
  let h = basis;
  const n = s.length;
  let i = 0;
  for (; i + 4 <= n; i += 4) {
    h = hashAdd(
      h,
      ((s.charCodeAt(i) & 0xff) | ((s.charCodeAt(i + 1) & 0xff) << 8) |
        ((s.charCodeAt(i + 2) & 0xff) << 16) | ((s.charCodeAt(i + 3) & 0xff) << 24)) >>> 0,
    );
  }
  if (i < n) {
    let tail = 0;
    for (let sh = 0; i < n; i++, sh += 8) tail |= (s.charCodeAt(i) & 0xff) << sh;
    h = hashAdd(h, tail >>> 0);
  }
  return hashFinish(h, n);
}

/** `hash_2words`. */
export function hash2Words(x: number, y: number): number {
  return hashFinish(hashAdd(hashAdd(x, 0), y), 8);
}

/** `hash_3words`. */
export function hash3Words(a: number, b: number, c: number): number {
  return hashFinish(hashAdd(hashAdd(hashAdd(a, 0), b), c), 12);
}

/** `hash_int`. */
export function hashInt(x: number, basis: number): number {
  return hash2Words(x >>> 0, basis >>> 0);
}

/** `hash_uint64_basis`, the value given as halves. */
export function hashUint64(lo: number, hi: number, basis: number): number {
  return hashFinish(hashAdd64(basis, lo, hi), 8);
}

const C1 = 0x239b961b;
const C2 = 0xab0e9789;
const C3 = 0x38b34ae5;
const C4 = 0xa1e38b93;

function mix(k: number, c: number, r: number, d: number): number {
  k = Math.imul(k, c);
  k = (k << r) | (k >>> (32 - r));
  return Math.imul(k, d);
}

function le32(p: Uint8Array, i: number): number {
  return p[i] | (p[i + 1] << 8) | (p[i + 2] << 16) | (p[i + 3] << 24);
}

/**
 * murmur3 x86 128-bit hash of `len` bytes of `p` from `off`
 * (`hash_bytes128`, 32-bit variant); writes four words to `out[outOff..]`.
 */
export function hashBytes128(
  p: Uint8Array,
  off: number,
  len: number,
  basis: number,
  out: Uint32Array,
  outOff = 0,
): void {
  let h1 = basis | 0, h2 = basis | 0, h3 = basis | 0, h4 = basis | 0;
  const nblocks = len >>> 4;
  for (let b = 0; b < nblocks; b++) {
    const i = off + b * 16;
    h1 ^= mix(le32(p, i), C1, 15, C2);
    h1 = (h1 << 19) | (h1 >>> 13);
    h1 = (Math.imul(h1 + h2, 5) + 0x561ccd1b) | 0;
    h2 ^= mix(le32(p, i + 4), C2, 16, C3);
    h2 = (h2 << 17) | (h2 >>> 15);
    h2 = (Math.imul(h2 + h3, 5) + 0x0bcaa747) | 0;
    h3 ^= mix(le32(p, i + 8), C3, 17, C4);
    h3 = (h3 << 15) | (h3 >>> 17);
    h3 = (Math.imul(h3 + h4, 5) + 0x96cd1c35) | 0;
    h4 ^= mix(le32(p, i + 12), C4, 18, C1);
    h4 = (h4 << 13) | (h4 >>> 19);
    h4 = (Math.imul(h4 + h1, 5) + 0x32ac3b17) | 0;
  }
  const t = off + nblocks * 16;
  const rest = len & 15;
  let k1 = 0, k2 = 0, k3 = 0, k4 = 0;
  for (let j = rest - 1; j >= 0; j--) {
    const byte = p[t + j] << ((j & 3) * 8);
    if (j >= 12) k4 ^= byte;
    else if (j >= 8) k3 ^= byte;
    else if (j >= 4) k2 ^= byte;
    else k1 ^= byte;
  }
  if (rest > 12) h4 ^= mix(k4, C4, 18, C1);
  if (rest > 8) h3 ^= mix(k3, C3, 17, C4);
  if (rest > 4) h2 ^= mix(k2, C2, 16, C3);
  if (rest > 0) h1 ^= mix(k1, C1, 15, C2);
  h1 ^= len, h2 ^= len, h3 ^= len, h4 ^= len;
  h1 = (h1 + h2 + h3 + h4) | 0;
  h2 = (h2 + h1) | 0, h3 = (h3 + h1) | 0, h4 = (h4 + h1) | 0;
  h1 = mhashFinish(h1), h2 = mhashFinish(h2), h3 = mhashFinish(h3), h4 = mhashFinish(h4);
  h1 = (h1 + h2 + h3 + h4) | 0;
  h2 = (h2 + h1) | 0, h3 = (h3 + h1) | 0, h4 = (h4 + h1) | 0;
  out[outOff] = h1;
  out[outOff + 1] = h2;
  out[outOff + 2] = h3;
  out[outOff + 3] = h4;
}

/** hashBytes128 over `n` words of `p` from `off`, read in host order. */
export function hashWords128(
  p: Uint32Array,
  off: number,
  n: number,
  basis: number,
  out: Uint32Array,
  outOff = 0,
): void {
  let h1 = basis | 0, h2 = basis | 0, h3 = basis | 0, h4 = basis | 0;
  const len = n * 4;
  const nblocks = n >>> 2;
  for (let b = 0; b < nblocks; b++) {
    const i = off + b * 4;
    h1 ^= mix(p[i], C1, 15, C2);
    h1 = (h1 << 19) | (h1 >>> 13);
    h1 = (Math.imul(h1 + h2, 5) + 0x561ccd1b) | 0;
    h2 ^= mix(p[i + 1], C2, 16, C3);
    h2 = (h2 << 17) | (h2 >>> 15);
    h2 = (Math.imul(h2 + h3, 5) + 0x0bcaa747) | 0;
    h3 ^= mix(p[i + 2], C3, 17, C4);
    h3 = (h3 << 15) | (h3 >>> 17);
    h3 = (Math.imul(h3 + h4, 5) + 0x96cd1c35) | 0;
    h4 ^= mix(p[i + 3], C4, 18, C1);
    h4 = (h4 << 13) | (h4 >>> 19);
    h4 = (Math.imul(h4 + h1, 5) + 0x32ac3b17) | 0;
  }
  const t = off + nblocks * 4;
  const rest = n & 3;
  if (rest > 2) h3 ^= mix(p[t + 2], C3, 17, C4);
  if (rest > 1) h2 ^= mix(p[t + 1], C2, 16, C3);
  if (rest > 0) h1 ^= mix(p[t], C1, 15, C2);
  h1 ^= len, h2 ^= len, h3 ^= len, h4 ^= len;
  h1 = (h1 + h2 + h3 + h4) | 0;
  h2 = (h2 + h1) | 0, h3 = (h3 + h1) | 0, h4 = (h4 + h1) | 0;
  h1 = mhashFinish(h1), h2 = mhashFinish(h2), h3 = mhashFinish(h3), h4 = mhashFinish(h4);
  h1 = (h1 + h2 + h3 + h4) | 0;
  h2 = (h2 + h1) | 0, h3 = (h3 + h1) | 0, h4 = (h4 + h1) | 0;
  out[outOff] = h1;
  out[outOff + 1] = h2;
  out[outOff + 2] = h3;
  out[outOff + 3] = h4;
}

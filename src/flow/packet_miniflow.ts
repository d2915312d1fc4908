/**
 * A packet key's miniflow and hash, as OVS's netdev_flow_key holds them
 * (lib/flow.h's miniflow, dpif-netdev's miniflow hash): a bitmap of the
 * key's nonzero words, their count, then their values in word order. A
 * packet key is mostly zeros, so the exact-match cache stores and
 * compares this form instead of the whole key.
 *
 * The hash is a function of the nonzero words and their positions only:
 * one multiply per nonzero word, then murmur's avalanche. However the
 * miniflow was built (a scan of the whole key, of the words a KeyWords map
 * names, or extract_fast.ts while it parses), the same key gives the same
 * miniflow and hash; packet hashes are signed 32-bit (`| 0`), which V8
 * keeps unboxed more often than unsigned ones above 2^31.
 */
import { FLOW_WORDS } from "./layout.ts";
import type { KeyWords } from "./key_words.ts";
import { mhashFinish } from "../lib/mod.ts";

/** Words of a miniflow: 3 map words, a count, then up to 28 values. */
export const MINIFLOW_WORDS = 32;
/** Where the nonzero-word count sits, and where the values start. */
export const MF_COUNT = 3;
export const MF_VALUES = 4;
/** Keys with more nonzero words than this keep only their first values. */
export const MF_MAX_VALUES = MINIFLOW_WORDS - MF_VALUES;
/** The running hash's start and multiplier (FNV-1a's). */
export const MF_HASH_BASIS = 0x811c9dc5 | 0;
export const MF_HASH_PRIME = 0x01000193;

/** The running hash and value count of a miniflow scan (out-parameters of `scanWords`). */
let scanHash = 0;
let scanCount = 0;

/**
 * Scans words [from, to) of the key (at most 32), hashing each nonzero
 * one into `scanHash` and appending it to `mf`'s values; returns the map
 * bits of the nonzero words (bit 0 = `from`). Three scans of at most 32
 * words each keep the map arithmetic free of per-word range tests.
 */
function scanWords(
  key: Uint32Array,
  off: number,
  from: number,
  to: number,
  mf: Uint32Array,
): number {
  let h = scanHash, n = scanCount, map = 0;
  for (let i = from; i < to; i++) {
    const w = key[off + i] | 0;
    if (w === 0) continue;
    h = Math.imul(h ^ w ^ i, MF_HASH_PRIME);
    map |= 1 << (i - from);
    if (n < MF_MAX_VALUES) mf[MF_VALUES + n] = w;
    n++;
  }
  scanHash = h;
  scanCount = n;
  return map;
}

/**
 * Writes the miniflow of the key at `key[off..]` into `mf` (map of nonzero
 * words, their count, then as many values as fit) and returns its hash.
 * The hash covers every nonzero word even when the values do not all fit.
 */
export function miniflowOf(key: Uint32Array, off: number, mf: Uint32Array): number {
  scanHash = MF_HASH_BASIS;
  scanCount = 0;
  mf[0] = scanWords(key, off, 0, 32, mf);
  mf[1] = scanWords(key, off, 32, 64, mf);
  mf[2] = scanWords(key, off, 64, FLOW_WORDS, mf);
  mf[MF_COUNT] = scanCount;
  return mhashFinish(scanHash >>> 0) | 0;
}

/**
 * `miniflowOf` over only the key words `words` names (a KeyWords map that
 * covers every nonzero word, as flowExtract records it): the same
 * miniflow and hash, at the cost of the dozen words a packet wrote
 * instead of the key's 82.
 */
export function miniflowOfWords(key: Uint32Array, words: KeyWords, mf: Uint32Array): number {
  let h = MF_HASH_BASIS, n = 0;
  for (let j = 0; j < 3; j++) {
    let map = 0;
    for (let bits = words[j] | 0; bits !== 0; bits &= bits - 1) {
      const b = 31 - Math.clz32(bits & -bits);
      const i = (j << 5) + b;
      const w = key[i] | 0;
      if (w === 0) continue;
      h = Math.imul(h ^ w ^ i, MF_HASH_PRIME);
      map |= 1 << b;
      if (n < MF_MAX_VALUES) mf[MF_VALUES + n] = w;
      n++;
    }
    mf[j] = map;
  }
  mf[MF_COUNT] = n;
  return mhashFinish(h >>> 0) | 0;
}

/**
 * The miniflow and hash of the packet a PMD is looking up, refilled per
 * packet: by `ofWords` after flowExtract, or directly by extract_fast.ts.
 */
export class PacketMiniflow {
  readonly mf = new Uint32Array(MINIFLOW_WORDS);
  hash = 0;

  /** From the key at `key[off..]`, scanning all of it. */
  ofKey(key: Uint32Array, off: number): void {
    this.hash = miniflowOf(key, off, this.mf);
  }

  /** From `key`, whose nonzero words `words` all names. */
  ofWords(key: Uint32Array, words: KeyWords): void {
    this.hash = miniflowOfWords(key, words, this.mf);
  }
}

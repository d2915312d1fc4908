/**
 * Key word maps (`KeyWords`): which of a flow key's 32-bit words may be
 * nonzero, as OVS's miniflow map says which of a struct flow's words a
 * miniflow holds. flowExtract records in one the words it writes, a
 * parsed section at a time; the PMD then clears only those before the
 * next packet and builds the packet's miniflow from them
 * (`miniflowOfWords`, packet_miniflow.ts) instead of scanning every word.
 */
import { clearKey, type FlowKey } from "./key.ts";
import { type FieldSpan, FLOW_WORDS } from "./layout.ts";

/**
 * A map of key words, bit b of word j standing for key word 32j+b, then a
 * validity word (KEY_WORDS_VALID): valid, it names every word of the key
 * that may be nonzero. A caller that writes other words of the key
 * itself either adds them to the map or clears the validity word.
 */
export type KeyWords = Uint32Array;
export const KEY_WORDS_LEN = 4;
export const KEY_WORDS_VALID = 3;

/** A map of every key word (what a caller assumes of an extractor that keeps no map). */
export function allKeyWords(t: KeyWords): void {
  t[0] = t[1] = 0xffffffff;
  t[2] = (1 << (FLOW_WORDS - 64)) - 1;
  t[KEY_WORDS_VALID] = 1;
}

/** The words the fields `spans` occupy, as a KeyWords map. */
export function keyWordsOf(spans: readonly FieldSpan[]): KeyWords {
  const t = new Uint32Array(KEY_WORDS_LEN);
  for (const s of spans) {
    for (let w = s.off >> 2; w <= (s.off + s.len - 1) >> 2; w++) t[w >> 5] |= 1 << (w & 31);
  }
  t[KEY_WORDS_VALID] = 1;
  return t;
}

/** Adds `m`'s words to `t`. */
export function addKeyWords(t: KeyWords, m: KeyWords): void {
  t[0] |= m[0];
  t[1] |= m[1];
  t[2] |= m[2];
}

/** Zeroes the words `t` names (all of them when it is not valid). */
export function clearKeyWords(key: FlowKey, t: KeyWords): void {
  if (t[KEY_WORDS_VALID] !== 1) {
    clearKey(key);
    return;
  }
  for (let j = 0; j < 3; j++) {
    for (let bits = t[j]; bits !== 0; bits &= bits - 1) {
      key[(j << 5) + 31 - Math.clz32(bits & -bits)] = 0;
    }
  }
}

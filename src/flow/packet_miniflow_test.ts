import assert from "node:assert/strict";
import { allKeyWords, KEY_WORDS_LEN } from "./key_words.ts";
import { FLOW_WORDS } from "./layout.ts";
import { MINIFLOW_WORDS, miniflowOf, miniflowOfWords } from "./packet_miniflow.ts";

Deno.test("miniflowOf maps every nonzero word across the three map words", () => {
  const key = new Uint32Array(FLOW_WORDS), mf = new Uint32Array(MINIFLOW_WORDS);
  const at = [0, 5, 31, 32, 63, 64, FLOW_WORDS - 1];
  for (const i of at) key[i] = 0x1000 + i;
  const h = miniflowOf(key, 0, mf);
  assert.deepEqual(
    [...mf.subarray(0, 4)],
    [(1 | (1 << 5) | (1 << 31)) >>> 0, (1 | (1 << 31)) >>> 0, 1 | (1 << (FLOW_WORDS - 1 - 64)), 7],
  );
  assert.deepEqual([...mf.subarray(4, 11)], at.map((i) => 0x1000 + i));
  key[40] = 1;
  assert.notEqual(miniflowOf(key, 0, mf), h);
  assert.equal(mf[1], (1 | (1 << 8) | (1 << 31)) >>> 0);
});

Deno.test("miniflowOf: a key with more nonzero words than an entry holds still hashes them all", () => {
  const key = new Uint32Array(FLOW_WORDS).fill(7), mf = new Uint32Array(MINIFLOW_WORDS);
  const h = miniflowOf(key, 0, mf);
  assert.equal(mf[3], FLOW_WORDS);
  key[FLOW_WORDS - 1] = 8;
  assert.notEqual(miniflowOf(key, 0, mf), h);
});

Deno.test("miniflowOfWords gives miniflowOf's miniflow and hash from the named words only", () => {
  const key = new Uint32Array(FLOW_WORDS), words = new Uint32Array(KEY_WORDS_LEN);
  const a = new Uint32Array(MINIFLOW_WORDS), b = new Uint32Array(MINIFLOW_WORDS);
  let seed = 99;
  for (let round = 0; round < 200; round++) {
    key.fill(0);
    words.fill(0);
    for (let n = round % 40; n > 0; n--) {
      seed = (seed * 1103515245 + 12345) >>> 0;
      const i = seed % FLOW_WORDS;
      key[i] = seed;
      words[i >> 5] |= 1 << (i & 31);
      // A named word that is zero is skipped, as the full scan skips it.
      const j = (seed >>> 8) % FLOW_WORDS;
      if (key[j] === 0) words[j >> 5] |= 1 << (j & 31);
    }
    assert.equal(miniflowOfWords(key, words, b), miniflowOf(key, 0, a));
    assert.deepEqual(
      b.subarray(0, 4 + Math.min(a[3], MINIFLOW_WORDS - 4)),
      a.subarray(0, 4 + Math.min(a[3], MINIFLOW_WORDS - 4)),
    );
  }
  key.fill(5);
  allKeyWords(words);
  assert.equal(miniflowOfWords(key, words, b), miniflowOf(key, 0, a));
  assert.equal(b[3], FLOW_WORDS);
});

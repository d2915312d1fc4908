import assert from "node:assert/strict";
import { FLOW_WORDS } from "../flow/mod.ts";
import { MINIFLOW_WORDS, miniflowOf } from "./emc.ts";

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

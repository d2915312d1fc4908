import assert from "node:assert/strict";
import {
  hash2Words,
  hashBytes,
  hashBytes128,
  hashInt,
  hashString,
  hashWords,
  hashWords128,
} from "./hash.ts";

// Expected values come from OVS's portable (murmur) hash.h/hash.c compiled in C.
const bytes = Uint8Array.from({ length: 40 }, (_, i) => (i * 7 + 1) & 0xff);

Deno.test("hashInt and hash2Words match OVS's murmur variant", () => {
  assert.equal(hashInt(1, 0), 0xea95647d);
  assert.equal(hash2Words(2, 0), 0xa1cba8ce);
});

Deno.test("hashBytes matches hash_bytes, including a partial last word", () => {
  assert.equal(hashBytes(bytes, 0, 13, 0), 0xc5c1f457);
  assert.equal(hashBytes(bytes, 0, 40, 0x1234), 0x3b4eb65f);
  assert.equal(hashString("br0", 0), 0x4587983d);
});

Deno.test("hashWords folds the byte length into the finish step", () => {
  const w = Uint32Array.of(99, 0xdeadbeef, 1, 2);
  assert.equal(hashWords(w, 1, 3, 5), 0x61ab7b43);
});

Deno.test("hashBytes128 matches murmur3 x86_128 for every tail length class", () => {
  const out = new Uint32Array(4);
  const want: Record<number, number[]> = {
    0: [0, 0, 0, 0],
    13: [0xed0d0054, 0x38a24398, 0x712d7360, 0x1c882e0b],
    26: [0x06cc27b6, 0x14c04789, 0xdd43c1aa, 0x7c064add],
    39: [0xb5c05af0, 0x0ed2de5f, 0x48944175, 0x7a045077],
  };
  for (const [len, w] of Object.entries(want)) {
    hashBytes128(bytes, 0, Number(len), 0, out);
    assert.deepEqual([...out], w, `length ${len}`);
  }
});

Deno.test("hashWords128 over words equals hashBytes128 over the same memory", () => {
  const out = new Uint32Array(5);
  const words = new Uint32Array(bytes.buffer.slice(0, 40));
  hashWords128(words, 0, 10, 7, out, 1);
  assert.deepEqual([...out.subarray(1)], [0x9f240e12, 0x28cfba25, 0xe170c985, 0xcfd86dba]);
  const ref = new Uint32Array(4);
  for (const n of [1, 2, 3, 5, 7]) {
    hashWords128(words, 0, n, 3, out);
    hashBytes128(bytes, 0, n * 4, 3, ref);
    assert.deepEqual([...out.subarray(0, 4)], [...ref], `${n} words`);
  }
});

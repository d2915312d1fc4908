import assert from "node:assert/strict";
import { be32 } from "../flow/mod.ts";
import { PrefixTrie } from "./_trie.ts";

/** An IPv4 address as the one key word that holds it. */
const ip = (s: string) =>
  Uint32Array.of(be32(s.split(".").reduce((v, o) => (v << 8) | Number(o), 0) >>> 0));

const lengths = (t: PrefixTrie) => [...t.plens.keys()].filter((n) => t.plens[n]);

Deno.test("an empty trie needs no bits of any value", () => {
  const t = new PrefixTrie();
  assert.equal(t.lookup(ip("10.0.0.1"), 0, 32), 0);
  assert.deepEqual(lengths(t), []);
});

Deno.test("a lookup counts the bits up to and including the first one that differs", () => {
  const t = new PrefixTrie();
  t.insert(ip("10.0.0.1"), 0, 32);
  assert.equal(t.lookup(ip("10.0.0.2"), 0, 32), 31);
  assert.equal(t.lookup(ip("192.168.0.1"), 0, 32), 1);
  assert.equal(t.lookup(ip("10.0.0.1"), 0, 32), 32);
  assert.deepEqual(lengths(t), [32]);
});

Deno.test("a value past the end of a shorter prefix stops at that prefix", () => {
  const t = new PrefixTrie();
  t.insert(ip("10.0.0.0"), 0, 8);
  assert.equal(t.lookup(ip("10.9.9.9"), 0, 32), 8);
  assert.deepEqual(lengths(t), [8]);
  t.insert(ip("10.1.0.0"), 0, 16);
  assert.equal(t.lookup(ip("10.9.9.9"), 0, 32), 13);
  assert.deepEqual(lengths(t), [8]);
});

Deno.test("removing the last rule of a branch prunes it", () => {
  const t = new PrefixTrie();
  t.insert(ip("10.0.0.1"), 0, 32);
  t.insert(ip("10.0.0.1"), 0, 32);
  t.insert(ip("10.0.0.0"), 0, 8);
  t.remove(ip("10.0.0.1"), 0, 32);
  assert.equal(t.lookup(ip("10.0.0.2"), 0, 32), 31);
  t.remove(ip("10.0.0.1"), 0, 32);
  assert.equal(t.lookup(ip("10.0.0.2"), 0, 32), 8);
  t.remove(ip("10.0.0.0"), 0, 8);
  assert.equal(t.lookup(ip("10.0.0.2"), 0, 32), 0);
});

Deno.test("128-bit fields span four key words", () => {
  const t = new PrefixTrie();
  const v6 = (...words: number[]) => Uint32Array.from(words.map(be32));
  t.insert(v6(0x20010db8, 0, 0, 1), 0, 128);
  assert.equal(t.lookup(v6(0x20010db8, 0, 0, 3), 0, 128), 127);
  assert.equal(t.lookup(v6(0x20010db8, 0x8000, 0, 1), 0, 128), 49);
  assert.equal(t.lookup(v6(0x20010db8, 0, 0, 1), 0, 128), 128);
  assert.deepEqual(lengths(t), [128]);
});

Deno.test("the same value looked up again gets the same answer and lengths, until a rule comes or goes", () => {
  const t = new PrefixTrie();
  t.insert(ip("10.0.0.0"), 0, 8);
  assert.equal(t.lookup(ip("10.9.9.9"), 0, 32), 8);
  assert.equal(t.lookup(ip("10.9.9.9"), 0, 32), 8);
  assert.deepEqual(lengths(t), [8]);
  t.insert(ip("10.9.0.0"), 0, 16);
  assert.equal(t.lookup(ip("10.9.9.9"), 0, 32), 16, "a rule added: walked again");
  assert.deepEqual(lengths(t), [8, 16]);
  t.remove(ip("10.0.0.0"), 0, 8);
  assert.equal(t.lookup(ip("10.9.9.9"), 0, 32), 16);
  assert.deepEqual(lengths(t), [16], "a rule removed: its length is gone");
  // A wider value in between leaves the lengths of its own walk.
  const wide = new Uint32Array(4);
  wide[0] = ip("192.0.0.0")[0];
  t.lookup(wide, 0, 128);
  assert.deepEqual(lengths(t), []);
  assert.equal(t.lookup(ip("10.9.9.9"), 0, 32), 16);
  assert.deepEqual(lengths(t), [16]);
});

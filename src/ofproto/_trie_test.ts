import assert from "node:assert/strict";
import { PrefixTrie } from "./_trie.ts";

const ip = (s: string) => s.split(".").reduce((v, o) => (v << 8) | Number(o), 0) >>> 0;

Deno.test("an empty trie needs no bits of any value", () => {
  const t = new PrefixTrie();
  assert.equal(t.lookup(ip("10.0.0.1"), 32), 0);
  assert.equal(t.plens, 0);
});

Deno.test("a lookup counts the bits up to and including the first one that differs", () => {
  const t = new PrefixTrie();
  t.insert(ip("10.0.0.1"), 32);
  assert.equal(t.lookup(ip("10.0.0.2"), 32), 31);
  assert.equal(t.lookup(ip("192.168.0.1"), 32), 1);
  assert.equal(t.lookup(ip("10.0.0.1"), 32), 32);
  assert.equal(t.plens >>> 0, 0x80000000);
});

Deno.test("a value past the end of a shorter prefix stops at that prefix", () => {
  const t = new PrefixTrie();
  t.insert(ip("10.0.0.0"), 8);
  assert.equal(t.lookup(ip("10.9.9.9"), 32), 8);
  assert.equal(t.plens, 1 << 7);
  t.insert(ip("10.1.0.0"), 16);
  assert.equal(t.lookup(ip("10.9.9.9"), 32), 13);
  assert.equal(t.plens, 1 << 7);
});

Deno.test("removing the last rule of a branch prunes it", () => {
  const t = new PrefixTrie();
  t.insert(ip("10.0.0.1"), 32);
  t.insert(ip("10.0.0.1"), 32);
  t.insert(ip("10.0.0.0"), 8);
  t.remove(ip("10.0.0.1"), 32);
  assert.equal(t.lookup(ip("10.0.0.2"), 32), 31);
  t.remove(ip("10.0.0.1"), 32);
  assert.equal(t.lookup(ip("10.0.0.2"), 32), 8);
  t.remove(ip("10.0.0.0"), 8);
  assert.equal(t.lookup(ip("10.0.0.2"), 32), 0);
});

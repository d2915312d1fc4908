/**
 * XcacheStore: a revalidator's xlate caches by ukey slot, and the spare
 * caches it keeps once another revalidator's cache replaced its own.
 */
import assert from "node:assert/strict";
import { XcacheStore } from "./revalidate_ukey.ts";

const OWNER = 1, OTHER = 2;

Deno.test("XcacheStore: a cache is found by slot and generation, and taken whatever the generation", () => {
  const s = new XcacheStore(OWNER);
  const xc = { name: "a" };
  s.set(5, 7, xc);
  assert.equal(s.get(5, 7), xc);
  assert.equal(s.get(5, 8), undefined, "another generation of the slot is another ukey");
  assert.equal(s.size, 1);
  assert.equal(s.take(5), xc, "a stale cache still serves as a container");
  assert.equal(s.size, 0);
  assert.equal(s.get(5, 7), undefined);
});

Deno.test("XcacheStore: caches of ukeys another revalidator owns become spares for slots this one has none for", () => {
  const s = new XcacheStore(OWNER);
  const mine = { name: "mine" }, stale = { name: "stale" }, freed = { name: "freed" };
  s.set(1, 1, mine);
  s.set(2, 1, stale);
  s.set(3, 1, freed);
  assert.equal(s.take(9), undefined, "no cache for slot 9 and no spare: the translation makes one");
  assert.equal(s.wantsSpares, true);
  // Slot 2's ukey has the other revalidator's cache now; slot 3's ukey was freed (owner 0).
  const owners = new Map([[1, OWNER], [2, OTHER], [3, 0]]);
  s.reclaim((slot) => owners.get(slot) ?? 0);
  assert.equal(s.wantsSpares, false);
  assert.equal(s.size, 1, "only the cache of a ukey this one owns is kept by slot");
  assert.equal(s.get(1, 1), mine);
  assert.equal(s.get(2, 1), undefined);
  const spares = new Set([s.take(9), s.take(10)]);
  assert.deepEqual(spares, new Set([stale, freed]), "the reclaimed caches are handed out");
  assert.equal(s.take(11), undefined, "then none are left");
  assert.equal(s.take(1), mine, "a slot's own cache is taken before any spare");
});

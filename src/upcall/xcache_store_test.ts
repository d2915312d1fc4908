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

Deno.test("XcacheStore: slots far apart (on pages made as they are needed) are kept, reclaimed and pruned", () => {
  const s = new XcacheStore(OWNER);
  const slots = [0, 4095, 4096, 70000, 199999];
  for (const slot of slots) s.set(slot, 3, { slot });
  assert.equal(s.size, slots.length);
  for (const slot of slots) assert.deepEqual(s.get(slot, 3), { slot });
  assert.equal(s.get(4097, 3), undefined, "a slot never set on a made page");
  assert.equal(s.get(300000, 3), undefined, "a slot beyond the last page");
  s.prune((slot) => slot === 70000 ? 4 : 3);
  assert.equal(s.get(70000, 3), undefined, "the ukey of slot 70000 was recycled");
  assert.equal(s.size, slots.length - 1);
  s.reclaim((slot) => slot === 199999 ? OTHER : OWNER);
  assert.equal(s.size, slots.length - 2);
  assert.deepEqual(s.take(123456), { slot: 199999 }, "the other revalidator's slot became a spare");
  assert.deepEqual(s.take(4096), { slot: 4096 });
  s.drop(0);
  assert.equal(s.size, 1);
  assert.deepEqual(s.get(4095, 3), { slot: 4095 });
});

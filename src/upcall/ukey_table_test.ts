import assert from "node:assert/strict";
import { Barrier } from "../lib/mod.ts";
import {
  N_UMAPS,
  UKEY_CREATED,
  UKEY_DELETED,
  UKEY_EVICTED,
  UKEY_EVICTING,
  UKEY_OPERATIONAL,
  UKEY_VISIBLE,
  UkeyTable,
  ukeyTableBytes,
} from "./ukey_table.ts";

const ufid = (a: number) => Uint32Array.of(a, a * 3 + 1, 7, 9);

function make(t: UkeyTable, id: number, keyHash = id): number {
  const s = t.alloc();
  assert.ok(s >= 0);
  t.init(s, ufid(id), 0, keyHash, 1, 0, 1000);
  return s;
}

Deno.test("an installed ukey is visible, found by its UFID and counted in its umap", () => {
  const t = UkeyTable.create(16);
  const s = make(t, 5);
  assert.equal(t.state(s), UKEY_CREATED);
  assert.equal(t.lookup(ufid(5), 0), -1);
  assert.equal(t.install(s), "installed");
  assert.equal(t.state(s), UKEY_VISIBLE);
  assert.equal(t.lookup(ufid(5), 0), s);
  assert.equal(t.lookup(ufid(5), 1), -1, "another PMD's flow is another ukey");
  assert.equal(t.umapCount(t.umapOf(s)), 1);
  assert.equal(t.count(), 1);
});

Deno.test("a second ukey for a live flow is refused as a duplicate", () => {
  const t = UkeyTable.create(16);
  const a = make(t, 1);
  t.install(a);
  const b = make(t, 1);
  assert.equal(t.install(b), "duplicate");
  assert.equal(t.lookup(ufid(1), 0), a);
  assert.equal(t.count(), 1);
});

Deno.test("a second ukey while another thread holds the first is told apart as contended", () => {
  const t = UkeyTable.create(16);
  const a = make(t, 1);
  t.install(a);
  t.lock(a);
  assert.equal(t.install(make(t, 1)), "contended");
  t.unlock(a);
  assert.equal(t.lookup(ufid(1), 0), a);
  assert.equal(t.count(), 1);
});

Deno.test("a second ukey replaces one whose flow was evicted", () => {
  const t = UkeyTable.create(16);
  const a = make(t, 1);
  t.install(a);
  t.lock(a);
  assert.ok(t.transition(a, UKEY_OPERATIONAL));
  assert.ok(t.transition(a, UKEY_EVICTING));
  assert.ok(t.transition(a, UKEY_EVICTED));
  t.setDumpSeq(a, 42);
  t.unlock(a);
  const b = make(t, 1);
  assert.equal(t.install(b), "replaced");
  assert.equal(t.lookup(ufid(1), 0), b);
  assert.equal(t.state(a), UKEY_DELETED);
  assert.equal(t.dumpSeq(b), 42, "the new ukey inherits the dump_seq");
  assert.equal(t.count(), 1);
});

Deno.test("the same UFID with a different key is a conflict", () => {
  const t = UkeyTable.create(16);
  t.install(make(t, 1, 100));
  assert.equal(t.install(make(t, 1, 200)), "conflict");
});

Deno.test("a ukey held by one worker cannot be try-locked by another", () => {
  const t = UkeyTable.create(4);
  const s = make(t, 1);
  assert.ok(t.tryLock(s));
  assert.ok(!t.tryLock(s));
  t.unlock(s);
  assert.ok(t.tryLock(s));
});

Deno.test("states only advance, one step at a time except from VISIBLE", () => {
  const t = UkeyTable.create(4);
  const s = make(t, 1);
  t.install(s);
  assert.ok(t.transition(s, UKEY_EVICTED), "VISIBLE may jump to EVICTED");
  assert.ok(!t.transition(s, UKEY_OPERATIONAL), "never backwards");
  assert.equal(t.state(s), UKEY_EVICTED);
  const u = make(t, 2);
  t.install(u);
  assert.ok(t.transition(u, UKEY_OPERATIONAL));
  assert.ok(t.transition(u, UKEY_OPERATIONAL), "OPERATIONAL again is allowed");
  assert.ok(!t.transition(u, UKEY_EVICTED), "no skipping EVICTING");
});

Deno.test("a removed ukey's record is reused only after quiescing, with a new generation", () => {
  const t = UkeyTable.create(2);
  const a = make(t, 1);
  const b = make(t, 2);
  t.install(a);
  t.install(b);
  assert.equal(t.alloc(), -1, "the table is full");
  const gen = t.gen(a);
  t.lockUmap(t.umapOf(a));
  t.removeLocked(a);
  t.unlockUmap(t.umapOf(a));
  assert.equal(t.lookup(ufid(1), 0), -1);
  assert.equal(t.lookup(ufid(2), 0), b);
  assert.equal(t.count(), 1);
  assert.equal(t.alloc(), -1, "still in limbo");
  t.quiesce();
  const c = t.alloc();
  assert.equal(c, a);
  assert.notEqual(t.gen(c), gen);
});

Deno.test("walking a umap visits every ukey hashed to it, across chains", () => {
  const t = UkeyTable.create(4096);
  const slots: number[] = [];
  for (let i = 0; i < 3000; i++) {
    const s = make(t, i);
    t.install(s);
    slots.push(s);
  }
  let seen = 0;
  for (let u = 0; u < N_UMAPS; u++) {
    let n = 0;
    t.forEachInUmap(u, (s) => {
      assert.equal(t.umapOf(s), u);
      n++;
    });
    assert.equal(n, t.umapCount(u));
    seen += n;
  }
  assert.equal(seen, 3000);
  for (let i = 0; i < 3000; i += 97) assert.equal(t.lookup(ufid(i), 0), slots[i]);
});

Deno.test("a ukey costs at most 136 bytes of shared memory at 200k flows", () => {
  assert.ok(ukeyTableBytes(200000) / 200000 <= 136);
});

Deno.test("workers installing the same UFIDs at once get each installed exactly once, and removing concurrently keeps the chains whole", async () => {
  const n = 20000;
  const t = UkeyTable.create(4 * n);
  const barrier = Barrier.create(3);
  const run = (member: number) =>
    new Promise<{ installed: number; duplicates: number; removed: number }>((resolve) => {
      const w = new Worker(
        new URL("../../tests/support/upcall/ukey_table_test_worker.ts", import.meta.url),
        {
          type: "module",
        },
      );
      w.onmessage = (e) => {
        resolve(e.data);
        w.terminate();
      };
      w.postMessage({ table: t.buffer, barrier: barrier.buffer, n, member });
    });
  const results = await Promise.all([run(0), run(1), run(2)]);
  const installed = results.reduce((a, r) => a + r.installed, 0);
  const duplicates = results.reduce((a, r) => a + r.duplicates, 0);
  const removed = results.reduce((a, r) => a + r.removed, 0);
  assert.equal(installed, n, "one ukey per UFID");
  assert.equal(duplicates, 2 * n, "every other attempt was a duplicate");
  assert.equal(t.count(), n - removed);
  let linked = 0;
  for (let u = 0; u < N_UMAPS; u++) t.forEachInUmap(u, () => linked++);
  assert.equal(linked, n - removed, "the chains agree with the counts");
  const ufid = new Uint32Array(4);
  let found = 0;
  for (let i = 0; i < n; i++) {
    ufid.set([i, i * 7, 3, 4]);
    if (t.lookup(ufid, 0) >= 0) found++;
  }
  assert.equal(found, n - removed);
});

Deno.test("a ukey's recirculation ids are given back when its record is released, not before", () => {
  const t = UkeyTable.create(16);
  const s = make(t, 3);
  assert.equal(t.holdRecircs(s, [7, 9]), true);
  assert.equal(t.install(s), "installed");
  const released: number[] = [];
  const release = (id: number) => released.push(id);
  assert.equal(t.holdRecircs(s, [9, 11], release), true, "a MODIFY's new ids replace the old");
  assert.deepEqual(released, [7, 9]);
  assert.equal(t.holdRecircs(s, [1, 2, 3, 4, 5, 6], release), false, "more than a record holds");
  assert.equal(t.recircCount(s), 2, "and nothing changed");
  released.length = 0;
  t.quiesce(release);
  assert.deepEqual(released, [], "a live ukey keeps its ids");
  t.lockUmap(t.umapOf(s));
  t.removeLocked(s);
  t.unlockUmap(t.umapOf(s));
  assert.deepEqual(released, [], "a removed ukey may still be walked: its ids wait for quiesce");
  t.quiesce(release);
  assert.deepEqual(released, [9, 11]);
  const again = make(t, 4);
  assert.equal(t.recircCount(again), 0, "a recycled record starts with none");
});

Deno.test("a revalidator takes a free ukey, skips one held in any state but VISIBLE", () => {
  const t = UkeyTable.create(16);
  const s = make(t, 4);
  t.install(s);
  assert.equal(t.tryLockForRevalidation(s), true, "a free ukey is taken");
  t.transition(s, UKEY_OPERATIONAL);
  assert.equal(t.tryLockForRevalidation(s), false, "held and OPERATIONAL: contended");
  t.unlock(s);
});

Deno.test("a revalidator waits for a handler finishing a VISIBLE ukey's install, then has it OPERATIONAL", async () => {
  const t = UkeyTable.create(16);
  const s = make(t, 6);
  t.install(s);
  const go = new Int32Array(new SharedArrayBuffer(8));
  const w = new Worker(
    new URL("../../tests/support/upcall/ukey_hold_worker.ts", import.meta.url),
    { type: "module" },
  );
  let next: (m: string) => void = () => {};
  w.onmessage = (e) => next(e.data);
  try {
    const held = new Promise<string>((resolve) => (next = resolve));
    w.postMessage({ table: t.buffer, slot: s, go: go.buffer });
    assert.equal(await held, "held");
    Atomics.store(go, 0, 1);
    Atomics.notify(go, 0);
    assert.equal(t.tryLockForRevalidation(s), true, "waited for the install to finish");
    assert.equal(t.state(s), UKEY_OPERATIONAL, "the handler's move came first");
    t.unlock(s);
  } finally {
    w.terminate();
  }
});

import assert from "node:assert/strict";
import { lockOwner } from "../lib/mod.ts";
import { RuleStatsQueue } from "./rule_stats.ts";

Deno.test("credits queued by any thread come out in order on drain", () => {
  const q = RuleStatsQueue.create(4);
  const other = RuleStatsQueue.attach(q.buffer);
  q.push(1, 2, 120, 1000);
  other.push(7, 1, 60, 1500, 3);
  const got: number[][] = [];
  assert.equal(q.drain((...r) => got.push(r)), 2);
  assert.deepEqual(got, [[1, 2, 120, 1000, 0], [7, 1, 60, 1500, 3]]);
  assert.equal(q.drain(() => assert.fail("nothing left")), 0);
});

Deno.test("a full queue drops credits and counts them instead of blocking", () => {
  const q = RuleStatsQueue.create(2);
  for (let i = 0; i < 5; i++) q.push(i, 1, 1, 0);
  assert.equal(q.dropped, 3);
  const ids: number[] = [];
  q.drain((id) => ids.push(id));
  assert.deepEqual(ids, [0, 1]);
  q.push(9, 1, 1, 0);
  q.drain((id) => ids.push(id));
  assert.deepEqual(ids, [0, 1, 9]);
});

Deno.test("a transaction's credits appear all at once, at its commit", () => {
  const q = RuleStatsQueue.create(8);
  q.begin();
  q.push(1, 2, 120, 1000);
  q.push(2, 2, 120, 1000);
  assert.equal(q.drain(() => assert.fail("staged credits are private")), 0);
  let token = -1;
  q.commit((t) => {
    token = t;
  });
  assert.equal(token, 2);
  const ids: number[] = [];
  assert.equal(q.drain((id) => ids.push(id)), 2);
  assert.deepEqual(ids, [1, 2]);
  q.push(3, 1, 60, 0);
  assert.equal(q.drain(() => {}), 1, "after a commit, pushes publish at once again");
});

Deno.test("a writer dead at its commit point is published by completeCommitOf, one dead before it is not", () => {
  const q = RuleStatsQueue.create(8);
  const writer = RuleStatsQueue.attach(q.buffer);
  // Dies at the commit point: the callback is where its journal marks it.
  writer.begin();
  writer.push(5, 3, 180, 0);
  let token = -1;
  assert.throws(() =>
    writer.commit((t) => {
      token = t;
      throw new Error("killed");
    })
  );
  // The dead writer (this thread's owner id) holds the lock: complete it.
  assert.equal(q.completeCommitOf(lockOwner(), token), true);
  const got: number[] = [];
  assert.equal(q.drain((id, p) => got.push(id, p)), 1);
  assert.deepEqual(got, [5, 3]);
  // Dies before its commit point (journal PREPARED): only its lock is released.
  writer.begin();
  writer.push(6, 1, 60, 0);
  assert.throws(() =>
    writer.commit(() => {
      throw new Error("killed");
    })
  );
  assert.equal(q.releaseLockOf(lockOwner()), true);
  assert.equal(q.drain(() => assert.fail("uncommitted credits stay invisible")), 0);
  assert.equal(q.completeCommitOf(lockOwner(), 99), false, "no lock held: nothing to complete");
});

Deno.test("a transaction that does not fit is dropped whole", () => {
  const q = RuleStatsQueue.create(2);
  q.begin();
  for (let i = 0; i < 3; i++) q.push(i, 1, 1, 0);
  q.commit(() => {});
  assert.equal(q.dropped, 3);
  assert.equal(q.drain(() => assert.fail("nothing half-published")), 0);
});

import assert from "node:assert/strict";
import { RuleStatsQueue } from "./rule_stats.ts";

Deno.test("credits queued by any thread come out in order on drain", () => {
  const q = RuleStatsQueue.create(4);
  const other = RuleStatsQueue.attach(q.buffer);
  q.push(1, 2, 120, 1000);
  other.push(7, 1, 60, 1500);
  const got: number[][] = [];
  assert.equal(q.drain((...r) => got.push(r)), 2);
  assert.deepEqual(got, [[1, 2, 120, 1000], [7, 1, 60, 1500]]);
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

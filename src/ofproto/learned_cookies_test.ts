/** delete_learned: a learning rule's removal takes the flows with its learn's cookie along. */
import assert from "node:assert/strict";
import { OfTables, type RuleRemovedReason } from "./mod.ts";

const LEARNER =
  "table=0,in_port=1,actions=learn(table=1,cookie=0x9,delete_learned,NXM_OF_ETH_DST[])";

function tablesWithLearned(): OfTables {
  const t = new OfTables();
  t.addFlows(
    [
      LEARNER,
      "table=1,cookie=0x9,dl_dst=50:54:00:00:00:05,actions=output:1",
      "table=1,cookie=0x9,priority=0,actions=drop",
      "table=1,cookie=0x8,actions=output:3",
      "table=2,cookie=0x9,actions=output:2",
    ].join("\n"),
    0,
  );
  return t;
}

const left = (t: OfTables) => [...t.rules()].map((r) => `${r.tableId}/0x${r.cookie.toString(16)}`);

Deno.test("deleting the learning rule deletes its table's flows with the cookie, in the same change", () => {
  const t = tablesWithLearned();
  const removed: [string, RuleRemovedReason][] = [];
  t.onRemoved = (r, why) => removed.push([`${r.tableId}/0x${r.cookie.toString(16)}`, why]);
  const u = t.delFlows("in_port=1", false);
  assert.deepEqual(left(t), ["1/0x8", "2/0x9"]);
  assert.equal(u?.ops.length, 3);
  assert.deepEqual(removed.map(([, why]) => why), ["delete", "delete", "delete"]);
});

Deno.test("another rule with the same delete_learned learn keeps the flows; expiry flushes too", () => {
  const t = tablesWithLearned();
  t.addFlow(LEARNER.replace("in_port=1", "in_port=2"), 0);
  t.delFlows("in_port=1", false);
  assert.equal(left(t).filter((x) => x === "1/0x9").length, 2);
  t.addFlow(LEARNER.replace("in_port=1", "in_port=3,hard_timeout=1"), 0);
  t.delFlows("in_port=2", false);
  assert.equal(left(t).filter((x) => x === "1/0x9").length, 2);
  t.expire(5000);
  assert.deepEqual(left(t), ["1/0x8", "2/0x9"]);
});

Deno.test("without delete_learned the learned flows stay", () => {
  const t = new OfTables();
  t.addFlows(
    `${LEARNER.replace(",delete_learned", "")}\ntable=1,cookie=0x9,actions=drop`,
    0,
  );
  t.delFlows("in_port=1", false);
  assert.deepEqual(left(t), ["1/0x9"]);
});

/**
 * Learned flows from a translation's queue to the master tables: add,
 * refresh (hard timeout restarts), limit, fin_timeout, a learning rule
 * that went away, and one tables change per drain.
 */
import assert from "node:assert/strict";
import { F, newKey } from "../flow/mod.ts";
import { learnFlowMod, type OfAction, OfTables, type TablesUpdate } from "../ofproto/mod.ts";
import { BridgeLearning, QueueLearnSink } from "./bridge_learn.ts";

function flowFrom(mac: number, inPort: number) {
  const k = newKey();
  const b = new Uint8Array(k.buffer);
  b.set([0x50, 0x54, 0, 0, 0, mac], F.dl_src.off);
  new DataView(k.buffer).setUint32(F.in_port.off, inPort);
  return k;
}

function setup(learn: string) {
  const tables = new OfTables();
  tables.addFlow(`table=0,in_port=1,actions=${learn},output:2`, 0);
  const updates: TablesUpdate[] = [];
  const learning = new BridgeLearning(tables, (u) => u && updates.push(u));
  const sink = new QueueLearnSink(learning.queue, tables);
  const rule = [...tables.rules()][0];
  const action = rule.actions[0] as OfAction & { type: "learn" };
  const learnAt = (mac: number) => {
    const flow = flowFrom(mac, 1);
    return sink.learn(rule.id, 0, flow, learnFlowMod(action.learn, flow), action.learn.limit);
  };
  return { tables, updates, learning, sink, rule, learnAt };
}

const table1 = (t: OfTables) => [...t.rules()].filter((r) => r.tableId === 1);

Deno.test("queued learns become learned flows in one tables change per drain", () => {
  const s = setup(
    "learn(table=1,hard_timeout=10,NXM_OF_ETH_DST[]=NXM_OF_ETH_SRC[],output:NXM_OF_IN_PORT[])",
  );
  assert.ok(s.learnAt(5));
  assert.ok(s.learnAt(6));
  assert.ok(s.learnAt(5), "the same flow twice is one flow");
  assert.equal(table1(s.tables).length, 0, "nothing happens before the main thread drains");
  s.learning.run(1000);
  assert.equal(s.updates.length, 1);
  assert.equal(table1(s.tables).length, 2);
  assert.equal(table1(s.tables)[0].hardTimeout, 10);
});

Deno.test("learning an existing flow again restarts its hard timeout without a tables change", () => {
  const s = setup("learn(table=1,hard_timeout=10,NXM_OF_ETH_DST[]=NXM_OF_ETH_SRC[])");
  s.learnAt(5);
  s.learning.run(1000);
  s.learnAt(5);
  s.learning.run(8000);
  assert.equal(s.updates.length, 1);
  assert.equal(table1(s.tables)[0].modifiedMs, 8000);
  assert.equal(s.tables.expire(12000), null, "hard timeout counts from the refresh");
  assert.notEqual(s.tables.expire(18001), null);
});

Deno.test("limit refuses a new flow once the table has that many with the cookie", () => {
  const s = setup("learn(table=1,cookie=0x7,limit=1,NXM_OF_ETH_DST[]=NXM_OF_ETH_SRC[])");
  assert.ok(s.learnAt(5));
  assert.ok(s.learnAt(6), "the worker's replica has not seen the first one yet");
  s.learning.run(0);
  assert.equal(table1(s.tables).length, 1, "the main thread enforces the limit");
  assert.equal(s.learnAt(7), false, "now the replica refuses too");
  assert.ok(s.learnAt(5), "refreshing the learned flow is no new flow");
});

Deno.test("fin_timeout shortens the rule's timeouts; a vanished learning rule learns nothing", () => {
  const s = setup("learn(table=1,NXM_OF_ETH_DST[]=NXM_OF_ETH_SRC[])");
  s.sink.reduceTimeouts(s.rule.id, 3, 0);
  s.learnAt(5);
  s.tables.delFlows("in_port=1", false);
  s.learning.run(0);
  assert.equal(table1(s.tables).length, 0);
  const t = setup("learn(table=1,NXM_OF_ETH_DST[]=NXM_OF_ETH_SRC[])");
  t.sink.reduceTimeouts(t.rule.id, 3, 0);
  t.learning.run(0);
  assert.equal(t.rule.idleTimeout, 3);
  assert.equal(t.rule.hardTimeout, 0);
});

Deno.test("a learned flow counts as learned only as the learn would leave it", () => {
  const s = setup(
    "learn(table=1,cookie=0x7,limit=1,hard_timeout=10,NXM_OF_ETH_DST[]=NXM_OF_ETH_SRC[],output:NXM_OF_IN_PORT[])",
  );
  const action = s.rule.actions[0] as OfAction & { type: "learn" };
  const fmOf = (mac: number) => learnFlowMod(action.learn, flowFrom(mac, 1));
  assert.equal(s.sink.isLearned(fmOf(5)), false, "not before the main thread drains");
  s.learnAt(5);
  s.learning.run(0);
  assert.equal(s.sink.isLearned(fmOf(5)), true);
  assert.equal(s.learning.direct.isLearned(fmOf(5)), true);
  assert.equal(s.sink.isLearned(fmOf(6)), false, "another source is another flow");
  // The same match with other actions or timeouts is not what the learn makes.
  s.tables.flowMods([{ ...fmOf(5), actions: [{ type: "output", port: 3 }] }], false, 0);
  assert.equal(s.sink.isLearned(fmOf(5)), false);
  // A modify keeps the timeouts; an add replaces the rule.
  s.tables.flowMods([{ ...fmOf(5), command: "add", strict: false, hardTimeout: 20 }], false, 0);
  assert.equal(s.sink.isLearned(fmOf(5)), false);
  s.tables.flowMods([{ ...fmOf(5), command: "add", strict: false }], false, 0);
  assert.equal(s.sink.isLearned(fmOf(5)), true);
  s.tables.delFlows("table=1", false);
  assert.equal(s.sink.isLearned(fmOf(5)), false, "deleted");
});

import assert from "node:assert/strict";
import { OfTables } from "./tables.ts";
import { OFP10_VERSION, OFP13_VERSION } from "./action_format.ts";
import { formatRule, ruleJson } from "./rule.ts";

const DIR = new URL("../../fixtures/ofproto/dump/", import.meta.url);
const read = (f: string) => Deno.readTextFileSync(new URL(f, DIR));

Deno.test("dump-flows in OpenFlow 1.0 prints what ovs-ofctl printed for the same flows", () => {
  const t = new OfTables();
  t.addFlows(read("flows-of10.txt"), 0);
  assert.equal(t.dumpFlows({ version: OFP10_VERSION }), read("expected-of10.txt"));
});

Deno.test("dump-flows with -O OpenFlow13 prints set_field, pop_vlan and goto_table as OVS does", () => {
  const t = new OfTables();
  t.addFlows(read("flows-of13.txt"), 0, { version: OFP13_VERSION });
  assert.equal(t.dumpFlows({ version: OFP13_VERSION }), read("expected-of13.txt"));
});

Deno.test("a flow line shows duration, idle_age and hard_age the way OVS computes them", () => {
  const t = new OfTables();
  t.addFlow("priority=10,tcp,tp_dst=80,actions=output:2", 1000);
  const r = [...t.rules()][0];
  t.creditStats(r.id, 3, 354, 4000);
  assert.equal(
    formatRule(r, { nowMs: 6162 }),
    " cookie=0x0, duration=5.162s, table=0, n_packets=3, n_bytes=354, idle_age=2, priority=10,tcp,tp_dst=80 actions=output:2",
  );
  t.modFlows("tcp,tp_dst=80,actions=output:3", false, 3000);
  assert.equal(
    formatRule([...t.rules()][0], { nowMs: 7000 }),
    " cookie=0x0, duration=6s, table=0, n_packets=3, n_bytes=354, idle_age=3, hard_age=4, priority=10,tcp,tp_dst=80 actions=output:3",
  );
  assert.equal(
    formatRule([...t.rules()][0], { nowMs: 7000, version: OFP13_VERSION }),
    " cookie=0x0, duration=6s, table=0, n_packets=3, n_bytes=354, reset_counts priority=10,tcp,tp_dst=80 actions=output:3",
  );
});

Deno.test("a catch-all rule prints no match, only its actions", () => {
  const t = new OfTables();
  t.addFlow("actions=normal", 0);
  t.addFlow("table=3,cookie=0xab,priority=0,actions=drop", 0);
  assert.equal(
    t.dumpFlows(),
    "NXST_FLOW reply:\n" +
      " cookie=0x0, table=0, n_packets=0, n_bytes=0, actions=NORMAL\n" +
      " cookie=0xab, table=3, n_packets=0, n_bytes=0, priority=0 actions=drop\n",
  );
});

Deno.test("a rule as JSON carries the dump-flows fields by name", () => {
  const t = new OfTables();
  t.addFlow("cookie=0x1f,table=2,priority=7,idle_timeout=9,tcp,tp_dst=80,actions=output:2", 1000);
  const r = [...t.rules()][0];
  t.creditStats(r.id, 2, 120, 2000);
  assert.deepEqual(ruleJson(r, { nowMs: 4500 }), {
    cookie: "0x1f",
    table: 2,
    priority: 7,
    match: "tcp,tp_dst=80",
    actions: "output:2",
    n_packets: 2,
    n_bytes: 120,
    idle_timeout: 9,
    hard_timeout: 0,
    flags: ["reset_counts"],
    duration_ms: 3500,
    idle_age: 2,
  });
});

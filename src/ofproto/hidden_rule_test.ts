import assert from "node:assert/strict";
import { newKey } from "../flow/mod.ts";
import { MAX_VISIBLE_PRIORITY, OfTables } from "./tables.ts";
import { newFlowMod } from "./flow_mod.ts";
import { newMatch } from "./match.ts";

Deno.test("a rule above OpenFlow's priorities is hidden: not dumped, not touched by flow-mods", () => {
  const t = new OfTables();
  t.addFlow("priority=5,actions=drop", 0);
  const hidden = newFlowMod("add", false, newMatch(), 0xf0f0f0);
  hidden.tableId = 0;
  hidden.actions = [{ type: "output", port: 0xfffa }];
  t.flowMods([hidden], false, 0);
  assert.ok(0xf0f0f0 > MAX_VISIBLE_PRIORITY);
  // It wins every lookup...
  assert.equal(t.lookup(0, newKey(), null)?.priority, 0xf0f0f0);
  // ...but dump-flows and a loose delete of everything do not see it.
  assert.equal(t.dumpFlows().split("\n").filter((l) => l.includes("priority")).length, 1);
  assert.doesNotMatch(t.dumpFlows(), /NORMAL/);
  t.delFlows("", false);
  assert.equal(t.lookup(0, newKey(), null)?.priority, 0xf0f0f0);
  assert.equal(t.dumpFlows(), "NXST_FLOW reply:\n");
  // Only the switch's strict delete at its priority removes it.
  const del = newFlowMod("delete", true, newMatch(), 0xf0f0f0);
  del.tableId = 0;
  t.flowMods([del], true, 0);
  assert.equal(t.lookup(0, newKey(), null), null);
});

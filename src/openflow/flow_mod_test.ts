import assert from "node:assert/strict";
import {
  type FlowMod,
  formatActions,
  formatMatch,
  parseFlowMod,
  parseFlowModLine,
} from "../ofproto/mod.ts";
import { recorded } from "../../tests/support/openflow/recorded.ts";
import { OfpError } from "./errors.ts";
import { decodeFlowMod } from "./flow_mod.ts";

/** The flow-mods of a recorded step, decoded as udpif's connection would. */
function decodedMods(step: string): FlowMod[] {
  const out: FlowMod[] = [];
  for (const { client } of recorded(step)) {
    const version = client[0][0] === 1 ? 1 : 4;
    let tableIdExtension = false;
    for (const m of client) {
      const nxSubtype = m[1] === 4 ? m[15] : undefined;
      if (nxSubtype === 15) tableIdExtension = m[16] !== 0;
      if (m[1] === 14) out.push(decodeFlowMod(m, { version, tableIdExtension }));
      if (nxSubtype === 13) out.push(decodeFlowMod(m, { version, tableIdExtension }, true));
    }
  }
  return out;
}

function summary(fm: FlowMod) {
  return {
    command: fm.command,
    strict: fm.strict,
    table: fm.tableId,
    priority: fm.command === "delete" && !fm.strict ? undefined : fm.priority,
    cookie: fm.cookie,
    cookieMask: fm.cookieMask,
    // An add's cookie is the rule's, however it was given (addRule reads either).
    newCookie: fm.command === "add" ? fm.newCookie ?? fm.cookie : fm.newCookie,
    match: formatMatch(fm.match, 0),
    actions: fm.actions && formatActions(fm.actions),
    flags: fm.flags,
    outPort: fm.outPort,
  };
}

const CASES: [string, string, number, string?][] = [
  ["add_of10", "priority=100,ip,nw_dst=10.0.0.1,actions=output:2", 1],
  [
    "add_nxm",
    "table=1,priority=5,reg0=0x5,tcp_flags=+syn,actions=resubmit(,2),load:0x3->NXM_NX_REG1[0..7]",
    1,
  ],
  ["add_of13", "table=2,priority=7,tcp,tp_dst=80,actions=set_field:10.0.0.9->ip_dst,output:3", 4],
  ["mod_flows", "modify ip,nw_dst=10.0.0.1,actions=output:3,mod_vlan_vid:7", 1],
  ["mod_strict13", "modify_strict priority=50,in_port=3,actions=output:1", 4],
  ["del_strict", "delete_strict priority=100,ip,nw_dst=10.0.0.1", 1],
  ["del_of13", "delete table=2", 4],
  ["del_all", "delete", 1],
];

Deno.test("flow_mod: ovs-ofctl's OFPT_FLOW_MOD, NXT_FLOW_MOD and OF1.3 flow_mod decode to the FlowMod its text parses to", () => {
  for (const [step, line, version] of CASES) {
    const [fm] = decodedMods(step);
    assert.deepEqual(summary(fm), summary(parseFlowModLine(line, { version })), step);
  }
  // add-flows: three OF1.0 flow-mods with the table in the command's high byte.
  const mods = decodedMods("add_flows");
  const text = Deno.readTextFileSync(
    new URL("../../fixtures/openflow/add_flows.flows", import.meta.url),
  );
  const lines = text.trim().split("\n");
  assert.equal(mods.length, lines.length);
  mods.forEach((fm, i) => assert.deepEqual(summary(fm), summary(parseFlowMod(lines[i])), lines[i]));
});

Deno.test("flow_mod: an exact OpenFlow 1.0 match gets priority 65535; bad commands, flags and tables are refused", () => {
  const [msg] = recorded("add_of10").flatMap((c) => c.client).filter((m) => m[1] === 14);
  const exact = msg.slice();
  exact.fill(0, 8, 12); // wildcards 0: every field exact
  assert.equal(decodeFlowMod(exact, { version: 1, tableIdExtension: false }).priority, 0xffff);
  const badCommand = msg.slice();
  badCommand[57] = 9;
  assert.throws(
    () => decodeFlowMod(badCommand, { version: 1, tableIdExtension: false }),
    (e) => e instanceof OfpError && e.errorName === "OFPFMFC_BAD_COMMAND",
  );
  const truncated = msg.slice(0, 60);
  truncated[3] = 60;
  assert.throws(
    () => decodeFlowMod(truncated, { version: 1, tableIdExtension: false }),
    (e) => e instanceof OfpError && e.errorName === "OFPBRC_BAD_LEN",
  );
  const [of13] = recorded("add_of13").flatMap((c) => c.client).filter((m) => m[1] === 14);
  const allTables = of13.slice();
  allTables[24] = 0xff; // table_id OFPTT_ALL in an add
  assert.throws(
    () => decodeFlowMod(allTables, { version: 4, tableIdExtension: false }),
    (e) => e instanceof OfpError && e.errorName === "OFPFMFC_BAD_TABLE_ID",
  );
});

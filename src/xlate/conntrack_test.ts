/**
 * ct(), nat and ct_clear in translation, and the recirculation they fork:
 * the datapath actions and megaflows OVS 3.1 produced for the same rules
 * (tests/conformance/cases/ct-*), the frozen state a recirc_id(N) upcall
 * thaws, and the recirculation ids' references.
 */
import assert from "node:assert/strict";
import { bytesOf, F, type FlowKey, formatOdpActions, setUint } from "../flow/mod.ts";
import { OfTables } from "../ofproto/mod.ts";
import { XBridge } from "./bridge.ts";
import type { XlateOutput } from "./context.ts";
import { RecircIdPool } from "./recirc.ts";
import { parseExactFlow } from "./trace_flow.ts";
import { ofprotoTrace, type TraceSwitch } from "./trace.ts";
import { formatMegaflow } from "./trace_flow.ts";
import { xlate } from "./xlate.ts";

const bridge = new XBridge("br0", [
  { name: "p1", ofport: 1, odpPort: 1 },
  { name: "p2", ofport: 2, odpPort: 2 },
  { name: "p3", ofport: 3, odpPort: 3 },
]);

function setup(rules: string[]) {
  const tables = new OfTables();
  for (const r of rules) tables.addFlow(r, 0);
  return { tables, pool: new RecircIdPool() };
}

function run(s: ReturnType<typeof setup>, flow: FlowKey): XlateOutput {
  return xlate({
    flow,
    tables: s.tables,
    bridge,
    ml: null,
    nowMs: 0,
    recircIds: s.pool,
    sideEffects: true,
  });
}

/** The flow of a packet after the datapath ran ct and recirculated it. */
function recirculated(flow: FlowKey, id: number, ctState: number, zone = 0): FlowKey {
  const out = flow.slice();
  const b = bytesOf(out);
  setUint(b, F.recirc_id.off, 4, id);
  b[F.ct_state.off] = ctState;
  setUint(b, F.ct_zone.off, 2, zone);
  return out;
}

const UDP = "in_port=1,udp,nw_src=10.0.0.1,nw_dst=10.0.0.2,udp_src=1000,udp_dst=53";
const CT_TRACE_RULES = [
  "table=0,priority=10,ip,ct_state=-trk,actions=ct(table=1,zone=9)",
  "table=0,priority=0,actions=drop",
  "table=1,priority=10,ct_state=+trk+new,ip,actions=ct(commit,zone=9,exec(set_field:1->ct_mark)),output:2",
  "table=1,priority=10,ct_state=+trk+est,ip,actions=output:2",
  "table=1,priority=0,actions=drop",
];

Deno.test("ct(table=1) forks recirc(N); the recirc_id(N) pass resumes at table 1", () => {
  const s = setup(CT_TRACE_RULES);
  const flow = parseExactFlow(UDP, bridge);
  const first = run(s, flow);
  assert.equal(formatOdpActions(first.actions), "ct(zone=9),recirc(0x1)");
  assert.equal(
    formatMegaflow(flow, first.wc),
    "recirc_id=0,ct_state=-trk,eth,ip,in_port=1,nw_frag=no",
  );
  assert.deepEqual(first.recircs, [1]);

  const second = run(s, recirculated(flow, 1, 0x21, 9));
  assert.equal(formatOdpActions(second.actions), "ct(commit,zone=9,mark=0x1/0xffffffff),2");
  assert.deepEqual(second.recircs, [1], "the resumed flow references its own id");
  assert.equal(
    formatMegaflow(recirculated(flow, 1, 0x21, 9), second.wc),
    "recirc_id=0x1,ct_state=+new+trk,eth,ip,in_port=1,nw_frag=no",
  );
  const est = run(s, recirculated(flow, 1, 0x22, 9));
  assert.equal(formatOdpActions(est.actions), "2");
  assert.equal(
    formatMegaflow(recirculated(flow, 1, 0x22, 9), est.wc),
    "recirc_id=0x1,ct_state=-new+est+trk,eth,ip,in_port=1,nw_frag=no",
  );
});

Deno.test("the same fork takes a reference on the same id; the last release frees it", () => {
  const s = setup(CT_TRACE_RULES);
  const flow = parseExactFlow(UDP, bridge);
  const a = run(s, flow), b = run(s, flow);
  assert.deepEqual([a.recircs, b.recircs], [[1], [1]]);
  const resumed = run(s, recirculated(flow, 1, 0x21));
  assert.equal(formatOdpActions(resumed.actions).endsWith(",2"), true);
  s.pool.release(1);
  s.pool.release(1);
  assert.equal(s.pool.inUse(), 1, "the resumed flow keeps the state alive");
  s.pool.release(1);
  const orphan = run(s, recirculated(flow, 1, 0x21));
  assert.equal(orphan.error, "No recirculation context");
  assert.equal(s.pool.inUse(), 0);
  assert.deepEqual(run(s, flow).recircs, [2], "a freed id is never handed out again");
});

Deno.test("frozen state: registers and metadata at the fork come back; a zone from a field", () => {
  const s = setup([
    "table=0,priority=10,ip,ct_state=-trk,actions=load:7->NXM_NX_REG0[0..15],write_metadata:0x5,ct(zone=NXM_NX_REG0[0..15],table=1)",
    "table=1,priority=10,reg0=7,metadata=5,ct_state=+trk,ip,actions=output:3",
    "table=1,priority=0,actions=drop",
  ]);
  const flow = parseExactFlow(UDP, bridge);
  const first = run(s, flow);
  assert.equal(formatOdpActions(first.actions), "ct(zone=7),recirc(0x1)");
  const second = run(s, recirculated(flow, 1, 0x21, 7));
  assert.equal(formatOdpActions(second.actions), "3");
  // Two different register values are two frozen states.
  const other = setup([
    "table=0,priority=10,ip,in_port=1,actions=load:1->NXM_NX_REG1[],ct(table=1)",
    "table=0,priority=10,ip,in_port=2,actions=load:2->NXM_NX_REG1[],ct(table=1)",
  ]);
  const f2 = parseExactFlow(UDP.replace("in_port=1", "in_port=2"), bridge);
  assert.deepEqual([run(other, flow).recircs, run(other, f2).recircs], [[1], [2]]);
});

Deno.test("nat, ct_label and ct_clear reach the datapath actions as OVS writes them", () => {
  const s = setup([
    "table=0,priority=10,ip,ct_state=-trk,actions=ct(table=1,nat)",
    "table=1,priority=10,ct_state=+trk+new,ip,actions=ct(commit,nat(src=192.168.1.1-192.168.1.10:2000-3000,random),exec(set_field:0x1000000000000000000000000000beef->ct_label)),ct_clear,output:2",
    "table=1,priority=5,ct_state=+trk,udp,actions=ct_clear,ct(commit,force,alg=tftp),output:3",
  ]);
  const flow = parseExactFlow(UDP, bridge);
  assert.equal(formatOdpActions(run(s, flow).actions), "ct(nat),recirc(0x1)");
  assert.equal(
    formatOdpActions(run(s, recirculated(flow, 1, 0x21)).actions),
    "ct(commit,label=0x1000000000000000000000000000beef," +
      "nat(src=192.168.1.1-192.168.1.10:2000-3000,random)),2",
  );
  assert.equal(
    formatOdpActions(run(s, recirculated(flow, 1, 0x22)).actions),
    "ct_clear,ct(force_commit,helper=tftp),3",
  );
});

function traceOf(rules: string[], args: string[]): string {
  const s = setup(rules);
  const tb = () => ({ bridge, tables: s.tables, ml: null, recircIds: s.pool });
  const sw: TraceSwitch = {
    bridge: (name) => (name === "br0" ? tb() : undefined),
    bridgeOfOdpPort: () => tb(),
    dpType: "dummy",
    nowMs: 0,
  };
  const text = ofprotoTrace(args, sw);
  assert.equal(s.pool.inUse(), 0, "the trace releases every id it took");
  return text;
}

Deno.test("ofproto/trace resumes each fork with --ct-next's states, then the default", () => {
  const text = traceOf(CT_TRACE_RULES, ["br0", UDP, "--ct-next", "trk,est"]);
  assert.match(text, /recirc\(0x1\) - resume conntrack with ct_state=est\|trk\n/);
  assert.match(text, /\n {4}thaw\n {8}Resuming from table 1\n 1\. ct_state=\+est\+trk,ip/);
  assert.match(text, /Megaflow: recirc_id=0x1,ct_state=-new\+est\+trk,eth,ip,in_port=1,nw_frag=no/);
  const dflt = traceOf(CT_TRACE_RULES, ["br0", UDP]);
  assert.match(dflt, /default ct_state=trk\|new \(use --ct-next to customize\)/);
  assert.throws(() => traceOf(CT_TRACE_RULES, ["br0", UDP, "--ct-next", "est"]), {
    message: 'est: invalid connection state: If "trk" is unset, no other flags are set',
  });
  assert.throws(() => traceOf(CT_TRACE_RULES, ["br0", UDP, "--ct-next", "foo"]), {
    message: "foo: unknown connection tracking state flag",
  });
  assert.throws(() => traceOf(CT_TRACE_RULES, ["br0", UDP, "--ct-next"]), {
    message: "Missing argument for option --ct-next",
  });
});

Deno.test("a NAT fork's trace simulates the NAT's first address and port", () => {
  const text = traceOf([
    "table=0,priority=10,ip,ct_state=-trk,actions=ct(commit,table=1,nat(dst=10.0.0.20:8080))",
    "table=1,priority=10,ip,nw_dst=10.0.0.20,actions=output:2",
  ], ["br0", UDP]);
  assert.match(
    text,
    /Replacing src\/dst IP\/ports to simulate NAT:\n Initial flow: nw_src=10\.0\.0\.1,tp_src=1000,nw_dst=10\.0\.0\.2,tp_dst=53\n Modified flow: nw_src=10\.0\.0\.1,tp_src=1000,nw_dst=10\.0\.0\.20,tp_dst=8080\n/,
  );
  assert.match(text, /Datapath actions: 2$/);
});

/**
 * ofproto/trace against OVS 3.1's own traces (fixtures/xlate/trace): the
 * same rules, port VLAN settings and learned MACs give the same text, up
 * to the order of flooded ports, which OVS takes from a hash table.
 */
import assert from "node:assert/strict";
import { Replay, sortPortRuns } from "../../tests/support/xlate/replay.ts";
import { ofprotoTrace, type TraceSwitch } from "./trace.ts";
import { OFP10_VERSION } from "../ofproto/mod.ts";

const DIR = new URL("../../fixtures/xlate/trace/", import.meta.url);

function traceSwitch(r: Replay): TraceSwitch {
  const tb = () => ({ bridge: r.bridge, tables: r.tables, ml: r.ml, recircIds: r.recircIds });
  return {
    bridge: (name) => (name === "br0" ? tb() : undefined),
    bridgeOfOdpPort: (p) => (r.bridge.portByOdp(p) ? tb() : undefined),
    dpType: "dummy",
    nowMs: r.nowMs,
  };
}

/**
 * NORMAL floods in bundle hash order, and with VLAN translation the
 * push/pop actions fall between outputs in an order that follows it: a
 * port that gets the packet's own VLAN may see it untouched or popped and
 * pushed again. What must match is which port gets which VLAN headers.
 */
function vlanOutputs(actions: string, flowLine: string): string {
  const vid = /dl_vlan=(\d+)/.exec(flowLine)?.[1];
  const pcp = /dl_vlan_pcp=(\d+)/.exec(flowLine)?.[1];
  const stack = vid === undefined ? [] : [`vid=${vid},pcp=${pcp}`];
  const outs: string[] = [];
  for (const a of actions.split(/,(?![^(]*\))/)) {
    if (a === "pop_vlan") stack.pop();
    else if (a.startsWith("push_vlan(")) stack.push(a.slice(10, -1));
    else outs.push(`${a}@${stack.join("/")}`);
  }
  return outs.sort().join(" ");
}

const normalize = (text: string) => {
  const lines = text.trimEnd().split("\n");
  const flowLine = lines.find((l) => l.startsWith("Flow: ")) ?? "";
  return lines.map((l) => {
    if (!l.startsWith("Datapath actions: ")) return l;
    const acts = l.slice(18);
    return `Datapath actions: ${
      /_vlan/.test(acts) ? vlanOutputs(acts, flowLine) : sortPortRuns(acts)
    }`;
  });
};

/** Splits shell-quoted words (single quotes only, as the fixtures use). */
function shellWords(s: string): string[] {
  return [...s.matchAll(/'([^']*)'|(\S+)/g)].map((m) => m[1] ?? m[2]);
}

interface TraceCase {
  args: string[];
  error: boolean;
  expected: string[];
  line: number;
}

function load(text: string): { setup: string[]; cases: TraceCase[] } {
  const setup: string[] = [];
  const cases: TraceCase[] = [];
  let cur: TraceCase | null = null;
  text.split("\n").forEach((line, i) => {
    if (cur) {
      if (line === "end") {
        cases.push(cur);
        cur = null;
      } else cur.expected.push(line);
    } else if (line.startsWith("trace ")) {
      cur = { args: shellWords(line.slice(6)), error: false, expected: [], line: i + 1 };
    } else if (line.startsWith("trace-error ")) {
      cur = { args: shellWords(line.slice(12)), error: true, expected: [], line: i + 1 };
    } else if (line && !line.startsWith("#")) {
      setup.push(line);
    }
  });
  return { setup, cases };
}

for (const entry of [...Deno.readDirSync(DIR)].sort((a, b) => a.name < b.name ? -1 : 1)) {
  const { setup, cases } = load(Deno.readTextFileSync(new URL(entry.name, DIR)));
  const r = new Replay();
  let version = OFP10_VERSION;
  for (const line of setup) {
    const [d, ...rest] = line.split(" ");
    const arg = rest.join(" ");
    if (d === "ports") r.setPorts(Number(arg));
    else if (d === "port") r.configurePort(arg);
    else if (d === "ofp-version") version = Number(arg);
    else if (d === "flow") r.tables.addFlow(arg, 0, { version });
    else if (d === "packet") r.packet(arg);
  }
  for (const c of cases) {
    Deno.test({
      name: `ofproto/trace ${entry.name}:${c.line} reads as OVS's`,
      ignore: false,
      fn: () => {
        const sw = traceSwitch(r);
        if (c.error) {
          assert.throws(() => ofprotoTrace(c.args, sw), { message: c.expected[0] });
        } else {
          assert.deepEqual(
            normalize(ofprotoTrace(c.args, sw)),
            normalize(c.expected.join("\n")),
          );
        }
      },
    });
  }
}

Deno.test("a move's trace line prints a zero register as 0 and a MAC as a MAC", () => {
  const r = new Replay();
  r.tables.addFlow(
    "actions=move:NXM_NX_REG0[]->NXM_NX_REG1[],move:NXM_OF_ETH_SRC[]->NXM_OF_ETH_DST[],output:2",
    0,
  );
  const text = ofprotoTrace(["br0", "in_port=1,dl_src=00:00:00:00:00:01"], traceSwitch(r));
  assert.match(text, /\n {5}-> NXM_NX_REG1\[\] is now 0\n/);
  assert.match(text, /\n {5}-> NXM_OF_ETH_DST\[\] is now 00:00:00:00:00:01\n/);
});

Deno.test("output:CONTROLLER sends the whole packet", () => {
  const r = new Replay();
  r.tables.addFlow("actions=output:CONTROLLER", 0);
  const text = ofprotoTrace(["br0", "in_port=1"], traceSwitch(r));
  assert.match(text, /max_len=65535\)\)$/);
});

Deno.test("a datapath flow is read as odp_flow_key_to_flow reads it (OVS 3.1's replies)", () => {
  const r = new Replay();
  r.tables.addFlow("actions=drop", 0);
  const eth = "in_port(1),eth(src=50:54:00:00:00:05,dst=50:54:00:00:00:07)";
  assert.throws(
    () => ofprotoTrace([`${eth},eth_type(0x0100)`], traceSwitch(r)),
    (e: Error) =>
      e.message ===
        `invalid Ethertype 256 in flow key; the flow key in error is: ${eth},eth_type(0x0100)`,
  );
  const udp = ofprotoTrace([
    `${eth},eth_type(0x0800),ipv4(src=1.1.1.1,dst=2.2.2.2,proto=17,tos=0,ttl=64,frag=no),tcp(src=1,dst=2)`,
  ], traceSwitch(r));
  assert.match(udp, /^Flow: udp,in_port=1,.*,nw_frag=no,tp_src=0,tp_dst=0\n/);
});

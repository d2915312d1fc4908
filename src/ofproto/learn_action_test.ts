/**
 * Action text as ovs-ofctl 3.1 parses and prints it (the expected strings
 * are `ovs-ofctl parse-flow` output), and the flow_mod a learn makes.
 */
import assert from "node:assert/strict";
import { F, getUint, newKey, setUint } from "../flow/mod.ts";
import { formatActions, formatMatch, parseActions } from "./mod.ts";
import { learnFlowMod } from "./learn_action.ts";
import { OfctlError } from "./ofctl_error.ts";

const ROUND_TRIPS: [string, string][] = [
  [
    "learn(table=1,idle_timeout=10,hard_timeout=20,fin_idle_timeout=3,fin_hard_timeout=4," +
    "priority=5,cookie=0x12,send_flow_rem,delete_learned,limit=5,result_dst=reg0[1]," +
    "NXM_OF_VLAN_TCI[0..11],NXM_OF_ETH_DST[]=NXM_OF_ETH_SRC[]," +
    "load:NXM_OF_IN_PORT[]->NXM_NX_REG0[0..15],load:0x5->NXM_NX_REG1[0..3]," +
    "output:NXM_OF_IN_PORT[],eth_type=0x800,NXM_OF_IP_DST[]=10.0.0.1,reg2[0..7]=0x12)",
    "learn(table=1,idle_timeout=10,hard_timeout=20,fin_idle_timeout=3,fin_hard_timeout=4," +
    "priority=5,send_flow_rem,delete_learned,cookie=0x12,limit=5,result_dst=NXM_NX_REG0[1]," +
    "NXM_OF_VLAN_TCI[0..11],NXM_OF_ETH_DST[]=NXM_OF_ETH_SRC[]," +
    "load:NXM_OF_IN_PORT[]->NXM_NX_REG0[0..15],load:0x5->NXM_NX_REG1[0..3]," +
    "output:NXM_OF_IN_PORT[],eth_type=0x800,ip_dst=10.0.0.1,NXM_NX_REG2[0..7]=0x12)",
  ],
  ["learn(NXM_OF_ETH_DST[])", "learn(table=1,NXM_OF_ETH_DST[])"],
  [
    "clone(set_field:10.0.0.9->ip_dst,output:3)",
    "clone(set_field:10.0.0.9->ip_dst,output:3)",
  ],
  ["clone()", "clone(drop)"],
  [
    "sample(probability=100)",
    "sample(probability=100,collector_set_id=0,obs_domain_id=0,obs_point_id=0)",
  ],
  [
    "multipath(eth_src,50,hrw,12,0,NXM_NX_REG0[0..3])",
    "multipath(eth_src,50,hrw,12,0,NXM_NX_REG0[0..3])",
  ],
  [
    "bundle(eth_src,0,active_backup,ofport,slaves:1,2)",
    "bundle(eth_src,0,active_backup,ofport,members:1,2)",
  ],
  [
    "bundle_load(symmetric_l4,0,hrw,ofport,NXM_NX_REG1[],members:1,2,3)",
    "bundle_load(symmetric_l4,0,hrw,ofport,NXM_NX_REG1[],members:1,2,3)",
  ],
  ["check_pkt_larger(200)->reg0[0],output:1", "check_pkt_larger(200)->NXM_NX_REG0[0],output:1"],
  ["fin_timeout(idle_timeout=5,hard_timeout=6)", "fin_timeout(idle_timeout=5,hard_timeout=6)"],
  ["fin_timeout()", "fin_timeout()"],
  ["resubmit(,2,ct)", "resubmit(,2,ct)"],
];

Deno.test("learn, clone, sample, multipath, bundle, check_pkt_larger print as ovs-ofctl does", () => {
  for (const [input, want] of ROUND_TRIPS) assert.equal(formatActions(parseActions(input)), want);
});

const ERRORS: [string, string][] = [
  [
    "multipath(eth_src,50,hrw,12,0,NXM_NX_REG0[0..2])",
    "eth_src,50,hrw,12,0,NXM_NX_REG0[0..2]: 3-bit destination field has 8 possible values, less than specified n_links 12",
  ],
  ["learn(foo=1)", "foo=1: unknown keyword foo"],
  [
    "learn(NXM_OF_IP_DST[]=zz)",
    "NXM_OF_IP_DST[]=zz: NXM_OF_IP_DST[] value zz cannot be parsed as a subfield (zz: unknown field `zz') or an immediate value (zz: invalid IP address)",
  ],
  ["sample(probability=0)", 'invalid probability value "0"'],
  ["fin_timeout(x=1)", "invalid key 'x' in 'fin_timeout' argument"],
  ["check_pkt_larger(200)->reg0[0..1]", "Only 1-bit destination field is allowed"],
];

Deno.test("bad learn, multipath, sample ... arguments get ovs-ofctl's one-line error", () => {
  for (const [input, want] of ERRORS) {
    assert.throws(() => parseActions(input), (e) => e instanceof OfctlError && e.message === want);
  }
});

Deno.test("learn builds its flow_mod from the flow: match, loads, output, fin_timeout", () => {
  const [a] = parseActions(
    "learn(table=3,priority=7,idle_timeout=5,fin_idle_timeout=2,NXM_OF_ETH_DST[]=NXM_OF_ETH_SRC[]," +
      "load:0x5->NXM_NX_REG1[0..3],output:NXM_OF_IN_PORT[])",
  );
  assert.equal(a.type, "learn");
  const flow = newKey();
  const f = new Uint8Array(flow.buffer);
  f.set([0x50, 0x54, 0, 0, 0, 5], F.dl_src.off);
  setUint(f, F.in_port.off, 4, 4);
  const fm = learnFlowMod(a.type === "learn" ? a.learn : undefined!, flow);
  assert.equal(fm.tableId, 3);
  assert.equal(fm.priority, 7);
  assert.equal(fm.idleTimeout, 5);
  assert.equal(formatMatch(fm.match, 0x8000), "dl_dst=50:54:00:00:00:05");
  assert.equal(
    formatActions(fm.actions!),
    "fin_timeout(idle_timeout=2),load:0x5->NXM_NX_REG1[0..3],output:4",
  );
  assert.equal(getUint(f, F.in_port.off, 4), 4, "the flow is not modified");
});

/**
 * clone, multipath, bundle, check_pkt_larger and sample in translation.
 * The chosen links and members are the ones OVS 3.1 chose for the same
 * packets (tests/conformance/cases/act-multipath and act-bundle).
 */
import assert from "node:assert/strict";
import { F, formatOdpActions } from "../flow/mod.ts";
import { maskOf, xlateText } from "../../tests/support/xlate/replay.ts";

const tcp = (src: number) =>
  `in_port=1,tcp,dl_src=50:54:00:00:00:05,dl_dst=50:54:00:00:00:07,nw_src=10.0.0.1,nw_dst=10.0.0.2,nw_ttl=64,tp_src=${src},tp_dst=80`;

Deno.test("clone's rewrites stay inside it; the next actions restore the header", () => {
  const out = xlateText(
    ["in_port=1,ip,actions=clone(mod_nw_dst:10.0.0.9,output:3),output:2"],
    tcp(1),
  );
  assert.equal(out.text, "set(ipv4(dst=10.0.0.9)),3,set(ipv4(dst=10.0.0.2)),2");
});

Deno.test("multipath(symmetric_l4, hrw) picks OVS's link and matches the hashed fields", () => {
  const rules = [
    "table=0,ip,actions=multipath(symmetric_l4,50,hrw,4,0,NXM_NX_REG0[0..1]),resubmit(,1)",
    "table=1,reg0=0,actions=output:1",
    "table=1,reg0=1,actions=output:2",
    "table=1,reg0=2,actions=output:3",
    "table=1,reg0=3,actions=output:4",
  ];
  // OVS 3.1: source port 1000 -> link 2 (p3), 1001 -> p1 (the input port: drop), 1002 -> p4.
  const o = { ports: 4 };
  assert.equal(xlateText(rules, tcp(1000), o).text, "3");
  assert.equal(xlateText(rules, tcp(1001), o).text, "drop");
  const out = xlateText(rules, tcp(1002), o);
  assert.equal(out.text, "4");
  assert.equal(maskOf(out.wc, F.tp_src), "ffff");
  assert.equal(maskOf(out.wc, F.dl_src), "ffffffffffff");
});

Deno.test("bundle hrw hashes eth_src over live members; active_backup takes the first live one", () => {
  const hrw = ["in_port=1,actions=bundle(eth_src,0,hrw,ofport,members:2,3,4)"];
  const o = { ports: 4 };
  // OVS 3.1: 50:54:00:00:00:05 -> p3.
  assert.equal(xlateText(hrw, tcp(1), o).text, "3");
  const down = { ports: 4, portConfig: ["p3 down"] };
  const ab = ["in_port=1,actions=bundle(eth_src,0,active_backup,ofport,members:3,4)"];
  assert.equal(xlateText(ab, tcp(1), o).text, "3");
  assert.equal(xlateText(ab, tcp(1), down).text, "4");
});

Deno.test("check_pkt_larger translates the rest twice, into check_pkt_len's branches", () => {
  const rules = [
    "table=0,in_port=1,actions=check_pkt_larger(200)->NXM_NX_REG0[0],resubmit(,1)",
    "table=1,priority=10,reg0=1,actions=output:3",
    "table=1,priority=5,actions=output:2",
  ];
  const out = xlateText(rules, tcp(1));
  assert.equal(formatOdpActions(out.actions), "check_pkt_len(size=200,gt(3),le(2))");
});

Deno.test("sample without an IPFIX exporter translates to nothing", () => {
  const rules = ["in_port=1,actions=sample(probability=65535,collector_set_id=1),output:2"];
  assert.equal(xlateText(rules, tcp(1)).text, "2");
});

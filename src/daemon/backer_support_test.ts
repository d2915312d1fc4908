import assert from "node:assert/strict";
import { Dpif, DpifNetdev } from "../dpif/mod.ts";
import { flowExtract, setVlanLimit } from "../flow/mod.ts";
import { coverageTotal, setVlogFile } from "../lib/mod.ts";
import {
  type BackerSupport,
  backerSupportJson,
  checkSupport,
  formatBackerSupport,
} from "./backer_support.ts";

const NAMES = ["dpif_flow_put", "dpif_flow_get", "dpif_flow_del", "dpif_execute", "flow_extract"];

/** Probes a fresh in-process dummy datapath; returns what it found, the counts and the log. */
function probe(vlanLimit: number): { s: BackerSupport; counts: number[]; log: string[] } {
  const dp = DpifNetdev.create("dummy", { extract: flowExtract, flowCapacity: 64 });
  const file = Deno.makeTempFileSync({ suffix: ".log" });
  const base = NAMES.map((n) => coverageTotal(n) ?? 0);
  setVlogFile(file);
  try {
    // The in-process PMD shares this thread's flow module: its VLAN limit.
    dp.setVlanLimit(vlanLimit);
    const s = checkSupport(new Dpif(dp));
    assert.equal(dp.getStats().flows, 0, "every probe flow is deleted again");
    return {
      s,
      counts: NAMES.map((n, i) => (coverageTotal(n) ?? 0) - base[i]),
      log: Deno.readTextFileSync(file).split("\n").filter((l) => l)
        .map((l) => l.split("|").slice(2).join("|")),
    };
  } finally {
    setVlogFile(undefined);
    Deno.removeSync(file);
    setVlanLimit(1);
    dp.destroy();
  }
}

Deno.test("the netdev datapath answers each feature probe as OVS 3.1's dpif-netdev does", () => {
  const { s } = probe(1);
  assert.deepEqual(s, {
    maskedSetAction: true,
    tnlPushPop: true,
    ufid: true,
    trunc: true,
    clone: true,
    sampleNesting: 10,
    ctEventmask: true,
    ctClear: true,
    maxHashAlg: 1,
    checkPktLen: true,
    ctTimeout: true,
    explicitDropAction: true,
    lbOutputAction: true,
    ctZeroSnat: true,
    addMpls: true,
    maxVlanHeaders: 1,
    maxMplsDepth: 3,
    recirc: true,
    ctState: true,
    ctZone: true,
    ctMark: true,
    ctLabel: true,
    ctStateNat: true,
    ctOrigTuple: true,
    ctOrigTuple6: true,
    ndExt: true,
  });
});

Deno.test("probing counts 25 puts, 24 gets and deletes, 6 executes and 4 flow_extracts", () => {
  // 25 flow probes (1 recirc, 2 VLAN, 3 MPLS, UFID, 7 sample nesting,
  // ct_clear, dp_hash, check_pkt_len, add_mpls, 7 conntrack fields); the
  // second VLAN put is refused, so it has no get or delete. Executes:
  // masked set, trunc, clone, ct eventmask, ct timeout, ND extensions;
  // the four on an Ethernet frame flow_extract it first.
  assert.deepEqual(probe(1).counts, [25, 24, 24, 6, 4]);
});

Deno.test("the VLAN probe follows the datapath's VLAN limit", () => {
  const two = probe(2);
  assert.equal(two.s.maxVlanHeaders, 2);
  assert.deepEqual(two.counts, [25, 25, 25, 6, 4]);
  assert.equal(probe(0).s.maxVlanHeaders, 2, "vlan-limit 0 is FLOW_MAX_VLAN_HEADERS");
});

Deno.test("probing logs each answer in OVS's words and order", () => {
  const n = "dummy@ovs-dummy";
  assert.deepEqual(probe(1).log, [
    `ofproto_dpif|INFO|${n}: Datapath supports recirculation`,
    `ofproto_dpif|INFO|${n}: VLAN header stack length probed as 1`,
    `ofproto_dpif|INFO|${n}: MPLS label stack length probed as 3`,
    `ofproto_dpif|INFO|${n}: Datapath supports truncate action`,
    `ofproto_dpif|INFO|${n}: Datapath supports unique flow ids`,
    `ofproto_dpif|INFO|${n}: Datapath supports clone action`,
    `ofproto_dpif|INFO|${n}: Max sample nesting level probed as 10`,
    `ofproto_dpif|INFO|${n}: Datapath supports eventmask in conntrack action`,
    `ofproto_dpif|INFO|${n}: Datapath supports ct_clear action`,
    `ofproto_dpif|INFO|${n}: Max dp_hash algorithm probed to be 1`,
    `ofproto_dpif|INFO|${n}: Datapath supports check_pkt_len action`,
    `ofproto_dpif|INFO|${n}: Datapath supports timeout policy in conntrack action`,
    `ofproto_dpif|INFO|${n}: Datapath supports ct_zero_snat`,
    `ofproto_dpif|INFO|${n}: Datapath supports add_mpls action`,
    `ofproto_dpif|INFO|${n}: Datapath supports ct_state`,
    `ofproto_dpif|INFO|${n}: Datapath supports ct_zone`,
    `ofproto_dpif|INFO|${n}: Datapath supports ct_mark`,
    `ofproto_dpif|INFO|${n}: Datapath supports ct_label`,
    `ofproto_dpif|INFO|${n}: Datapath supports ct_state_nat`,
    `ofproto_dpif|INFO|${n}: Datapath supports ct_orig_tuple`,
    `ofproto_dpif|INFO|${n}: Datapath supports ct_orig_tuple6`,
    `ofproto_dpif|INFO|${n}: Datapath supports IPv6 ND Extensions`,
  ]);
});

Deno.test("dpif/show-dp-features prints OVS 3.1's titles in its order", () => {
  const text = formatBackerSupport(probe(1).s);
  assert.equal(
    text,
    [
      "Masked set action: Yes",
      "Tunnel push pop: Yes",
      "Ufid: Yes",
      "Truncate action: Yes",
      "Clone action: Yes",
      "Sample nesting: 10",
      "Conntrack eventmask: Yes",
      "Conntrack clear: Yes",
      "Max dp_hash algorithm: 1",
      "Check pkt length action: Yes",
      "Conntrack timeout policy: Yes",
      "Explicit Drop action: Yes",
      "Optimized Balance TCP mode: Yes",
      "Conntrack all-zero IP SNAT: Yes",
      "MPLS Label add: Yes",
      "Max VLAN headers: 1",
      "Max MPLS depth: 3",
      "Recirc: Yes",
      "CT state: Yes",
      "CT zone: Yes",
      "CT mark: Yes",
      "CT label: Yes",
      "CT state NAT: Yes",
      "CT orig tuple: Yes",
      "CT orig tuple for IPv6: Yes",
      "IPv6 ND Extension: Yes",
      "",
    ].join("\n"),
  );
});

Deno.test("--format json gives the same features under the same titles", () => {
  const json = backerSupportJson(probe(1).s);
  assert.equal(Object.keys(json).length, 26);
  assert.equal(json["Max VLAN headers"], 1);
  assert.equal(json["Masked set action"], true);
});

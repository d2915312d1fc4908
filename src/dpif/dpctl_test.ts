import assert from "node:assert/strict";
import { bytesOf, F, flowExtract, newKey, parseOdpKey } from "../flow/mod.ts";
import { DummyNetdev } from "../netdev/mod.ts";
import { DpifNetdev } from "./dpif_netdev.ts";
import {
  dpctlAddFlow,
  dpctlDelFlow,
  dpctlDelFlows,
  dpctlDumpFlows,
  dpctlGetFlow,
  dpctlModFlow,
  dpctlShow,
} from "./dpctl.ts";
import { PUT_CREATE } from "./protocol.ts";

function bridge() {
  const dp = DpifNetdev.create("dummy", { extract: flowExtract, flowCapacity: 1024 });
  for (const n of ["p1", "p2", "p3"]) dp.portAdd(new DummyNetdev(n));
  dp.portAdd(new DummyNetdev("br0", "dummy-internal"));
  return dp;
}

const FLOW = "recirc_id(0),in_port(1),eth(src=50:54:00:00:00:05,dst=50:54:00:00:00:07)," +
  "eth_type(0x0800),ipv4(frag=no)";

Deno.test("dpctl/show prints the datapath, lookups, flows and ports as OVS does", () => {
  const dp = bridge();
  assert.equal(
    dpctlShow(dp, []),
    "dummy@ovs-dummy:\n  lookups: hit:0 missed:0 lost:0\n  flows: 0\n" +
      "  port 0: ovs-dummy (dummy-internal)\n  port 1: p1 (dummy)\n  port 2: p2 (dummy)\n" +
      "  port 3: p3 (dummy)\n  port 100: br0 (dummy-internal)\n",
  );
  const s = dpctlShow(dp, ["-s"]).split("\n");
  assert.equal(s[4], "    RX packets:0 errors:? dropped:? overruns:? frame:?");
  assert.equal(s[7], "    RX bytes:0  TX bytes:0");
  dp.destroy();
});

Deno.test("dpctl add-flow, mod-flow and del-flow print and change flows like the oracle", () => {
  // commands-output.raw.txt: add-flow, dump-flows, mod-flow, dump-flows, del-flow.
  const dp = bridge();
  assert.equal(dpctlDumpFlows(dp, []), "", "an empty datapath prints nothing");
  assert.equal(dpctlAddFlow(dp, [L3FLOW, "2"]), "");
  assert.equal(
    dpctlDumpFlows(dp, []),
    "flow-dump from the main thread:\n" +
      "recirc_id(0),in_port(1),eth_type(0x0800),ipv4(frag=no), packets:0, bytes:0, used:never, actions:2\n",
  );
  assert.equal(dpctlModFlow(dp, [L3FLOW, "3"]), "");
  assert.equal(
    dpctlDumpFlows(dp, []),
    "flow-dump from the main thread:\n" +
      "recirc_id(0),in_port(1),eth_type(0x0800),ipv4(frag=no), packets:0, bytes:0, used:never, actions:3\n",
  );
  assert.equal(dpctlDelFlow(dp, [L3FLOW]), "");
  assert.equal(dpctlDumpFlows(dp, []), "");
  // A flow with an Ethernet header prints it.
  dpctlAddFlow(dp, [FLOW, "2"]);
  assert.match(
    dpctlDumpFlows(dp, []),
    /in_port\(1\),eth\(src=50:54:00:00:00:05,dst=50:54:00:00:00:07\),/,
  );
  dp.destroy();
});

Deno.test("dpctl get-flow and del-flow find a flow by its ufid", () => {
  const dp = bridge();
  dpctlAddFlow(dp, [FLOW, "2"]);
  const line = dpctlDumpFlows(dp, ["-m"]).split("\n")[1];
  const ufid = /^ufid:([0-9a-f-]+), /.exec(line)![1];
  assert.match(line, /dp:ovs, actions:p2, dp-extra-info:miniflow_bits\(\d+,\d+\)$/);
  assert.equal(dpctlGetFlow(dp, ["-m", `ufid:${ufid}`]), line + "\n");
  dpctlDelFlow(dp, [`ufid:${ufid}`]);
  assert.equal(dpctlDumpFlows(dp, []), "");
  dpctlAddFlow(dp, [FLOW, "2"]);
  dpctlDelFlows(dp, []);
  assert.equal(dp.getStats().flows, 0);
  dp.destroy();
});

Deno.test("dump-flows filter= keeps flows equal to the filter on the fields both match", () => {
  const dp = bridge();
  dpctlAddFlow(dp, [FLOW, "2"]);
  // The caller's parser: here "in_port=N" only, as key/mask words.
  const parseFilter = (text: string) => {
    const m = /^in_port=(\d+)$/.exec(text);
    if (!m) throw new Error(`${text}: unknown field ${text.split("=")[0]}`);
    const key = newKey(), mask = newKey();
    parseOdpKey(`in_port(${m[1]})`, key, mask);
    return { key, mask };
  };
  assert.match(dpctlDumpFlows(dp, ["filter=in_port=1"], { parseFilter }), /actions:2/);
  assert.equal(dpctlDumpFlows(dp, ["filter=in_port=2"], { parseFilter }), "");
  assert.throws(
    () => dpctlDumpFlows(dp, ["filter=garbage"], { parseFilter }),
    /^Error: ovs-vswitchd: Failed to parse filter \(garbage: unknown field garbage\)$/,
  );
  dp.destroy();
});

// Replies of the real OVS 3.1 recorded with the oracle for these commands.
const L3FLOW = "recirc_id(0),in_port(1),eth_type(0x0800),ipv4(frag=no)";

Deno.test("dpctl errors carry OVS's messages", () => {
  const dp = bridge();
  assert.throws(
    () => dpctlDelFlow(dp, [L3FLOW]),
    (e: Error) =>
      e.message ===
        "ovs-vswitchd: deleting flow (No such file or directory)\nPerhaps you need to specify a UFID?",
  );
  assert.throws(
    () => dpctlAddFlow(dp, ["garbage(", "2"]),
    (e: Error) =>
      e.message === "ovs-vswitchd: parsing flow key (syntax error at garbage() (Invalid argument)",
  );
  assert.throws(
    () => dpctlAddFlow(dp, ["in_port(1),bogus(3),eth_type(0x0800)", "2"]),
    (e: Error) =>
      e.message ===
        "ovs-vswitchd: parsing flow key (syntax error at bogus(3),eth_type(0x0800)) (Invalid argument)",
  );
  assert.throws(
    () => dpctlDelFlow(dp, ["in_port(1),bogus(3)"]),
    (e: Error) => e.message === "ovs-vswitchd: syntax error at bogus(3) (Invalid argument)",
  );
  assert.throws(
    () => dpctlAddFlow(dp, [L3FLOW, "bogus"]),
    (e: Error) => e.message === "ovs-vswitchd: parsing actions (Invalid argument)",
  );
  dpctlAddFlow(dp, [L3FLOW, "2"]);
  assert.throws(
    () => dpctlAddFlow(dp, [L3FLOW, "2"]),
    (e: Error) => e.message === "ovs-vswitchd: updating flow table (File exists)",
  );
  assert.throws(
    () => dpctlModFlow(dp, [L3FLOW.replace("in_port(1)", "in_port(2)"), "2"]),
    (e: Error) => e.message === "ovs-vswitchd: updating flow table (No such file or directory)",
  );
  assert.throws(
    () => dpctlShow(dp, ["nosuch"]),
    (e: Error) =>
      e.message ===
        "ovs-vswitchd: opening datapath nosuch failed (Address family not supported by protocol)",
  );
  assert.throws(
    () => dpctlDumpFlows(dp, ["nosuch"]),
    (e: Error) => e.message === "ovs-vswitchd: datapath not found (Invalid argument)",
  );
  assert.equal(dpctlGetFlow(dp, ["garbage"]), "ovs-vswitchd: parsing flow ufid\n");
  assert.throws(
    () => dpctlGetFlow(dp, ["ufid:11111111-2222-4333-8444-555555555556"]),
    (e: Error) => e.message === "ovs-vswitchd: getting flow (No such file or directory)",
  );
  dp.destroy();
});

Deno.test("a flow added with an explicit ufid is found, shown and deleted by it", () => {
  const dp = bridge();
  const U = "11111111-2222-4333-8444-555555555555";
  dpctlAddFlow(dp, [`ufid:${U},${L3FLOW}`, "2"]);
  assert.match(dpctlGetFlow(dp, [`ufid:${U}`]), /packets:0, bytes:0, used:never, actions:2\n$/);
  assert.equal(
    dpctlGetFlow(dp, ["-m", `ufid:${U}`]),
    `ufid:${U}, skb_priority(0/0),skb_mark(0/0),ct_state(0/0),ct_zone(0/0),ct_mark(0/0),` +
      "ct_label(0/0),recirc_id(0),dp_hash(0/0),in_port(p1),packet_type(ns=1/0,id=0x800/0)," +
      "eth_type(0x0800),ipv4(src=0.0.0.0/0.0.0.0,dst=0.0.0.0/0.0.0.0,proto=0/0,tos=0/0,ttl=0/0," +
      "frag=no), packets:0, bytes:0, used:never, dp:ovs, actions:p2, dp-extra-info:miniflow_bits(3,1)\n",
  );
  dpctlDelFlow(dp, [`ufid:${U}`]);
  assert.throws(() => dpctlDelFlow(dp, [`ufid:${U}`]), /Perhaps you need to specify a UFID\?/);
  dp.destroy();
});

Deno.test("dump-flows type= and pmd= select flows as OVS's userspace datapath does", () => {
  const dp = bridge();
  dpctlAddFlow(dp, [L3FLOW, "2"]);
  const all = dpctlDumpFlows(dp, []);
  assert.equal(dpctlDumpFlows(dp, ["type=ovs"]), all);
  assert.equal(dpctlDumpFlows(dp, ["type=tc,non-offloaded"]), all);
  assert.equal(dpctlDumpFlows(dp, ["type=offloaded"]), "");
  assert.equal(dpctlDumpFlows(dp, ["pmd=-1"]), all.split("\n").slice(1).join("\n"));
  assert.equal(dpctlDumpFlows(dp, ["pmd=0"]), "");
  assert.throws(
    () => dpctlDumpFlows(dp, ["type=bogus"]),
    (e: Error) => e.message === "ovs-vswitchd: Failed to parse type (bogus) (Invalid argument)",
  );
  dp.destroy();
});

Deno.test("miniflow_bits count only the mask words a flow of the key's type has, as dpcls's mask does", () => {
  const dp = bridge();
  const key = newKey(), mask = newKey();
  parseOdpKey(
    "recirc_id(0),in_port(1),eth_type(0x86dd),ipv6(src=::1,dst=::2,proto=58,frag=no)," +
      "icmpv6(type=128,code=0)",
    key,
    mask,
  );
  // A lookup may un-wildcard nd_target for an echo request; OVS's dpcls
  // mask keeps only the words flow_wc_map gives an ICMPv6 echo, so the
  // two nd_target words are not counted.
  bytesOf(mask).fill(0xff, F.nd_target.off, F.nd_target.off + F.nd_target.len);
  assert.equal(dp.flowPut({ flags: PUT_CREATE, key, mask, actions: [] }).error, 0);
  assert.match(dpctlDumpFlows(dp, ["-m"]), /dp-extra-info:miniflow_bits\(3,6\)\n$/);
  dp.destroy();
});

Deno.test("add-flow refuses a key that does not fit its Ethertype and protocol, as OVS 3.1 does", () => {
  const dp = bridge();
  const eth = "in_port(1),eth(src=50:54:00:00:00:05,dst=50:54:00:00:00:07)";
  const ip = (proto: number) =>
    `${eth},eth_type(0x0800),ipv4(src=1.1.1.1,dst=2.2.2.2,proto=${proto},tos=0,ttl=64,frag=no)`;
  const einval = (e: Error) => e.message === "ovs-vswitchd: updating flow table (Invalid argument)";
  for (
    const key of [
      `${ip(17)},tcp(src=1,dst=2)`,
      `${eth},eth_type(0x0806)`,
      "in_port(1),packet_type(ns=1,id=0x1000),eth(src=50:54:00:00:00:05,dst=50:54:00:00:00:07)",
      `${ip(6).replace("proto=6", "proto=6/0xf0")},tcp(src=1,dst=2)`,
      `${ip(6).replace("0x0800", "0x0800/0")}`,
    ]
  ) {
    assert.throws(() => dpctlAddFlow(dp, [key, "2"]), einval, key);
    // The actions are read first, the fit judged when the flow is put.
    assert.throws(
      () => dpctlAddFlow(dp, [key, "bogus"]),
      (e: Error) => e.message === "ovs-vswitchd: parsing actions (Invalid argument)",
    );
  }
  assert.equal(dpctlShow(dp, []).includes("flows: 0"), true);
  // Without a UFID, such a key names no flow.
  assert.throws(
    () => dpctlDelFlow(dp, [`${eth},eth_type(0x0806)`]),
    (e: Error) => e.message.startsWith("ovs-vswitchd: deleting flow (No such file or directory)"),
  );
  assert.equal(dpctlAddFlow(dp, [`${ip(17)},udp(src=1,dst=2)`, "2"]), "");
  assert.equal(dpctlDelFlow(dp, [`${ip(17)},udp(src=1,dst=2)`]), "");
});

Deno.test("dpctl add-flow takes clone(...) actions, prints them as OVS does, refuses too deep a nesting", () => {
  const dp = bridge();
  assert.equal(dpctlAddFlow(dp, [L3FLOW, "clone(ct(commit),set(ipv4(ttl=9)),2),clone(),3"]), "");
  assert.match(
    dpctlDumpFlows(dp, []),
    /actions:clone\(ct\(commit\),set\(ipv4\(ttl=9\)\),2\),clone\(drop\),3\n$/,
  );
  assert.throws(
    () => dpctlModFlow(dp, [L3FLOW, "clone(".repeat(40) + "2" + ")".repeat(40)]),
    (e: Error) => e.message === "ovs-vswitchd: parsing actions (Invalid argument)",
  );
  assert.match(dpctlDumpFlows(dp, []), /actions:clone\(ct\(commit\)/, "the flow is unchanged");
  dp.destroy();
});

/**
 * Group translation against what OVS 3.1 does for the same groups (the
 * grp-* conformance cases recorded these): all groups run each bucket on a
 * copy of the packet, fast failover follows port liveness, hash selection
 * un-wildcards exactly its fields, and group stats are recorded in the cache.
 */
import assert from "node:assert/strict";
import { F, formatOdpActions } from "../flow/mod.ts";
import { groupStatsId, OfTables, parseGroupMod } from "../ofproto/mod.ts";
import { maskedFields, maskOf, oracleBridge } from "../../tests/support/xlate/replay.ts";
import { XBridge } from "./bridge.ts";
import { actionSetToList } from "./group.ts";
import { RecircIdPool } from "./recirc.ts";
import { parseExactFlow } from "./trace_flow.ts";
import { xlate } from "./xlate.ts";
import { creditedRules } from "../../tests/support/xlate/xcache_rules.ts";

function tablesWith(groups: string[], rules: string[]): OfTables {
  const t = new OfTables();
  for (const g of groups) t.groupMods([parseGroupMod(g, "add", 4)], 0);
  for (const r of rules) t.addFlow(r, 0, { version: 4 });
  return t;
}

function run(t: OfTables, flow: string, bridge: XBridge = oracleBridge(3), trace = false) {
  const out = xlate({
    flow: parseExactFlow(flow, bridge),
    tables: t,
    bridge,
    ml: null,
    nowMs: 0,
    recircIds: new RecircIdPool(),
    trace,
  });
  return { ...out, text: formatOdpActions(out.actions) };
}

const TCP = "in_port=1,tcp,dl_src=50:54:00:00:00:05,dl_dst=50:54:00:00:00:07," +
  "nw_src=10.0.0.5,nw_dst=10.0.0.1,nw_ttl=64,tp_src=1000,tp_dst=80";

Deno.test("an all group runs each bucket on a copy: the second bucket undoes the first's rewrite", () => {
  const t = tablesWith(
    ["group_id=1,type=all,bucket=set_field:10.0.0.9->ip_dst,output:2,bucket=output:3"],
    ["priority=10,ip,nw_dst=10.0.0.1,actions=group:1"],
  );
  const out = run(t, TCP);
  assert.equal(out.text, "set(ipv4(dst=10.0.0.9)),2,set(ipv4(dst=10.0.0.1)),3");
  assert.deepEqual(maskedFields(out.wc), [
    "in_port",
    "recirc_id",
    "packet_type",
    "dl_type",
    "nw_dst",
    "nw_frag",
    "nw_proto",
  ]);
  // The cache credits the rule, then the group and every bucket (slot 0).
  assert.deepEqual(creditedRules(out.cache).slice(1), [groupStatsId(1, -1)]);
});

Deno.test("actions after an indirect group see the packet as it was before the bucket", () => {
  const t = tablesWith(
    ["group_id=3,type=indirect,bucket=set_field:10.0.0.9->ip_dst,output:2"],
    ["priority=10,ip,actions=group:3,output:3"],
  );
  assert.equal(run(t, TCP).text, "set(ipv4(dst=10.0.0.9)),2,set(ipv4(dst=10.0.0.1)),3");
});

Deno.test("deleting a group deletes the rules using it; adding one naming no group fails", () => {
  const t = tablesWith(["group_id=3,type=all,bucket=output:2"], [
    "priority=10,ip,actions=group:3,output:3",
    "priority=5,actions=output:2",
  ]);
  const u = t.groupMods([parseGroupMod("group_id=3", "delete", 4)], 0);
  assert.deepEqual(u?.ops.map((o) => o.op), ["group-delete", "delete"]);
  assert.equal(t.nRules, 1);
  assert.throws(() => t.addFlow("actions=group:3", 0), /OFPBAC_BAD_OUT_GROUP/);
});

Deno.test("a missing group ends the action list with a warning", () => {
  const bridge = oracleBridge(3);
  const out = xlate({
    flow: parseExactFlow(TCP, bridge),
    tables: new OfTables(),
    bridge,
    ml: null,
    nowMs: 0,
    recircIds: new RecircIdPool(),
    trace: true,
    ofpacts: [{ type: "group", groupId: 9 }, { type: "output", port: 2 }],
  });
  assert.equal(formatOdpActions(out.actions), "drop");
  assert.match(JSON.stringify(out.trace), /output to nonexistent group 9/);
});

Deno.test("fast failover takes the first bucket whose watched port is up", () => {
  const t = tablesWith(
    ["group_id=4,type=ff,bucket=watch_port:2,output:2,bucket=watch_port:3,output:3"],
    ["priority=10,in_port=1,ip,actions=group:4"],
  );
  assert.equal(run(t, TCP).text, "2");
  const p2Down = new XBridge("br0", [
    { name: "br0", ofport: 0xfffe, odpPort: 100 },
    { name: "p1", ofport: 1, odpPort: 1 },
    { name: "p2", ofport: 2, odpPort: 2, noForward: true },
    { name: "p3", ofport: 3, odpPort: 3 },
  ]);
  const out = run(t, TCP, p2Down, true);
  assert.equal(out.text, "3");
  const lines = JSON.stringify(out.trace);
  assert.match(lines, /bucket 0: not live due to port 2/);
  assert.match(lines, /using bucket 1/);
  assert.deepEqual(creditedRules(out.cache).slice(1), [groupStatsId(4, 1)]);
});

Deno.test("hash selection un-wildcards the hashed fields and spreads by score as OVS", () => {
  const t = tablesWith(
    [
      "group_id=5,type=select,selection_method=hash,fields(ip_src,nw_proto)," +
      "bucket=bucket_id:7,output:2,bucket=output:3,bucket=weight:0,output:1",
    ],
    ["priority=10,ip,actions=group:5"],
  );
  // OVS 3.1 sent 10.0.1.1 and .4 to port 2, .2, .3, .5, .6 to port 3.
  const got = [1, 2, 3, 4, 5, 6].map((i) => run(t, TCP.replace("10.0.0.5", `10.0.1.${i}`)).text);
  assert.deepEqual(got, ["2", "3", "3", "2", "3", "3"]);
  const out = run(t, TCP.replace("10.0.0.5", "10.0.1.1"), oracleBridge(3), true);
  assert.equal(maskOf(out.wc, F.nw_src), "ffffffff");
  assert.equal(maskOf(out.wc, F.nw_proto), "ff");
  assert.equal(maskOf(out.wc, F.tp_src), "");
  assert.match(JSON.stringify(out.trace), /bucket 7: score 30468.*bucket 0: score 26081/);
});

Deno.test("a bucket's actions run as an action set: the last final action, sets before it", () => {
  const list = actionSetToList([
    { type: "output", port: 2 },
    { type: "set_field", field: "ip_dst", value: 1n },
    { type: "dec_ttl" },
    { type: "output", port: 3 },
  ]);
  assert.deepEqual(list.map((a) => a.type), ["dec_ttl", "set_field", "output"]);
  assert.deepEqual(list.at(-1), { type: "output", port: 3 });
  assert.deepEqual(actionSetToList([{ type: "set_field", field: "ip_dst", value: 1n }]), []);
});

Deno.test("a select group without a method hashes in the datapath, recirculates, then picks by dp_hash", () => {
  const t = tablesWith(
    ["group_id=2,type=select,bucket=weight:10,output:2,bucket=weight:20,output:3"],
    ["priority=10,ip,actions=group:2"],
  );
  const bridge = oracleBridge(3);
  const pool = new RecircIdPool();
  const pass = (flow: Uint32Array) =>
    xlate({ flow, tables: t, bridge, ml: null, nowMs: 0, recircIds: pool });
  const first = pass(parseExactFlow(TCP, bridge));
  assert.equal(formatOdpActions(first.actions), "hash(sym_l4(0)),recirc(0x1)");
  assert.deepEqual(first.recircs, [1]);
  assert.equal(maskOf(first.wc, F.tp_src), "", "the first pass hashes nothing itself");
  // OVS 3.1 recorded dp_hash 0x4d2a3257 going to bucket 0 (output:2), matching dp_hash/0xf.
  const again = parseExactFlow(TCP, bridge);
  const b = new DataView(again.buffer);
  b.setUint32(F.recirc_id.off, 1);
  b.setUint32(F.dp_hash.off, 0x4d2a3257);
  const second = pass(again);
  assert.equal(formatOdpActions(second.actions), "2");
  assert.equal(maskOf(second.wc, F.dp_hash), "0000000f");
  assert.deepEqual(creditedRules(second.cache), [groupStatsId(2, 0)], "no rule stats after a thaw");
});

Deno.test("a bucket watching a group is live while that group has a live bucket", () => {
  const t = tablesWith(
    [
      "group_id=1,type=ff,bucket=watch_port:2,output:2",
      "group_id=4,type=ff,bucket=watch_group:1,output:2,bucket=watch_port:3,output:3",
    ],
    ["priority=10,in_port=1,ip,actions=group:4"],
  );
  assert.equal(run(t, TCP).text, "2");
  const p2Down = new XBridge("br0", [
    { name: "p1", ofport: 1, odpPort: 1 },
    { name: "p2", ofport: 2, odpPort: 2, noForward: true },
    { name: "p3", ofport: 3, odpPort: 3 },
  ]);
  const out = run(t, TCP, p2Down, true);
  assert.equal(out.text, "3");
  // OVS words a watched group as a port in this line.
  assert.match(JSON.stringify(out.trace), /bucket 0: not live due to port 1/);
});

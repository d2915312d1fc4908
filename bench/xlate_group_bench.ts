/**
 * Translation through groups: translations per second of a flow through
 * an all group (two buckets, one rewriting, so each bucket commits), a
 * select group with hash fields, and both passes of a dp_hash select
 * group (the first freezing behind hash+recirc, the recirculated one
 * picking by dp_hash), against a plain output rule. Prints one line:
 *
 *   xlate_group: plain_per_s=P all_per_s=A hash_per_s=H dp_hash_first_per_s=D1 dp_hash_second_per_s=D2
 *
 * and the named figures `xlate_group_all_per_s: A` and so on.
 */
import { bytesOf, F, type FlowKey, setUint } from "../src/flow/mod.ts";
import { OfTables, parseGroupMod } from "../src/ofproto/mod.ts";
import { parseExactFlow, RecircIdPool, XBridge, xlate } from "../src/xlate/mod.ts";

const N = Number(Deno.env.get("XLATE_GROUP_BENCH_N") ?? "100000");
const bridge = new XBridge("br0", [
  { name: "p1", ofport: 1, odpPort: 1 },
  { name: "p2", ofport: 2, odpPort: 2 },
  { name: "p3", ofport: 3, odpPort: 3 },
]);
const tables = new OfTables();
tables.groupMods(
  [
    "group_id=1,type=all,bucket=set_field:10.0.0.9->ip_dst,output:2,bucket=output:3",
    "group_id=2,type=select,selection_method=hash,fields(ip_src,nw_proto),bucket=output:2,bucket=output:3",
    "group_id=3,type=select,bucket=weight:10,output:2,bucket=weight:20,output:3",
  ].map((g) => parseGroupMod(g, "add", 6)),
  0,
);
for (
  const r of [
    "priority=10,ip,nw_dst=10.0.0.1,actions=group:1",
    "priority=10,ip,nw_dst=10.0.0.2,actions=group:2",
    "priority=10,ip,nw_dst=10.0.0.3,actions=group:3",
    "priority=10,ip,nw_dst=10.0.0.4,actions=output:2",
  ]
) tables.addFlow(r, 0, { version: 4 });
const pool = new RecircIdPool();
const flowTo = (dst: string) =>
  parseExactFlow(`in_port=1,tcp,nw_src=10.0.0.5,nw_dst=${dst},tp_src=1000,tp_dst=80`, bridge);

function rate(flow: FlowKey): number {
  const t0 = performance.now();
  for (let i = 0; i < N; i++) {
    const out = xlate({ flow, tables, bridge, ml: null, nowMs: 0, recircIds: pool });
    for (const id of out.recircs) pool.release(id);
  }
  return Math.round(N / ((performance.now() - t0) / 1000));
}

// Keep the dp_hash group's frozen state alive for the recirculated pass.
const held = xlate({
  flow: flowTo("10.0.0.3"),
  tables,
  bridge,
  ml: null,
  nowMs: 0,
  recircIds: pool,
});
const second = flowTo("10.0.0.3");
setUint(bytesOf(second), F.recirc_id.off, 4, held.recircs[0]);
setUint(bytesOf(second), F.dp_hash.off, 4, 0x4d2a3257);
rate(flowTo("10.0.0.4"));
const plain = rate(flowTo("10.0.0.4"));
const all = rate(flowTo("10.0.0.1"));
const hash = rate(flowTo("10.0.0.2"));
const first = rate(flowTo("10.0.0.3"));
const again = rate(second);
console.log(
  `xlate_group: plain_per_s=${plain} all_per_s=${all} hash_per_s=${hash} ` +
    `dp_hash_first_per_s=${first} dp_hash_second_per_s=${again}`,
);
console.log(`xlate_group_plain_per_s: ${plain}`);
console.log(`xlate_group_all_per_s: ${all}`);
console.log(`xlate_group_hash_per_s: ${hash}`);
console.log(`xlate_group_dp_hash_first_per_s: ${first}`);
console.log(`xlate_group_dp_hash_second_per_s: ${again}`);

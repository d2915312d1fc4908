/**
 * Translation through conntrack: translations per second of the first
 * pass (ct(table=1) forking recirc(N)) and of the resumed pass (thawing
 * N's frozen state, then ct(commit,exec(...)) and an output), on rules as
 * the conntrack conformance cases use them. Prints one line:
 *
 *   xlate_ct: fork_per_s=F thaw_per_s=T
 *
 * and the named figures `xlate_ct_fork_per_s: F`, `xlate_ct_thaw_per_s: T`.
 */
import { bytesOf, F, type FlowKey, setUint } from "../src/flow/mod.ts";
import { OfTables } from "../src/ofproto/mod.ts";
import { parseExactFlow, RecircIdPool, XBridge, xlate } from "../src/xlate/mod.ts";

const N = Number(Deno.env.get("XLATE_CT_BENCH_N") ?? "200000");
const bridge = new XBridge("br0", [
  { name: "p1", ofport: 1, odpPort: 1 },
  { name: "p2", ofport: 2, odpPort: 2 },
]);
const tables = new OfTables();
for (
  const r of [
    "table=0,priority=10,ip,ct_state=-trk,actions=ct(table=1,zone=9)",
    "table=1,priority=10,ct_state=+trk+new,ip,actions=ct(commit,zone=9,exec(set_field:1->ct_mark)),output:2",
    "table=1,priority=10,ct_state=+trk+est,ip,actions=output:2",
  ]
) tables.addFlow(r, 0);
const pool = new RecircIdPool();
const first = parseExactFlow(
  "in_port=1,udp,nw_src=10.0.0.1,nw_dst=10.0.0.2,udp_src=1,udp_dst=53",
  bridge,
);

function rate(flow: FlowKey): number {
  const t0 = performance.now();
  for (let i = 0; i < N; i++) {
    const out = xlate({ flow, tables, bridge, ml: null, nowMs: 0, recircIds: pool });
    for (const id of out.recircs) pool.release(id);
  }
  return Math.round(N / ((performance.now() - t0) / 1000));
}

// Keep the frozen state alive for the resumed pass.
const held = xlate({ flow: first, tables, bridge, ml: null, nowMs: 0, recircIds: pool });
const resumed = first.slice();
const b = bytesOf(resumed);
setUint(b, F.recirc_id.off, 4, held.recircs[0]);
b[F.ct_state.off] = 0x21;
setUint(b, F.ct_zone.off, 2, 9);
rate(first);
const fork = rate(first);
const thaw = rate(resumed);
console.log(`xlate_ct: fork_per_s=${fork} thaw_per_s=${thaw}`);
console.log(`xlate_ct_fork_per_s: ${fork}`);
console.log(`xlate_ct_thaw_per_s: ${thaw}`);

/**
 * One translation as the revalidators' full pass and the handlers run it:
 * `BridgeXlate.translate` (the bridge's worker translation, with its
 * xlate cache) over N distinct TCP flows against two rules, in this
 * thread, plus the actions digest a revalidator compares. Prints the best
 * of XB_ROUNDS rounds in microseconds per flow (`xlate_us_per_flow`), the
 * cost that bounds `reval200k_full_ms` and `setups_per_s`.
 */
import { BridgeXlate } from "../src/daemon/bridge_xlate.ts";
import { RuleStatsQueue } from "../src/daemon/rule_stats.ts";
import { PacketInQueue } from "../src/daemon/packet_in_queue.ts";
import { LearnQueue } from "../src/daemon/learn_queue.ts";
import { MacLearning, OfTables } from "../src/ofproto/mod.ts";
import { RecircIdPool } from "../src/xlate/mod.ts";
import { FLOW_WORDS, flowExtract } from "../src/flow/mod.ts";
import { actionsDigest } from "../src/upcall/actions_digest.ts";
import { tcpFrame } from "../tests/support/upcall/test_support.ts";

const N = Number(Deno.env.get("XB_N") ?? 100_000);
const ROUNDS = Number(Deno.env.get("XB_ROUNDS") ?? 5);

const tables = new OfTables();
const bridge = new BridgeXlate({
  bridge: "br0",
  ports: [{ name: "p1", ofport: 1, odpPort: 1 }, { name: "p2", ofport: 2, odpPort: 2 }],
  mac: MacLearning.create().buffer,
  ruleStats: RuleStatsQueue.create().buffer,
  uuid: new Uint8Array(16),
  recirc: new RecircIdPool().buffer,
  vlanLimit: 1,
  packetIns: PacketInQueue.create().init,
  learn: LearnQueue.create().buffer,
}, tables);
tables.addFlow("priority=0,actions=output:2", 0);
tables.addFlow("priority=50,tcp,tp_dst=22,actions=drop", 0);

const keys = Array.from({ length: N }, (_, i) => {
  const key = new Uint32Array(FLOW_WORDS);
  const f = tcpFrame(1 + (i >> 15), 2, 1 + (i & 32767), 80);
  flowExtract(f, f.length, 1, key);
  return key;
});
const wc = new Uint32Array(FLOW_WORDS);
const digest = new Uint32Array(3);
let best = Infinity;
for (let round = 0; round < ROUNDS; round++) {
  const t0 = performance.now();
  for (const key of keys) {
    wc.fill(0);
    const r = bridge.translate({
      key,
      packet: null,
      packets: 0,
      bytes: 0,
      tcpFlags: 0,
      used: 0,
      wc,
      wantXcache: true,
    });
    if (!r.actions) throw new Error("translation failed");
    actionsDigest(r.actions, digest);
  }
  best = Math.min(best, (performance.now() - t0) * 1000 / N);
}
console.log(`xlate: ${N} distinct flows, best of ${ROUNDS} rounds: ${best.toFixed(2)} us per flow`);
console.log(`xlate_us_per_flow: ${best.toFixed(2)}`);

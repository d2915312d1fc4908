import assert from "node:assert/strict";
import { formatOdpActions, newKey, parseOdpKey } from "../flow/mod.ts";
import { MacLearning, OfTables } from "../ofproto/mod.ts";
import { RecircIdPool } from "../xlate/mod.ts";
import { BridgeXlate, type BridgeXlateInit } from "./bridge_xlate.ts";
import { RuleStatsQueue } from "./rule_stats.ts";
import { LearnQueue } from "./learn_queue.ts";

const PORTS = [1, 2].map((n) => ({ name: `p${n}`, ofport: n, odpPort: n }));

/** The recirc_id a controller action's cookie carries for a packet from `inPort`. */
function recircIdOf(x: BridgeXlate, inPort: number): number {
  const key = newKey();
  parseOdpKey(
    `in_port(${inPort}),eth(src=50:54:00:00:00:05,dst=50:54:00:00:00:07),eth_type(0x0800),` +
      "ipv4(src=10.0.0.1,dst=10.0.0.2,proto=6,tos=0,ttl=64,frag=no),tcp(src=1,dst=2)",
    key,
    newKey(),
  );
  const r = x.translate({
    key,
    packet: null,
    packets: 0,
    bytes: 0,
    tcpFlags: 0,
    used: 0,
    wc: null,
    wantXcache: false,
  });
  const m = /recirc_id=(\d+)/.exec(formatOdpActions(r.actions!));
  assert.ok(m, formatOdpActions(r.actions!));
  return Number(m[1]);
}

Deno.test("every worker's translation takes recirculation ids from the daemon's one pool", () => {
  const pool = new RecircIdPool();
  const init: BridgeXlateInit = {
    bridge: "br0",
    ports: PORTS,
    mac: MacLearning.create().buffer,
    ruleStats: RuleStatsQueue.create().buffer,
    learn: LearnQueue.create().buffer,
    uuid: new Uint8Array(16),
    recirc: pool.buffer,
    vlanLimit: 1,
  };
  const tables = new OfTables();
  tables.addFlow("actions=controller", 0);
  // Each worker receives its own structured clone of the init message.
  const handler = new BridgeXlate(structuredClone(init), tables);
  const revalidator = new BridgeXlate(structuredClone(init), tables);
  assert.equal(recircIdOf(handler, 1), 1);
  assert.equal(recircIdOf(handler, 2), 2);
  // A different thread sees the same frozen states under the same ids.
  assert.equal(recircIdOf(revalidator, 2), 2);
  assert.equal(recircIdOf(revalidator, 1), 1);
  assert.equal(pool.idFor(new Uint32Array(20)), 3, "the main thread's pool counts on from there");
});

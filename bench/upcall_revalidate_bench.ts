/**
 * Time to revalidate N datapath flows with 1 and 2 revalidator workers,
 * through a real bridge (src/daemon's Bridge: OpenFlow tables and the
 * real xlate in every worker, as the daemon runs them): a stats-only pass
 * (no OpenFlow change) and a full re-translation (after a rule change that
 * leaves the flows' actions as they are), as the leader measures a dump
 * (dump duration, ms). One packet's miss shows the megaflow the real
 * translation makes; the N flows are put straight into the datapath with
 * that mask (plus the fields that make each flow distinct) and adopted as
 * ukeys by the first dump. Named figures: `reval200k_stats_ms` and
 * `reval200k_full_ms` (200 000 flows, 2 revalidators). RB_N=10000,...
 * runs other flow counts only, RB_R=2 other revalidator counts only;
 * RB_PASSES=N times each kind of pass N times (2 by default: a profile
 * wants more); RB_VERBOSE=1 prints every pass's time. Beside each wall
 * figure, the CPU time of the whole process during the pass (every
 * thread: revalidators, PMD, GC; bench/_thread_cpu.ts), which a loaded
 * machine inflates far less than the wall clock.
 */
import { exactField, F, FLOW_WORDS, flowExtract } from "../src/flow/mod.ts";
import { type DpifOp, FlowSnapshot, PUT_CREATE } from "../src/dpif/mod.ts";
import { Bridge, OtherConfig } from "../src/daemon/mod.ts";
import { clockWarp } from "../src/lib/clock.ts";
import { setVlogLevel, timeMsec } from "../src/lib/mod.ts";
import { DummyNetdev } from "../src/netdev/mod.ts";
import { setFlowLimit } from "../src/upcall/mod.ts";
import { tcpFrame } from "../tests/support/upcall/test_support.ts";
import { pollUntil } from "../tests/poll.ts";
import { processCpuMs } from "./_thread_cpu.ts";

/** A pass's dump duration (wall, as the leader measures it) and the process's CPU time meanwhile. */
interface Pass {
  wallMs: number;
  cpuMs: number;
}

function better(a: Pass, b: Pass): Pass {
  return { wallMs: Math.min(a.wallMs, b.wallMs), cpuMs: Math.min(a.cpuMs, b.cpuMs) };
}

/** The mask of the one flow in the datapath: the real translation's megaflow. */
function learntMask(bridge: Bridge): Uint32Array {
  const t = bridge.dp.shared.pmds[0].table, snap = new FlowSnapshot();
  for (let s = 0; s < t.highWater(); s++) if (t.read(s, snap)) return snap.mask.slice();
  throw new Error("no flow learnt");
}

async function run(n: number, revalidators: number): Promise<[Pass, Pass]> {
  const config = new OtherConfig();
  config.set([
    "flow-limit=1000000",
    "max-idle=1000000000",
    "max-revalidator=1000000",
    "n-handler-threads=1",
    `n-revalidator-threads=${revalidators}`,
  ]);
  const bridge = await Bridge.create({
    name: "br0",
    datapathType: "dummy",
    ports: [
      { name: "p1", ofport: 1, type: "dummy", options: {} },
      { name: "p2", ofport: 2, type: "dummy", options: {} },
    ],
    config,
  });
  try {
    bridge.loadFlows("priority=0,actions=output:2\n");
    // The dynamic limit goes up before the first dump, which would otherwise
    // find more than twice 10000 flows and delete them all.
    setFlowLimit([bridge.udpif], "1000000");
    const dp = bridge.dp, udpif = bridge.udpif;
    (bridge.portByName("p1")!.netdev as DummyNetdev).receive([tcpFrame(250, 2, 1, 80)]);
    await pollUntil(() => dp.getStats().flows === 1, "the learning packet's megaflow");
    const mask = learntMask(bridge);
    for (const f of [F.dl_type, F.nw_proto, F.nw_src, F.tp_src, F.tp_dst]) {
      exactField(new Uint8Array(mask.buffer), f);
    }
    // It covers every packet here: out of the way before the N flows go in.
    dp.flowFlush();
    const out = bridge.portByName("p2")!.odpPort;
    const ops: DpifOp[] = [];
    for (let i = 0; i < n; i++) {
      const key = new Uint32Array(FLOW_WORDS);
      const f = tcpFrame(1 + (i >> 15), 2, 1 + (i & 32767), 80);
      flowExtract(f, f.length, 1, key);
      ops.push({
        type: "put",
        flags: PUT_CREATE,
        key,
        mask,
        actions: [{ type: "output", port: out }],
      });
      if (ops.length === 64 || i === n - 1) {
        const batch = ops.splice(0);
        dp.operate(batch);
        const failed = batch.find((op) => op.error);
        if (failed) throw new Error(`flow put failed: error ${failed.error}`);
      }
    }
    let ruleChanges = 0;
    // Cycles only when asked: a warp of one period (stats only) or a rule
    // change (full); flows stay far from max-idle.
    const cycle = async (full: boolean): Promise<Pass> => {
      await udpif.shared.waitLeaderAsleep();
      const cpu0 = processCpuMs();
      // A slow dump on a busy machine lowers the dynamic limit, and the
      // next dump would evict flows: this measures passes, not eviction.
      setFlowLimit([udpif], "1000000");
      const done = udpif.waitDump();
      if (full) {
        const rule = `priority=50,tcp,tp_dst=${22 + ruleChanges++},actions=drop`;
        bridge.tablesChanged(bridge.tables.addFlow(rule, timeMsec()));
      } else {
        clockWarp(1e6);
      }
      await done;
      const pass = { wallMs: udpif.shared.dumpDuration, cpuMs: Math.round(processCpuMs() - cpu0) };
      if (Deno.env.get("RB_VERBOSE")) {
        console.error(`${n} ${full ? "full" : "stats"} ${pass.wallMs} ms (cpu ${pass.cpuMs} ms)`);
      }
      return pass;
    };
    await cycle(false);
    // (The learning flow's ukey may outlive its flow by a dump.)
    if (udpif.ukeys.count() < n) {
      throw new Error(`adopted ${udpif.ukeys.count()} of ${n}`);
    }
    const none = { wallMs: Infinity, cpuMs: Infinity };
    let stats = none, full = none;
    for (let i = 0; i < passes; i++) stats = better(stats, await cycle(false));
    for (let i = 0; i < passes; i++) full = better(full, await cycle(true));
    if (dp.getStats().flows !== n) {
      throw new Error(`${dp.getStats().flows} flows left of ${n}: translation disagreed`);
    }
    return [stats, full];
  } finally {
    await bridge.destroy();
  }
}

// The bridge logs its start-up as the daemon does; the figures are the output here.
setVlogLevel(undefined, "console", "err");
const parts: string[] = [];
let at200k: [number, number] = [NaN, NaN];
const load = () => Deno.loadavg()[0].toFixed(1);
const loadBefore = load();
const passes = Number(Deno.env.get("RB_PASSES") ?? "2");
const revalidatorCounts = (Deno.env.get("RB_R") ?? "1,2").split(",").map(Number);
for (const n of (Deno.env.get("RB_N") ?? "10000,100000,200000").split(",").map(Number)) {
  for (const r of revalidatorCounts) {
    const [stats, full] = await run(n, r);
    parts.push(
      `${n / 1000}k/${r}r stats ${stats.wallMs} ms (cpu ${stats.cpuMs}) ` +
        `full ${full.wallMs} ms (cpu ${full.cpuMs})`,
    );
    if (n === 200_000 && r === 2) at200k = [stats.wallMs, full.wallMs];
  }
}
console.log(`upcall_revalidate: ${parts.join(", ")}; load ${loadBefore}-${load()}`);
if (!Number.isNaN(at200k[0])) {
  console.log(`reval200k_stats_ms: ${at200k[0]}`);
  console.log(`reval200k_full_ms: ${at200k[1]}`);
}

/**
 * Flow setups per second through udpif: distinct flows arrive on a port,
 * miss in the PMD worker, go up to the handler workers, get translated
 * and installed (one megaflow each) and their packets executed. Measured
 * from the first packet in to the last upcall handled, with 1 and with 2
 * handler workers, after an untimed warm-up (the cold rate of the warm-up
 * is printed too), and setups per CPU-second of the whole process, which
 * a loaded machine changes less than the wall clock. Named figure: `setups_per_s`, with 2 handlers.
 * A second line splits the timed span per thread (main: the feeder; the
 * PMD; each handler; the revalidator; V8's compiler and GC helpers) into
 * time on a CPU, time runnable but waiting for one, and time asleep, per
 * setup: whether the pipeline is short of CPU or waits on itself.
 */
import { DpifNetdev } from "../src/dpif/mod.ts";
import { DummyNetdev } from "../src/netdev/mod.ts";
import { setFlowLimit, Udpif } from "../src/upcall/mod.ts";
import { RuleXlate, tcpFrame } from "../tests/support/upcall/test_support.ts";
import {
  newTasks,
  processCpuMs,
  type TaskSched,
  tasksCpuDelta,
  tasksCpuMs,
  tasksSched,
} from "./_thread_cpu.ts";

const N = 60_000;
const WARMUP = 65536;

/** Frames given to the port at once. */
const CHUNK = 512;
/**
 * Most frames in flight (given to the port, not yet handled): 16 handler
 * batches, and with a chunk more within the port's rx queue (about 1800
 * of these frames), so the port never drops one.
 */
const WINDOW = 1024;

/**
 * Gives `frames` to `port` as a steady stream of new flows, at most
 * WINDOW of them waiting for a handler, so that no upcall is lost (a
 * handler queue holds many more); returns once every frame has been seen
 * by the PMD and every miss handled. Waits are on the handlers' count (an
 * Atomics wait), never on a timer between chunks.
 */
async function feed(
  dp: DpifNetdev,
  port: DummyNetdev,
  udpif: Udpif,
  frames: Uint8Array[],
): Promise<void> {
  const shared = udpif.shared;
  const st0 = dp.getStats();
  const seen0 = st0.missed + st0.lost + st0.hit;
  const handled0 = shared.upcallsHandled;
  for (let i = 0; i < frames.length;) {
    // Frames that hit or were lost are never handled.
    const st = dp.getStats();
    const gone = st.hit + st.lost - st0.hit - st0.lost;
    await shared.waitHandled(handled0 + i - gone - WINDOW);
    const n = port.receive(frames.slice(i, Math.min(i + CHUNK, frames.length)));
    i += n;
    // Not expected (the window keeps the rx queue from filling): a moment
    // for the PMD to take some.
    if (n === 0) await new Promise((r) => setTimeout(r, 1));
  }
  for (;;) {
    const s = dp.getStats();
    if (s.missed + s.lost + s.hit >= seen0 + frames.length) break;
    await new Promise((r) => setTimeout(r, 0));
  }
  await shared.waitHandled(dp.getStats().missed);
}

async function run(
  handlers: number,
): Promise<
  {
    rate: number;
    coldRate: number;
    lost: number;
    flows: number;
    cpuRate: number;
    threadUs: number[];
    roles: string;
  }
> {
  const before = [...tasksSched().keys()];
  const dp = DpifNetdev.create("dummy", {
    flowCapacity: 131072,
    extractModule: new URL("../src/flow/mod.ts", import.meta.url).href,
  });
  await dp.ready();
  const pmdTids = workerTids(before);
  const p1 = new DummyNetdev("p1");
  dp.portAdd(p1);
  dp.portAdd(new DummyNetdev("p2"));
  const xlate = new RuleXlate();
  // Every flow is its own megaflow: the first rule looks at tp_src and nw_src.
  xlate.add(100, { tp_src: 9999 }, []);
  xlate.add(99, { nw_src: 0 }, []);
  xlate.add(10, { tp_dst: 80 }, [{ type: "output", port: 2 }]);
  const udpif = new Udpif({
    dp,
    xlateModule: new URL("../tests/support/upcall/test_support.ts", import.meta.url).href,
    xlateInit: xlate.init(),
    mainXlate: xlate,
  });
  setFlowLimit([udpif], "200000");
  await udpif.configure({
    flowLimit: 200000,
    maxIdle: 3600_000,
    nHandlerThreads: handlers,
    nRevalidatorThreads: 1,
  });
  const udpifTids = newTasks([...pmdTids, ...before], workerTids(before));
  const role = new Map<number, string>([[Deno.pid, "main"]]);
  pmdTids.forEach((t, i) => role.set(t, `pmd${i}`));
  udpifTids.forEach((t, i) =>
    role.set(t, i < handlers ? `handler${i}` : `revalidator${i - handlers}`)
  );
  const frames = Array.from(
    { length: N },
    (_, i) => tcpFrame(1 + (i >> 15), 2, 1 + (i & 32767), 80),
  );
  // Warm-up, untimed: the workers are fresh isolates whose first tens of
  // thousands of upcalls run while V8 is still compiling them, a cost a
  // daemon pays once at start, not per flow. With 8192 (4096 a handler)
  // V8's compiler threads still took 3-5 us of CPU per timed setup, with
  // 32768 about 3 (TurboFan finishing handleBatch, #install, recv in the
  // timed part), with 65536 about 1.
  const warm = Array.from(
    { length: WARMUP },
    (_, i) => tcpFrame(10 + (i >> 15), 2, 1 + (i & 32767), 80),
  );
  const w0 = performance.now();
  await feed(dp, p1, udpif, warm);
  const s0 = dp.getStats();
  const flows0 = s0.flows;
  const coldRate = flows0 / ((performance.now() - w0) / 1000);
  const t0 = performance.now();
  const cpu0 = processCpuMs();
  const tasks0 = tasksCpuMs();
  const sched0 = tasksSched();
  await feed(dp, p1, udpif, frames);
  const sched1 = tasksSched();
  const secs = (performance.now() - t0) / 1000;
  const cpuSecs = (processCpuMs() - cpu0) / 1000;
  const threads = tasksCpuDelta(tasks0, tasksCpuMs()).slice(0, 4);
  const s = dp.getStats();
  await udpif.destroy();
  dp.destroy();
  return {
    rate: (s.flows - flows0) / secs,
    coldRate,
    lost: s.lost,
    flows: s.flows - flows0,
    cpuRate: (s.flows - flows0) / cpuSecs,
    threadUs: threads.map((ms) => ms * 1000 / (s.flows - flows0)),
    roles: byRole(role, sched0, sched1, secs * 1e9, s.flows - flows0),
  };
}

/** This process's worker threads ("worker-N") not in `before`, oldest first. */
function workerTids(before: Iterable<number>): number[] {
  const now = tasksSched();
  return newTasks(before, now.keys()).filter((t) => now.get(t)!.name.startsWith("worker-"));
}

/**
 * Each role's time per setup over the timed span, in us: on a CPU, then
 * runnable but waiting for a CPU, then asleep (the rest of the wall
 * time: waiting on another thread). V8's compiler and GC helpers
 * ("V8 DefaultWorke") and Deno's runtime threads are summed as "v8" and
 * "rt" (CPU only: they are idle by design).
 */
function byRole(
  role: Map<number, string>,
  t0: Map<number, TaskSched>,
  t1: Map<number, TaskSched>,
  wallNs: number,
  setups: number,
): string {
  const us = (ns: number) => (ns / 1000 / setups).toFixed(1);
  const parts: string[] = [];
  let v8 = 0, rt = 0, all = 0;
  for (const [tid, b] of t1) {
    const a = t0.get(tid) ?? { name: b.name, runNs: 0, waitNs: 0 };
    const run = b.runNs - a.runNs, wait = b.waitNs - a.waitNs;
    all += run;
    const r = role.get(tid);
    if (r) parts.push(`${r} ${us(run)}/${us(wait)}/${us(wallNs - run - wait)}`);
    else if (b.name.startsWith("V8")) v8 += run;
    else rt += run;
  }
  parts.sort();
  return `${parts.join(", ")}, v8 ${us(v8)}, rt ${us(rt)}; all threads ${us(all)}, ` +
    `wall ${us(wallNs)}`;
}

const one = await run(1);
const two = await run(2);
const k = (x: number) => `${(x / 1000).toFixed(1)}k`;
const us = (t: number[]) => t.map((x) => x.toFixed(1)).join(" ");
console.log(
  `upcall_setup: ${N} distinct flows after ${WARMUP} to warm up, flow setups/s: ` +
    `1 handler ${k(one.rate)} (cold ${k(one.coldRate)}; ${one.flows} flows added, ` +
    `${one.lost} upcalls lost), 2 handlers ${k(two.rate)} (cold ${k(two.coldRate)}; ` +
    `${two.flows} added, ${two.lost} lost); per CPU-second of the whole process ` +
    `(every thread): 1 handler ${k(one.cpuRate)}, 2 handlers ${k(two.cpuRate)}; ` +
    `CPU us per setup of the 4 busiest threads (10 ms ticks): ` +
    `1 handler ${us(one.threadUs)}, 2 handlers ${us(two.threadUs)}`,
);
console.log(
  `upcall_setup threads, us per setup on a CPU/waiting for a CPU/asleep: ` +
    `1 handler: ${one.roles}; 2 handlers: ${two.roles}`,
);
console.log(`setups_per_s: ${Math.round(two.rate)}`);

/**
 * Flow setups per second through udpif: distinct flows arrive on a port,
 * miss in the PMD worker, go up to the handler workers, get translated
 * and installed (one megaflow each) and their packets executed. Measured
 * from the first packet in to the last upcall handled, with 1 and with 2
 * handler workers, after an untimed warm-up (the cold rate of the warm-up
 * is printed too), and setups per CPU-second of the whole process, which
 * a loaded machine changes less than the wall clock. Named figure: `setups_per_s`, with 2 handlers.
 */
import { DpifNetdev } from "../src/dpif/mod.ts";
import { DummyNetdev } from "../src/netdev/mod.ts";
import { setFlowLimit, Udpif } from "../src/upcall/mod.ts";
import { RuleXlate, tcpFrame } from "../tests/support/upcall/test_support.ts";
import { processCpuMs, tasksCpuDelta, tasksCpuMs } from "./_thread_cpu.ts";

const N = 60_000;
const WARMUP = 8192;

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
  }
> {
  const dp = DpifNetdev.create("dummy", {
    flowCapacity: 131072,
    extractModule: new URL("../src/flow/mod.ts", import.meta.url).href,
  });
  await dp.ready();
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
  const frames = Array.from(
    { length: N },
    (_, i) => tcpFrame(1 + (i >> 15), 2, 1 + (i & 32767), 80),
  );
  // Warm-up, untimed: the workers are fresh isolates whose first
  // thousands of upcalls run while V8 is still compiling them, a cost a
  // daemon pays once at start, not per flow.
  const warm = Array.from({ length: WARMUP }, (_, i) => tcpFrame(10, 2, 1 + i, 80));
  const w0 = performance.now();
  for (let i = 0; i < WARMUP; i += 1024) {
    p1.receive(warm.slice(i, i + 1024));
    for (;;) {
      const s = dp.getStats();
      if (s.missed + s.lost + s.hit >= i + 1024) break;
      await new Promise((r) => setTimeout(r, 0));
    }
    await udpif.shared.waitHandled(dp.getStats().missed);
  }
  const s0 = dp.getStats();
  const flows0 = s0.flows, seen0 = s0.missed + s0.lost + s0.hit;
  const coldRate = flows0 / ((performance.now() - w0) / 1000);
  // Paced so that the upcall queues (depth set by the datapath) never
  // overflow: a chunk in, then wait until the handlers have caught up.
  const CHUNK = 1024;
  const t0 = performance.now();
  const cpu0 = processCpuMs();
  const tasks0 = tasksCpuMs();
  for (let i = 0; i < N;) {
    const end = Math.min(i + CHUNK, N);
    while (i < end) {
      const n = p1.receive(frames.slice(i, end));
      i += n;
      if (i < end) await new Promise((r) => setTimeout(r, 0));
    }
    for (;;) {
      const s = dp.getStats();
      if (s.missed + s.lost + s.hit >= seen0 + i) break;
      await new Promise((r) => setTimeout(r, 0));
    }
    await udpif.shared.waitHandled(dp.getStats().missed);
  }
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
  };
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
console.log(`setups_per_s: ${Math.round(two.rate)}`);

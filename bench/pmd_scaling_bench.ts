/**
 * PMD scaling: how much faster two PMD workers (pmd-cpu-mask=0x3) forward
 * pre-queued traffic than one (0x1). 8 dummy ports with 8 rx queues each
 * (options:n_rxq=8) are filled with 64-byte frames of 1000 EMC-resident
 * flows, unpublished; then all queues are published at once and the
 * feeder sleeps until the datapath has counted every packet. Rounds repeat
 * for about two seconds per configuration.
 *
 * `pmd2_scaling` is the rate of two PMDs over one's per CPU-second of
 * the busiest PMD thread (each thread's CPU time from
 * /proc/self/task/TID/stat; the PMD workers are the busiest threads but
 * the feeding main one): what the PMDs do with a core each, which the wall clock on a
 * shared machine is not (2.0 is perfect). Then the wall-clock rates and
 * their ratio, each configuration's packets per CPU-second of the whole
 * process (bench/_thread_cpu.ts: does the second PMD cost CPU beyond the
 * packets it forwards?), and the load.
 */
import { exactField, F, FLOW_WORDS, flowExtract } from "../src/flow/mod.ts";
import { DummyNetdev } from "../src/netdev/mod.ts";
import { DpifNetdev, type DpifOp, PUT_CREATE } from "../src/dpif/mod.ts";
import { processCpuMs } from "./_thread_cpu.ts";
import { udpFrames } from "./_frames.ts";

const FLOWS = 1000, PORTS = 8, RXQ = 8, RUN_MS = 2000;
const frames = udpFrames(FLOWS);
const sleeper = new Int32Array(new SharedArrayBuffer(4));
const TICKS_PER_S = 100;

/** Every thread's user + system CPU time so far, in clock ticks, by thread id. */
function threadTicks(): Map<string, number> {
  const out = new Map<string, number>();
  for (const e of Deno.readDirSync("/proc/self/task")) {
    try {
      const stat = Deno.readTextFileSync(`/proc/self/task/${e.name}/stat`);
      const f = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
      out.set(e.name, Number(f[11]) + Number(f[12]));
    } catch {
      // The thread ended meanwhile.
    }
  }
  return out;
}

/** CPU seconds of the busiest thread but the main one between two `threadTicks`. */
function busiestCpuS(before: Map<string, number>, after: Map<string, number>): number {
  let max = 0;
  for (const [tid, t] of after) {
    // The main thread feeds every queue; only workers (the PMDs) count.
    if (tid !== String(Deno.pid)) max = Math.max(max, t - (before.get(tid) ?? 0));
  }
  return max / TICKS_PER_S;
}

interface Figures {
  /** Packets per wall second, per CPU-second of the process, per CPU-second of the busiest thread. */
  pps: number;
  perCpuS: number;
  perBusiestS: number;
}

async function measure(cores: number[]): Promise<Figures> {
  const dp = DpifNetdev.create("dummy", { flowCapacity: 1 << 14, pmdCores: cores });
  await dp.ready();
  dp.setEmcInsertInvProb(1);
  const ports: DummyNetdev[] = [];
  for (let p = 1; p <= PORTS; p++) {
    const d = new DummyNetdev(`p${p}`);
    d.nRxq = RXQ;
    dp.portAdd(d);
    ports.push(d);
  }
  dp.portAdd(new DummyNetdev("p9"));
  const mask = new Uint32Array(FLOW_WORDS);
  exactField(new Uint8Array(mask.buffer), F.in_port);
  exactField(new Uint8Array(mask.buffer), F.dl_src);
  // Without a PMD, a put goes to every PMD's table.
  dp.operate(ports.flatMap((_, p) =>
    frames.map((f): DpifOp => {
      const key = new Uint32Array(FLOW_WORDS);
      flowExtract(f, f.length, p + 1, key);
      return { type: "put", flags: PUT_CREATE, key, mask, actions: [{ type: "output", port: 9 }] };
    })
  ));
  let k = 0;
  const round = (): { n: number; ms: number } => {
    let n = 0;
    for (const d of ports) {
      for (let q = 0; q < RXQ; q++) while (d.enqueueRx(frames[k++ % FLOWS], 64, q)) n++;
    }
    const target = dp.getStats().hit + n;
    const t0 = performance.now();
    for (const d of ports) d.flushRx();
    while (dp.getStats().hit < target) Atomics.wait(sleeper, 0, 0, 1);
    return { n, ms: performance.now() - t0 };
  };
  round(); // warm-up: EMC, JIT
  let packets = 0, ms = 0;
  const cpu0 = processCpuMs(), ticks0 = threadTicks();
  while (ms < RUN_MS) {
    const r = round();
    packets += r.n;
    ms += r.ms;
  }
  const cpu = processCpuMs() - cpu0, busiest = busiestCpuS(ticks0, threadTicks());
  dp.destroy();
  return {
    pps: packets / (ms / 1000),
    perCpuS: packets / (cpu / 1000),
    perBusiestS: packets / busiest,
  };
}

const one = await measure([0]);
const two = await measure([0, 1]);
const load = Deno.loadavg()[0].toFixed(1);
const m = (x: number) => (x / 1e6).toFixed(2);
const scaling = (two.perBusiestS / one.perBusiestS).toFixed(2);
console.log(
  `pmd_scaling: 2 PMDs over 1, per CPU-second of the busiest PMD ${scaling} (1 PMD ` +
    `${m(one.perBusiestS)}, 2 PMDs ${m(two.perBusiestS)} Mpps); wall ${m(one.pps)} vs ` +
    `${m(two.pps)} Mpps = ${(two.pps / one.pps).toFixed(2)}; per process CPU-second ` +
    `${m(one.perCpuS)} vs ${m(two.perCpuS)}; load ${load}`,
);
console.log(`pmd2_scaling: ${scaling}`);

/**
 * Flow installs per second through the dpif (operate batches of 64 puts,
 * PMD worker), and dump rate (flows per second) while traffic runs.
 * Beside the wall-clock rate, the CPU microseconds per install of the
 * main thread (which encodes the puts) and of the busiest other thread
 * (the PMD, which installs them), from /proc/self/task in 10 ms ticks:
 * on a shared machine those, not the wall clock, compare two commits.
 */
import { exactField, F, FLOW_WORDS, flowExtract } from "../src/flow/mod.ts";
import { DummyNetdev } from "../src/netdev/mod.ts";
import { DpifNetdev, type DpifOp, newDumpBatch, PUT_CREATE } from "../src/dpif/mod.ts";
import { tasksCpuMs } from "./_thread_cpu.ts";

const N = 100_000;
const dp = DpifNetdev.create("dummy", { flowCapacity: 131072 });
await dp.ready();
const p1 = new DummyNetdev("p1");
dp.portAdd(p1);
dp.portAdd(new DummyNetdev("p2"));
const mask = new Uint32Array(FLOW_WORDS);
exactField(new Uint8Array(mask.buffer), F.in_port);
exactField(new Uint8Array(mask.buffer), F.dl_src);
const frame = (i: number) => {
  const f = new Uint8Array(64);
  f.set([
    0x50,
    0x54,
    0,
    0,
    0,
    7,
    0x50,
    (i >> 24) & 255,
    (i >> 16) & 255,
    (i >> 8) & 255,
    i & 255,
    1,
    8,
    0,
  ], 0);
  return f;
};
const ops: DpifOp[] = [];
for (let i = 0; i < N; i++) {
  const key = new Uint32Array(FLOW_WORDS);
  const f = frame(i);
  flowExtract(f, f.length, 1, key);
  ops.push({ type: "put", flags: PUT_CREATE, key, mask, actions: [{ type: "output", port: 2 }] });
}
const tasks0 = tasksCpuMs();
const t0 = performance.now();
for (let i = 0; i < N; i += 64) dp.operate(ops.slice(i, i + 64));
const installs = N / ((performance.now() - t0) / 1000);
const tasks1 = tasksCpuMs();
const usPer = (tid: number) => (tasks1.get(tid)! - (tasks0.get(tid) ?? 0)) * 1000 / N;
const mainUs = usPer(Deno.pid);
const otherUs = Math.max(...[...tasks1.keys()].filter((t) => t !== Deno.pid).map(usPer));
if (dp.getStats().flows !== N) throw new Error(`installed ${dp.getStats().flows} of ${N}`);

const traffic = Array.from({ length: 256 }, (_, i) => frame(i * 97));
const batch = newDumpBatch();
const t1 = performance.now();
const dump = dp.flowDumpCreate();
const t = dump.threadCreate();
let dumped = 0;
for (let n = t.next(batch); n > 0; n = t.next(batch)) {
  dumped += n;
  if ((dumped & 4095) < 50) p1.receive(traffic);
}
const dumpRate = dumped / ((performance.now() - t1) / 1000);
console.log(
  `dpif_install: ${(installs / 1000).toFixed(0)}k flow installs/s (batches of 64, PMD worker; ` +
    `CPU us per install: PMD ${otherUs.toFixed(2)}, main ${mainUs.toFixed(2)}); ` +
    `dump ${
      (dumpRate / 1e6).toFixed(2)
    }M flows/s of ${dumped} while traffic runs (hit ${dp.getStats().hit})`,
);
dp.destroy();

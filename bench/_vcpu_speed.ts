/**
 * How fast each CPU of the machine runs a fixed integer loop, per
 * CPU-millisecond of the calling thread (pinned to that CPU in turn with
 * sched_setaffinity through libc; --allow-ffi). On this VM a vCPU's speed
 * per CPU-second swings up to twofold from one second to the next (the
 * host's load, with no steal time reported to the guest), which moves any
 * "per CPU-second" figure by as much: a bench prints these beside its
 * figures so that a run on unequal or slowed vCPUs can be told apart.
 */
import { threadCpuMs } from "./_thread_cpu.ts";

const libc = Deno.dlopen("libc.so.6", {
  sched_getaffinity: { parameters: ["i32", "usize", "buffer"], result: "i32" },
  sched_setaffinity: { parameters: ["i32", "usize", "buffer"], result: "i32" },
});
const MASK_BYTES = 128;

/**
 * Loop iterations per CPU-microsecond of the calling thread, wherever it
 * runs, over about `ms` of CPU time.
 */
export function loopRate(ms: number): number {
  const t0 = threadCpuMs();
  let x = 1, n = 0, t = t0;
  while (t - t0 < ms) {
    for (let i = 0; i < 100_000; i++) x = (Math.imul(x, 1103515245) + 12345) | 0;
    n++;
    t = threadCpuMs();
  }
  if (x === 0.5) throw new Error("unreachable: keeps the loop from being optimised away");
  return (n * 100_000) / (t - t0) / 1000;
}

/** Per CPU this process may run on: loop iterations per CPU-microsecond. */
export function vcpuSpeeds(ms = 60): number[] {
  const saved = new Uint8Array(MASK_BYTES);
  if (libc.symbols.sched_getaffinity(0, BigInt(MASK_BYTES), saved) !== 0) {
    throw new Error("sched_getaffinity failed");
  }
  const out: number[] = [];
  try {
    for (let cpu = 0; cpu < MASK_BYTES * 8; cpu++) {
      if (!(saved[cpu >> 3] & (1 << (cpu & 7)))) continue;
      const one = new Uint8Array(MASK_BYTES);
      one[cpu >> 3] = 1 << (cpu & 7);
      if (libc.symbols.sched_setaffinity(0, BigInt(MASK_BYTES), one) !== 0) {
        throw new Error(`sched_setaffinity to cpu ${cpu} failed`);
      }
      out.push(loopRate(ms));
    }
  } finally {
    libc.symbols.sched_setaffinity(0, BigInt(MASK_BYTES), saved);
  }
  return out;
}

/**
 * The calling thread's CPU time (clock_gettime(CLOCK_THREAD_CPUTIME_ID)
 * through libc; --allow-ffi), for benches on a shared machine: a rate per
 * CPU-second is what the code does with a core of its own, which the
 * wall clock on a loaded box is not (it also counts time spent waiting
 * for a core).
 */
const CLOCK_THREAD_CPUTIME_ID = 3;
const libc = Deno.dlopen("libc.so.6", {
  clock_gettime: { parameters: ["i32", "buffer"], result: "i32" },
});
/**
 * The struct timespec, read as 32-bit halves: reading it as BigInt64
 * allocated two BigInts per call, and a timing loop that allocates can
 * meet a garbage collection inside the interval it times.
 */
const ts = new Uint8Array(16);
const ts32 = new Uint32Array(ts.buffer);
const msOf = () => (ts32[0] + ts32[1] * 2 ** 32) * 1e3 + (ts32[2] + ts32[3] * 2 ** 32) / 1e6;

/** This thread's CPU time so far, in milliseconds. */
export function threadCpuMs(): number {
  if (libc.symbols.clock_gettime(CLOCK_THREAD_CPUTIME_ID, ts) !== 0) {
    throw new Error("clock_gettime(CLOCK_THREAD_CPUTIME_ID) failed");
  }
  return msOf();
}

const CLOCK_PROCESS_CPUTIME_ID = 2;

/** The whole process's CPU time so far (every thread's), in milliseconds. */
export function processCpuMs(): number {
  if (libc.symbols.clock_gettime(CLOCK_PROCESS_CPUTIME_ID, ts) !== 0) {
    throw new Error("clock_gettime(CLOCK_PROCESS_CPUTIME_ID) failed");
  }
  return msOf();
}

/**
 * Every thread of this process and its CPU time so far in milliseconds
 * (utime + stime from /proc/self/task/TID/stat, --allow-read), keyed by
 * thread id: for what a worker thread (a PMD, a handler) spends, which
 * the calling thread's clock does not see.
 */
export function tasksCpuMs(): Map<number, number> {
  const tick = 1000 / 100; // USER_HZ, 100 on Linux
  const out = new Map<number, number>();
  for (const e of Deno.readDirSync("/proc/self/task")) {
    let stat: string;
    try {
      stat = Deno.readTextFileSync(`/proc/self/task/${e.name}/stat`);
    } catch {
      continue; // The thread ended meanwhile.
    }
    // Fields after the parenthesised command name; utime and stime are 14th and 15th.
    const f = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
    out.set(Number(e.name), (Number(f[11]) + Number(f[12])) * tick);
  }
  return out;
}

/** CPU ms each thread spent between two tasksCpuMs() readings, busiest first. */
export function tasksCpuDelta(before: Map<number, number>, after: Map<number, number>): number[] {
  return [...after].map(([tid, ms]) => ms - (before.get(tid) ?? 0)).filter((ms) => ms > 0)
    .sort((a, b) => b - a);
}

/** One thread's scheduler figures from /proc/self/task/TID/schedstat and comm. */
export interface TaskSched {
  /** The thread's name (comm): "deno", "worker-3", "V8 DefaultWorke", "tokio-runtime-w". */
  name: string;
  /** Nanoseconds on a CPU. */
  runNs: number;
  /** Nanoseconds runnable but waiting for a CPU (on a run queue). */
  waitNs: number;
}

/**
 * Every thread of this process with its time on a CPU and its time
 * waiting for one, in nanoseconds (the scheduler's own accounting, not
 * 10 ms ticks), keyed by thread id. Wall time minus both is time the
 * thread slept (a futex, an Atomics wait, epoll): with these three a
 * bench can tell a thread short of CPU from one waiting on another.
 */
export function tasksSched(): Map<number, TaskSched> {
  const out = new Map<number, TaskSched>();
  for (const e of Deno.readDirSync("/proc/self/task")) {
    try {
      const [run, wait] = Deno.readTextFileSync(`/proc/self/task/${e.name}/schedstat`).split(" ");
      const name = Deno.readTextFileSync(`/proc/self/task/${e.name}/comm`).trim();
      out.set(Number(e.name), { name, runNs: Number(run), waitNs: Number(wait) });
    } catch {
      continue; // The thread ended meanwhile.
    }
  }
  return out;
}

/** Thread ids present in `after` and not in `before`, in creation (id) order. */
export function newTasks(before: Iterable<number>, after: Iterable<number>): number[] {
  const had = new Set(before);
  return [...after].filter((t) => !had.has(t)).sort((a, b) => a - b);
}

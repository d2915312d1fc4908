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
const ts = new BigInt64Array(2);

/** This thread's CPU time so far, in milliseconds. */
export function threadCpuMs(): number {
  if (libc.symbols.clock_gettime(CLOCK_THREAD_CPUTIME_ID, ts) !== 0) {
    throw new Error("clock_gettime(CLOCK_THREAD_CPUTIME_ID) failed");
  }
  return Number(ts[0]) * 1e3 + Number(ts[1]) / 1e6;
}

const CLOCK_PROCESS_CPUTIME_ID = 2;

/** The whole process's CPU time so far (every thread's), in milliseconds. */
export function processCpuMs(): number {
  if (libc.symbols.clock_gettime(CLOCK_PROCESS_CPUTIME_ID, ts) !== 0) {
    throw new Error("clock_gettime(CLOCK_PROCESS_CPUTIME_ID) failed");
  }
  return Number(ts[0]) * 1e3 + Number(ts[1]) / 1e6;
}

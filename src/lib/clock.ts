/**
 * The one clock: every timeout, idle check and rate in udpif reads it.
 *
 * Like OVS's timeval module, the monotonic clock can be stopped
 * (`time/stop`) and pushed forward (`time/warp MS`): a stopped clock only
 * advances by warps, which makes idle expiry and flow-limit behaviour
 * reproducible in tests without sleeping. Warps also apply to a running
 * clock. The wall clock (log timestamps) is never stopped or warped.
 *
 * The state lives in a SharedArrayBuffer so that every Web Worker reads
 * the same time: the main thread creates it, hands `clockBuffer()` to each
 * worker, and the worker calls `attachClock(sab)` before anything else.
 * Readers never allocate; a writer publishes under a sequence word
 * (odd while writing) and readers retry on a torn read.
 *
 * Thread-safety: only the thread that owns the control socket (the main
 * thread) stops or warps the clock; any thread reads it and may sleep on
 * `clockWaitWord()`, which is notified at every stop and warp.
 */

/** Int32 word indices. */
const SEQ = 0;
const CHANGES = 1;
const STOPPED = 2;
/** How many warps so far. */
const WARPS = 3;
/** Float64 slot indices (byte offset 16 onwards). */
const F_STOPPED_AT = 2;
const F_WARP = 3;
const BYTES = 32;

let sab = new SharedArrayBuffer(BYTES);
let words = new Int32Array(sab);
let floats = new Float64Array(sab);

/**
 * This thread's time origin, read once: the getter is a call into the
 * runtime (~0.7 us hot, several cold), and the PMD reads the clock every
 * round.
 */
const TIME_ORIGIN = performance.timeOrigin;

function realMsec(): number {
  return TIME_ORIGIN + performance.now();
}

/** The buffer to pass to workers (in their start message). */
export function clockBuffer(): SharedArrayBuffer {
  return sab;
}

/** Makes this thread read the clock held in `buffer` (from `clockBuffer()`). */
export function attachClock(buffer: SharedArrayBuffer): void {
  if (buffer.byteLength !== BYTES) {
    throw new RangeError(`clock buffer must be ${BYTES} bytes, got ${buffer.byteLength}`);
  }
  sab = buffer;
  words = new Int32Array(sab);
  floats = new Float64Array(sab);
}

/** Monotonic time in milliseconds (integer), as OVS's `time_msec()`. */
export function timeMsec(): number {
  return timeMsecAt(performance.now());
}

/**
 * `timeMsec()` at the moment `performance.now()` returned `perfNow`: for
 * a caller that read that clock anyway (a PMD's round start), saving a
 * second read, which costs 0.2-0.4 us in Deno.
 */
export function timeMsecAt(perfNow: number): number {
  for (;;) {
    const seq = Atomics.load(words, SEQ);
    if (seq & 1) continue;
    const base = Atomics.load(words, STOPPED) ? floats[F_STOPPED_AT] : TIME_ORIGIN + perfNow;
    const warp = floats[F_WARP];
    if (Atomics.load(words, SEQ) === seq) return Math.floor(base + warp);
  }
}

/** Wall-clock time in milliseconds since the epoch; unaffected by stop and warp. */
export function timeWallMsec(): number {
  return Date.now();
}

/** True once `clockStop()` has been called. */
export function clockIsStopped(): boolean {
  return Atomics.load(words, STOPPED) !== 0;
}

function publish(write: () => void): void {
  Atomics.add(words, SEQ, 1);
  write();
  Atomics.add(words, SEQ, 1);
  Atomics.add(words, CHANGES, 1);
  Atomics.notify(words, CHANGES);
}

/**
 * Stops the monotonic clock at the current time; from now on it only moves
 * by `clockWarp`. Stopping a stopped clock re-reads the real time, as OVS
 * does, so time may jump forward.
 */
export function clockStop(): void {
  publish(() => {
    floats[F_STOPPED_AT] = realMsec();
    Atomics.store(words, STOPPED, 1);
  });
}

/** Advances the monotonic clock by `ms` milliseconds and wakes all waiters. */
export function clockWarp(ms: number): void {
  if (!Number.isFinite(ms) || ms < 0) throw new RangeError(`invalid warp ${ms}`);
  publish(() => {
    floats[F_WARP] += ms;
    Atomics.add(words, WARPS, 1);
  });
}

/**
 * How many warps there have been: each one wakes the threads that sleep
 * between rounds (OVS's timewarp_seq, which every poll loop waits on).
 */
export function clockWarps(): number {
  return Atomics.load(words, WARPS);
}

/**
 * The word that changes (and is `Atomics.notify`d) at every stop and warp:
 * a waiter reads it with `Atomics.load(array, index)`, then waits on it
 * with `Atomics.wait` (workers) or `Atomics.waitAsync` (main thread).
 */
export function clockWaitWord(): { array: Int32Array; index: number } {
  return { array: words, index: CHANGES };
}

/**
 * Blocks the calling worker until the clock reads at least `deadline`, or
 * `maxRealMs` of real time have passed, whichever is first. Returns the
 * time then. Not for the main thread (Atomics.wait is refused there).
 */
export function clockBlockUntil(deadline: number, maxRealMs: number): number {
  const giveUp = realMsec() + maxRealMs;
  for (;;) {
    const changes = Atomics.load(words, CHANGES);
    const now = timeMsec();
    if (now >= deadline) return now;
    const real = realMsec();
    if (real >= giveUp) return now;
    const wait = clockIsStopped() ? giveUp - real : Math.min(deadline - now, giveUp - real);
    Atomics.wait(words, CHANGES, changes, Math.max(1, wait));
  }
}

/**
 * Resolves once the clock reads at least `deadline`; on a stopped clock,
 * that is when warps have pushed it there. Safe on the main thread.
 * `signal` abandons the wait (the promise then resolves early).
 */
export async function clockSleepUntil(deadline: number, signal?: AbortSignal): Promise<number> {
  for (;;) {
    const changes = Atomics.load(words, CHANGES);
    const now = timeMsec();
    if (now >= deadline || signal?.aborted) return now;
    const timeout = clockIsStopped() ? undefined : Math.max(1, deadline - now);
    const waiter = Atomics.waitAsync(words, CHANGES, changes, timeout);
    if (waiter.async) {
      let onAbort: (() => void) | undefined;
      const aborted = new Promise<void>((resolve) => {
        onAbort = resolve;
        signal?.addEventListener("abort", onAbort, { once: true });
      });
      await Promise.race([waiter.value, aborted]);
      if (onAbort) signal?.removeEventListener("abort", onAbort);
      if (signal?.aborted) {
        // Wake our own pending waitAsync so it does not keep the event loop alive.
        Atomics.notify(words, CHANGES);
      }
    }
  }
}

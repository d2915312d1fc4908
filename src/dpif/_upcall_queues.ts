/**
 * The receiving side of a datapath's upcall queues, as the dpif's
 * `recv_set`, `handlers_set`, `recv` and `recv_wait` are in OVS: handler
 * h takes upcalls from queue h only (_shared.ts: one producer, the
 * active PMD of rank h % active PMDs; one consumer, handler h).
 *
 * Thread-safety: each thread that opens the datapath has its own; queue
 * h is read by one thread at a time, the handler that owns it (the main
 * thread releases a dead handler's queue before its successor opens it).
 */
import { RingConsumer, ringReleaseTo } from "../lib/mod.ts";
import { C_N_HANDLERS, C_RECV_ENABLED, type DatapathShared, MAX_HANDLERS } from "./_shared.ts";
import type { DpifUpcall } from "./upcall.ts";

export class UpcallQueues {
  private readonly queues: RingConsumer[];

  /**
   * `runInProcess` runs the in-process PMDs (tests, tools) before a
   * queue is read, and is a no-op when the PMDs are workers.
   */
  constructor(private readonly shared: DatapathShared, private readonly runInProcess: () => void) {
    this.queues = shared.upcall.map((v) => new RingConsumer(v));
  }

  setEnabled(enable: boolean): void {
    Atomics.store(this.shared.ctl, C_RECV_ENABLED, enable ? 1 : 0);
  }

  /**
   * Sets the handler count; each PMD needs one of its own (upcall queue h
   * is fed by PMD h % nPmds), so there are at least as many as PMDs.
   */
  setHandlers(n: number): void {
    if (n < 1 || n > MAX_HANDLERS) throw new RangeError(`n-handlers must be 1..${MAX_HANDLERS}`);
    const nActive = this.shared.activePmds().length;
    if (n < nActive) {
      throw new RangeError(`n-handlers must be at least ${nActive} (one per PMD)`);
    }
    Atomics.store(this.shared.ctl, C_N_HANDLERS, n);
  }

  /**
   * Takes handler `h`'s next upcall into `out`; false when its queue is
   * empty. With `hold`, the upcall stays in the queue (and is read again
   * by whoever opens the queue next) until `release(h)`: a handler
   * releases a batch once it is done with it, so that a handler that
   * dies mid-batch loses none of it.
   */
  take(h: number, out: DpifUpcall, hold: boolean): boolean {
    const q = this.queues[h];
    this.runInProcess();
    const at = q.next();
    if (at < 0) return false;
    out.fill(q.view.u32, q.view.u8, at);
    if (!hold) q.release();
    return true;
  }

  /** The queue position after the upcalls handler `h` took so far. */
  position(h: number): number {
    return this.queues[h].position;
  }

  /** Releases the upcalls handler `h` took and held. */
  release(h: number): void {
    this.queues[h].release();
  }

  /**
   * Releases handler `h`'s queue up to `pos` for a dead handler whose
   * batch was done (main thread, before its successor opens the queue).
   */
  releaseTo(h: number, pos: number): void {
    ringReleaseTo(this.shared.upcall[h], pos);
  }

  /** Blocks until handler `h` has an upcall or `timeoutMs` passes. */
  wait(h: number, timeoutMs: number): boolean {
    return this.queues[h].wait(timeoutMs);
  }

  /** The word to Atomics.waitAsync on for handler `h` (main-thread handlers). */
  waitWord(h: number): { array: Int32Array; index: number; value: number } {
    return this.queues[h].waitWord();
  }

  /** Ends handler `h`'s async wait on waitWord(): publishes stop notifying. */
  waitDone(h: number): void {
    this.queues[h].waitDone();
  }
}

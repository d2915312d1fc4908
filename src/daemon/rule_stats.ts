/**
 * Rule statistics on their way from the workers to the master tables.
 *
 * Handlers and revalidators credit packets and bytes to the OpenFlow
 * rules a flow went through (xlate_push_stats), but the rules' counters
 * live on the main thread. Workers append `(ruleId, packets, bytes,
 * used)` records to this queue in shared memory; the main thread drains
 * it into `OfTables.creditStats` before it shows or expires rules. One
 * queue serves every bridge of a datapath backer (a translation through
 * a patch port credits rules of two bridges), so each record also names
 * its bridge (the bridge's id in the backer).
 *
 * Layout (one SharedArrayBuffer): Int32 words [lock, head, tail,
 * dropped], then `capacity` records of five Float64s
 * (rule id, packets, bytes, used, bridge id). Producers take the
 * spin lock for the few stores of one record; a full queue drops the
 * record and counts it in `dropped` rather than blocking a handler.
 *
 * Transactions (the upcall layer's stats transactions, for credits pushed
 * exactly once when a worker dies): after `begin()`, `push` stages records
 * in this thread's memory; `commit(committing)` writes them all under the
 * lock, calls `committing(token)` (the commit point: the writer's journal
 * records it), then publishes them with one store of the head. If the
 * writer dies holding the lock, `completeCommitOf(owner, token)` from the
 * main thread publishes a commit that reached its commit point; records
 * written past the head without one are never seen. A transaction that
 * does not fit is dropped whole (and counted in `dropped`).
 *
 * Thread-safety: any number of producers (workers, the main thread), one
 * consumer (the main thread).
 */

import { releaseIfHeldBy, spinLock, spinUnlock } from "../lib/mod.ts";

const LOCK = 0, HEAD = 1, TAIL = 2, DROPPED = 3;
const HEADER_BYTES = 16;
const RECORD = 5;

export class RuleStatsQueue {
  readonly buffer: SharedArrayBuffer;
  readonly #h: Int32Array;
  readonly #r: Float64Array;
  readonly #capacity: number;
  /** Records staged by this thread's open transaction, or null without one. */
  #staged: number[] | null = null;

  private constructor(buffer: SharedArrayBuffer) {
    this.buffer = buffer;
    this.#h = new Int32Array(buffer, 0, HEADER_BYTES / 4);
    this.#capacity = (buffer.byteLength - HEADER_BYTES) / (RECORD * 8);
    this.#r = new Float64Array(buffer, HEADER_BYTES, this.#capacity * RECORD);
  }

  static create(capacity = 65536): RuleStatsQueue {
    return new RuleStatsQueue(new SharedArrayBuffer(HEADER_BYTES + capacity * RECORD * 8));
  }

  /** Another thread's handle on a queue made by `create`. */
  static attach(buffer: SharedArrayBuffer): RuleStatsQueue {
    return new RuleStatsQueue(buffer);
  }

  /** Records lost because the queue was full. */
  get dropped(): number {
    return Atomics.load(this.#h, DROPPED);
  }

  #lock(): void {
    // Held for four stores by another producer, or one drain: spin.
    spinLock(this.#h, LOCK);
  }

  #unlock(): void {
    spinUnlock(this.#h, LOCK);
  }

  /** Releases the queue's lock if `owner`, a dead worker, holds it. */
  releaseLockOf(owner: number): boolean {
    return releaseIfHeldBy(this.#h, LOCK, owner);
  }

  /** Queues a credit of `packets`/`bytes` used at `usedMs` to rule `ruleId` of bridge `bridge`. */
  push(ruleId: number, packets: number, bytes: number, usedMs: number, bridge = 0): void {
    if (this.#staged !== null) {
      this.#staged.push(ruleId, packets, bytes, usedMs, bridge);
      return;
    }
    this.#lock();
    const head = this.#h[HEAD], tail = this.#h[TAIL];
    if (head - tail >= this.#capacity) {
      this.#h[DROPPED]++;
    } else {
      const at = (head % this.#capacity) * RECORD;
      this.#r[at] = ruleId;
      this.#r[at + 1] = packets;
      this.#r[at + 2] = bytes;
      this.#r[at + 3] = usedMs;
      this.#r[at + 4] = bridge;
      this.#h[HEAD] = head + 1;
    }
    this.#unlock();
  }

  /** Starts a transaction: pushes are staged until `commit`. */
  begin(): void {
    this.#staged ??= [];
    this.#staged.length = 0;
  }

  /** Publishes the staged records at once; `committing(token)` marks the commit point. */
  commit(committing: (token: number) => void): void {
    const staged = this.#staged ?? [];
    this.#staged = null;
    this.#lock();
    const head = this.#h[HEAD], tail = this.#h[TAIL];
    const n = staged.length / RECORD;
    let end = head;
    if (head - tail + n > this.#capacity) {
      this.#h[DROPPED] += n;
    } else {
      for (let i = 0; i < n; i++) {
        const at = ((head + i) % this.#capacity) * RECORD;
        for (let k = 0; k < RECORD; k++) this.#r[at + k] = staged[i * RECORD + k];
      }
      end = head + n;
    }
    committing(end);
    Atomics.store(this.#h, HEAD, end);
    this.#unlock();
  }

  /**
   * Main thread, for a writer `owner` that died: if it died holding the
   * lock after its commit point (`token`), publishes that commit; then the
   * lock is free. Returns whether it held the lock.
   */
  completeCommitOf(owner: number, token: number): boolean {
    if (Atomics.load(this.#h, LOCK) !== owner) return false;
    Atomics.store(this.#h, HEAD, token);
    return this.releaseLockOf(owner);
  }

  /** Hands every queued record to `credit`, oldest first; returns how many. */
  drain(
    credit: (
      ruleId: number,
      packets: number,
      bytes: number,
      usedMs: number,
      bridge: number,
    ) => void,
  ): number {
    this.#lock();
    const head = this.#h[HEAD];
    let tail = this.#h[TAIL];
    const records: number[] = [];
    for (; tail < head; tail++) {
      const at = (tail % this.#capacity) * RECORD;
      for (let k = 0; k < RECORD; k++) records.push(this.#r[at + k]);
    }
    // Rebase so the indices never grow past Int32.
    this.#h[HEAD] = 0;
    this.#h[TAIL] = 0;
    this.#unlock();
    for (let i = 0; i < records.length; i += RECORD) {
      credit(records[i], records[i + 1], records[i + 2], records[i + 3], records[i + 4]);
    }
    return records.length / RECORD;
  }
}

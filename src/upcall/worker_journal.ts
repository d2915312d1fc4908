/**
 * A seat's journal: what a handler or revalidator is in the middle of,
 * written to shared memory before it does it, so that when the worker
 * dies the main thread can finish or forget it, and no rule statistic is
 * lost or credited twice (udpif's addition; OVS's threads cannot die
 * alone).
 *
 * The unit is a stats transaction (UdpifXlate.beginStats/commitStats):
 * a handler's batch, one ukey's push in a revalidator, or a revalidator's
 * batch of deleted flows. Its steps and commit point:
 *
 *     1. journal: PREPARED, with what the transaction will change
 *        (the ukey and its new stats baseline; for a handler, the ukeys
 *        its batch installs and the upcall queue position after it);
 *     2. credits staged (translate/pushStats) - private to the thread;
 *     3. commitStats: credits written to the queue, and while its lock
 *        is held, journal: COMMITTED with the queue's token - the
 *        commit point; then the credits become visible;
 *     4. the effects the journal names: the ukey's baseline (setStats),
 *        the upcall queue released, the batch's flows installed;
 *     5. journal: IDLE.
 *
 * Recovery after a worker dies is in worker_recovery.ts.
 *
 * Thread-safety: a journal is written by its seat's worker only, and read
 * and reset by the main thread once that worker is fenced.
 */
import { FLOW_WORDS, type FlowKey } from "../flow/mod.ts";
import type { UdpifOp, UdpifXlate } from "./ports.ts";

/**
 * Where an injected throw lands: in a stats transaction, before or after
 * its commit point; or in a revalidator's batch, right after the
 * datapath answered its deletes.
 */
export type CommitFaultPoint = "before-commit" | "after-commit" | "after-delete";

export const JOURNAL_IDLE = 0;
export const JOURNAL_PREPARED = 1;
export const JOURNAL_COMMITTED = 2;

const STATE = 0, TOKEN = 1, UPCALL_TAIL = 2, SLOT = 3, GEN = 4, FLAGS = 5, N_SLOTS = 6;
const MISSES = 7;
/** An armed fault (fault injection): throw at the next commit point, before or after it. */
const FAULT = 8;
const FAULT_BEFORE = 1, FAULT_AFTER = 2, FAULT_AFTER_DELETE = 3;
/** The batch of deletes: how many, and DELETES_IN_FLIGHT or DELETES_ANSWERED. */
const N_DELETES = 9, DELETES = 10;
const DELETES_IN_FLIGHT = 1, DELETES_ANSWERED = 2;
/** Ukeys a handler batch may install (UPCALL_MAX_BATCH). */
const MAX_SLOTS = 64;
/** Deletes a revalidator batch may hold (REVALIDATE_MAX_BATCH, checked in worker_journal_test). */
export const JOURNAL_MAX_DELETES = 50;
const SLOTS = 12, GENS = SLOTS + MAX_SLOTS;
const F_BASE = (GENS + MAX_SLOTS) / 2;
const F_PACKETS = F_BASE, F_BYTES = F_BASE + 1, F_USED = F_BASE + 2;
/** Per delete: ukey slot (-1: none) and generation; final packets, bytes, used, TCP flags; key. */
const DEL_SLOTS = (F_BASE + 3) * 2, DEL_GENS = DEL_SLOTS + JOURNAL_MAX_DELETES;
const DEL_F = (DEL_GENS + JOURNAL_MAX_DELETES) / 2;
const DEL_KEYS = (DEL_F + 4 * JOURNAL_MAX_DELETES) * 2;
export const JOURNAL_BYTES = (DEL_KEYS + JOURNAL_MAX_DELETES * FLOW_WORDS) * 4;

export class SeatJournal {
  readonly #w: Int32Array;
  readonly #f: Float64Array;

  constructor(buffer: SharedArrayBuffer, byteOffset: number) {
    this.#w = new Int32Array(buffer, byteOffset, JOURNAL_BYTES / 4);
    this.#f = new Float64Array(buffer, byteOffset, JOURNAL_BYTES / 8);
  }

  get state(): number {
    return Atomics.load(this.#w, STATE);
  }

  /** Step 1 of a handler batch: nothing installed yet. */
  prepareBatch(): void {
    this.#w[SLOT] = -1;
    this.#w[N_SLOTS] = 0;
    this.#w[MISSES] = 0;
    Atomics.store(this.#w, STATE, JOURNAL_PREPARED);
  }

  /** A ukey the batch made VISIBLE (generation `gen`). */
  addInstalled(slot: number, gen: number): void {
    const n = this.#w[N_SLOTS];
    if (n >= MAX_SLOTS) return;
    this.#w[SLOTS + n] = slot;
    this.#w[GENS + n] = gen;
    this.#w[N_SLOTS] = n + 1;
  }

  /** What the batch's commit releases: its queue position and miss count. */
  setBatchEnd(upcallTail: number, misses: number): void {
    this.#w[UPCALL_TAIL] = upcallTail;
    this.#w[MISSES] = misses;
  }

  /** Step 1 of a ukey's push: its new baseline (slot -1: no ukey, e.g. deleted flows). */
  prepareUkey(
    slot: number,
    gen: number,
    packets: number,
    bytes: number,
    used: number,
    flags: number,
  ) {
    this.#w[SLOT] = slot;
    this.#w[GEN] = gen;
    this.#w[FLAGS] = flags;
    this.#w[N_SLOTS] = 0;
    this.#f[F_PACKETS] = packets;
    this.#f[F_BYTES] = bytes;
    this.#f[F_USED] = used;
    Atomics.store(this.#w, STATE, JOURNAL_PREPARED);
  }

  /**
   * A revalidator's deletes (ops of type "del"; `slot`/`gen` their ukeys)
   * as the datapath is about to get them (`answered` false: keys only),
   * or as it answered them (their final stats). An armed after-delete
   * fault throws once they are answered.
   */
  recordDeletes(
    ops: readonly UdpifOp[],
    slot: Int32Array,
    gen: Int32Array,
    n: number,
    answered: boolean,
  ): void {
    let d = 0;
    for (let i = 0; i < n && d < JOURNAL_MAX_DELETES; i++) {
      const op = ops[i];
      if (op.type !== "del") continue;
      this.#w[DEL_SLOTS + d] = slot[i];
      this.#w[DEL_GENS + d] = gen[i];
      const f = DEL_F + 4 * d;
      const ok = answered && op.error === 0;
      this.#f[f] = ok ? op.stats.packets : 0;
      this.#f[f + 1] = ok ? op.stats.bytes : 0;
      this.#f[f + 2] = ok ? op.stats.used : 0;
      this.#f[f + 3] = ok ? op.stats.tcpFlags : 0;
      this.#w.set(op.key, DEL_KEYS + d * FLOW_WORDS);
      d++;
    }
    this.#w[N_DELETES] = d;
    this.#w[DELETES] = answered ? DELETES_ANSWERED : DELETES_IN_FLIGHT;
    Atomics.store(this.#w, STATE, JOURNAL_PREPARED);
    if (
      answered &&
      Atomics.compareExchange(this.#w, FAULT, FAULT_AFTER_DELETE, 0) === FAULT_AFTER_DELETE
    ) {
      throw new Error("fault injection: throws after the datapath deleted its batch");
    }
  }

  get nDeletes(): number {
    return this.#w[N_DELETES];
  }
  get deletesAnswered(): boolean {
    return this.#w[DELETES] === DELETES_ANSWERED;
  }
  /** Delete `i`'s ukey slot, generation and final stats (zero when unanswered or failed). */
  deleted(
    i: number,
  ): { slot: number; gen: number; packets: number; bytes: number; used: number; flags: number } {
    const f = DEL_F + 4 * i;
    return {
      slot: this.#w[DEL_SLOTS + i],
      gen: this.#w[DEL_GENS + i],
      packets: this.#f[f],
      bytes: this.#f[f + 1],
      used: this.#f[f + 2],
      flags: this.#f[f + 3],
    };
  }
  /** Delete `i`'s flow key, copied into `key`. */
  deletedKey(i: number, key: FlowKey): void {
    key.set(this.#w.subarray(DEL_KEYS + i * FLOW_WORDS, DEL_KEYS + (i + 1) * FLOW_WORDS));
  }

  /**
   * Step 3, the commit point (called under the stats queue's lock). An
   * armed fault throws here, just before or just after it, with the
   * lock held: the harshest place a worker can die.
   */
  committing(token: number): void {
    const fault = Atomics.load(this.#w, FAULT);
    if (fault === FAULT_BEFORE || fault === FAULT_AFTER) Atomics.store(this.#w, FAULT, 0);
    if (fault === FAULT_BEFORE) throw new Error("fault injection: throws before its commit point");
    this.#w[TOKEN] = token;
    Atomics.store(this.#w, STATE, JOURNAL_COMMITTED);
    if (fault === FAULT_AFTER) throw new Error("fault injection: throws after its commit point");
  }

  /** Arms a fault at the seat's next commit point (main thread; fault/kill-worker). */
  armFault(point: CommitFaultPoint): void {
    const fault = point === "before-commit"
      ? FAULT_BEFORE
      : point === "after-commit"
      ? FAULT_AFTER
      : FAULT_AFTER_DELETE;
    Atomics.store(this.#w, FAULT, fault);
  }

  /** Step 5. */
  done(): void {
    this.#w[N_DELETES] = 0;
    Atomics.store(this.#w, STATE, JOURNAL_IDLE);
  }

  get token(): number {
    return this.#w[TOKEN];
  }
  get upcallTail(): number {
    return this.#w[UPCALL_TAIL];
  }
  get misses(): number {
    return this.#w[MISSES];
  }
  get slot(): number {
    return this.#w[SLOT];
  }
  get gen(): number {
    return this.#w[GEN];
  }
  get flags(): number {
    return this.#w[FLAGS];
  }
  get packets(): number {
    return this.#f[F_PACKETS];
  }
  get bytes(): number {
    return this.#f[F_BYTES];
  }
  get used(): number {
    return this.#f[F_USED];
  }
  installed(): { slot: number; gen: number }[] {
    return Array.from(
      { length: this.#w[N_SLOTS] },
      (_, i) => ({ slot: this.#w[SLOTS + i], gen: this.#w[GENS + i] }),
    );
  }
}

/**
 * Step 3: commits the thread's staged credits, marking the journal at
 * the commit point. With a translation that has no stats transactions,
 * the credits were published as made: the journal is marked at once.
 */
export function commitStats(xlate: UdpifXlate, journal: SeatJournal | undefined): void {
  if (xlate.commitStats) {
    xlate.commitStats((token) => journal?.committing(token));
  } else journal?.committing(0);
}

/** Step 2's start (a no-op for a translation without transactions). */
export function beginStats(xlate: UdpifXlate): void {
  xlate.beginStats?.();
}

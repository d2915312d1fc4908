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
 * Recovery (`settleJournal`, main thread, the dead worker fenced):
 * PREPARED means nothing was published: the staged credits are gone and
 * the baseline untouched, so the next revalidation computes the same
 * delta again, and a handler's batch is read again from its queue (it was
 * never released): stats counted once. COMMITTED means the credits are
 * (or, with the queue's lock still held, are made) visible, and the
 * journal's effects are redone: baseline set to the journal's values (the
 * dead worker held the ukey's lock, so nobody moved it), the upcall queue
 * released past the batch: again counted once. Either way a handler's
 * ukeys still VISIBLE become OPERATIONAL if their flow is in the
 * datapath, else EVICTED, so that the next upcall installs the flow.
 *
 * A revalidator's batch of deletes adds a record of its own: before the
 * ops go to the datapath, their flows (ukey slot and generation, key) as
 * IN FLIGHT; once the datapath has answered, the final stats each delete
 * returned, as ANSWERED, and only then the credit transaction starts.
 * A revalidator found dead with ANSWERED deletes and an uncommitted
 * transaction has them credited by `settleDeletes` (delta over the ukey's
 * baseline, which the dead worker never moved, pushed through a
 * translation of the key, as the worker does for a flow without a cache)
 * and their ukeys EVICTED. Deletes still IN FLIGHT (the worker died
 * inside the datapath call itself: a throw from dpif.operate) lost their
 * answers: their ukeys are EVICTED, and the loss is counted
 * (revalidator_deletes_lost) and logged, never silent.
 *
 * Thread-safety: a journal is written by its seat's worker only, and read
 * and reset by the main thread once that worker is fenced.
 */
import { FLOW_WORDS, type FlowKey } from "../flow/mod.ts";
import { coverageCounter, getLogger } from "../lib/mod.ts";
import type { UdpifContext } from "./handler.ts";
import type { UdpifOp, UdpifXlate } from "./ports.ts";
import { pushStatsByTranslation } from "./_safe_xlate.ts";
import { UKEY_EVICTED, UKEY_EVICTING, UKEY_OPERATIONAL, UKEY_VISIBLE } from "./ukey_table.ts";
import type { WorkerRole } from "./worker_seats.ts";

const covDeletesSettled = coverageCounter("revalidator_deletes_settled");
const covDeletesLost = coverageCounter("revalidator_deletes_lost");
const log = getLogger("ofproto_dpif_upcall");

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

/** What settling a journal did, for the log. */
export type JournalOutcome = "idle" | "rolled back" | "rolled forward";

/**
 * Finishes or forgets what a dead worker (`owner`, fenced) in seat
 * `role` `index` was in the middle of; main thread, before the dead
 * worker's locks are released (its stats queue lock and ukey lock say
 * how far it got); a handler's ukeys are settled after
 * (`settleInstalled`). `ctx` is the main thread's.
 */
export function settleJournal(
  journal: SeatJournal,
  role: WorkerRole,
  index: number,
  owner: number,
  ctx: UdpifContext,
  releaseUpcalls: (handler: number, pos: number) => void,
): JournalOutcome {
  const state = journal.state;
  if (state === JOURNAL_IDLE) return "idle";
  const { ukeys, xlate, shared } = ctx;
  if (state === JOURNAL_COMMITTED) {
    xlate.completeStatsCommit?.(owner, journal.token);
    if (role === "handler") {
      releaseUpcalls(index, journal.upcallTail);
      shared.addHandled(journal.misses);
    } else if (journal.slot >= 0 && ukeys.gen(journal.slot) === journal.gen) {
      ukeys.setStats(journal.slot, journal.packets, journal.bytes, journal.used, journal.flags);
    }
  }
  // A revalidator's uncommitted deletes are credited by settleDeletes, once locks are released.
  if (role !== "handler" && (state === JOURNAL_COMMITTED || journal.nDeletes === 0)) journal.done();
  return state === JOURNAL_COMMITTED ? "rolled forward" : "rolled back";
}

/**
 * A dead handler's VISIBLE ukeys: OPERATIONAL if their flow is in the
 * datapath, else EVICTED; then the journal is IDLE. After the dead
 * worker's locks were released (these ukeys' locks are taken here).
 */
export function settleInstalled(journal: SeatJournal, ctx: UdpifContext): void {
  const { ukeys, dpif } = ctx;
  const ufid = new Uint32Array(4);
  const flow = dpif.newDumpedFlow();
  for (const { slot, gen } of journal.installed()) {
    ukeys.lock(slot);
    if (ukeys.gen(slot) === gen && ukeys.state(slot) === UKEY_VISIBLE) {
      ukeys.ufid(slot, ufid);
      const exists = dpif.flowGet(ufid, flow);
      ukeys.transition(slot, exists ? UKEY_OPERATIONAL : UKEY_EVICTED);
    }
    ukeys.unlock(slot);
  }
  journal.done();
}

/**
 * A dead revalidator's batch of deletes whose credits never committed:
 * each answered delete's final stats are credited (the delta over its
 * ukey's baseline, or all of them for a flow without a current ukey)
 * through a translation of its key, in one transaction of `ctx`'s
 * translation; unanswered ones are counted lost and logged. Their ukeys
 * become EVICTED (the sweep frees them). After the dead worker's locks
 * were released; then the journal is IDLE.
 */
export function settleDeletes(journal: SeatJournal, index: number, ctx: UdpifContext): void {
  const n = journal.nDeletes;
  if (n === 0) return;
  const { ukeys, xlate } = ctx;
  const answered = journal.deletesAnswered;
  const key = new Uint32Array(FLOW_WORDS);
  beginStats(xlate);
  for (let i = 0; i < n; i++) {
    const d = journal.deleted(i);
    let { packets, bytes, used, flags } = d;
    if (d.slot >= 0) {
      ukeys.lock(d.slot);
      if (ukeys.gen(d.slot) === d.gen) {
        if (ukeys.state(d.slot) === UKEY_EVICTING) ukeys.transition(d.slot, UKEY_EVICTED);
        packets -= ukeys.packets(d.slot);
        bytes -= ukeys.bytes(d.slot);
        used = Math.max(used, ukeys.used(d.slot));
        flags |= ukeys.tcpFlags(d.slot);
      }
      ukeys.unlock(d.slot);
    }
    if (!answered || packets <= 0) continue;
    journal.deletedKey(i, key);
    pushStatsByTranslation(xlate, key, packets, bytes, used, flags);
  }
  commitStats(xlate, undefined);
  if (answered) covDeletesSettled.add(n);
  else {
    covDeletesLost.add(n);
    log.warn(
      `revalidator ${index} died inside the datapath call deleting ${n} flows: ` +
        `their packets since their last dump are not credited to their rules`,
    );
  }
  journal.done();
}

/**
 * Everything a dead worker (`owner`, fenced, or the worker itself in its
 * last act after a throw) leaves behind: its journal settled, then every
 * lock it held released, then a handler's installs settled.
 */
export function settleDeadWorker(
  journal: SeatJournal,
  role: WorkerRole,
  index: number,
  owner: number,
  env: {
    ctx: UdpifContext;
    dp: { recvReleaseTo(handler: number, pos: number): void };
    releaseXlateLocks: (owner: number) => void;
  },
): JournalOutcome {
  const { ctx, dp } = env;
  const outcome = settleJournal(
    journal,
    role,
    index,
    owner,
    ctx,
    (h, pos) => dp.recvReleaseTo(h, pos),
  );
  ctx.ukeys.releaseLocksOf(owner);
  ctx.shared.releaseLocksOf(owner);
  env.releaseXlateLocks(owner);
  if (role === "handler") settleInstalled(journal, ctx);
  else settleDeletes(journal, index, ctx);
  return outcome;
}

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
 * Not covered: a revalidator that dies after the datapath deleted a
 * batch's flows and before it committed their final deltas (the packets
 * those flows took since their last dump) loses those deltas.
 *
 * Thread-safety: a journal is written by its seat's worker only, and read
 * and reset by the main thread once that worker is fenced.
 */
import type { UdpifContext } from "./handler.ts";
import type { UdpifXlate } from "./ports.ts";
import { UKEY_EVICTED, UKEY_OPERATIONAL, UKEY_VISIBLE } from "./ukey_table.ts";
import type { WorkerRole } from "./worker_seats.ts";

/** Where an injected throw lands in a stats transaction. */
export type CommitFaultPoint = "before-commit" | "after-commit";

export const JOURNAL_IDLE = 0;
export const JOURNAL_PREPARED = 1;
export const JOURNAL_COMMITTED = 2;

const STATE = 0, TOKEN = 1, UPCALL_TAIL = 2, SLOT = 3, GEN = 4, FLAGS = 5, N_SLOTS = 6;
const MISSES = 7;
/** An armed fault (fault injection): throw at the next commit point, before or after it. */
const FAULT = 8;
const FAULT_BEFORE = 1, FAULT_AFTER = 2;
/** Ukeys a handler batch may install (UPCALL_MAX_BATCH). */
const MAX_SLOTS = 64;
const SLOTS = 10, GENS = SLOTS + MAX_SLOTS;
const F_BASE = (GENS + MAX_SLOTS) / 2;
const F_PACKETS = F_BASE, F_BYTES = F_BASE + 1, F_USED = F_BASE + 2;
export const JOURNAL_BYTES = (F_BASE + 3) * 8;

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
   * Step 3, the commit point (called under the stats queue's lock). An
   * armed fault throws here, just before or just after it, with the
   * lock held: the harshest place a worker can die.
   */
  committing(token: number): void {
    const fault = Atomics.exchange(this.#w, FAULT, 0);
    if (fault === FAULT_BEFORE) throw new Error("fault injection: throws before its commit point");
    this.#w[TOKEN] = token;
    Atomics.store(this.#w, STATE, JOURNAL_COMMITTED);
    if (fault === FAULT_AFTER) throw new Error("fault injection: throws after its commit point");
  }

  /** Arms a fault at the seat's next commit point (main thread; fault/kill-worker). */
  armFault(point: CommitFaultPoint): void {
    Atomics.store(this.#w, FAULT, point === "before-commit" ? FAULT_BEFORE : FAULT_AFTER);
  }

  /** Step 5. */
  done(): void {
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
  if (role !== "handler") journal.done();
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
  return outcome;
}

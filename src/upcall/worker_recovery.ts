/**
 * Recovery from a dead worker's journal (worker_journal.ts): what the
 * main thread does, with the dead worker fenced, so that no rule
 * statistic is lost or credited twice.
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
 * Thread-safety: main thread only (or a worker's own last act after a
 * throw), with the dead worker fenced; ukey locks are taken per ukey.
 */
import { FLOW_WORDS } from "../flow/mod.ts";
import { coverageCounter, getLogger } from "../lib/mod.ts";
import type { UdpifContext } from "./handler.ts";
import { pushStatsByTranslation } from "./_safe_xlate.ts";
import { UKEY_EVICTED, UKEY_EVICTING, UKEY_OPERATIONAL, UKEY_VISIBLE } from "./ukey_table.ts";
import type { WorkerRole } from "./worker_seats.ts";
import {
  beginStats,
  commitStats,
  JOURNAL_COMMITTED,
  JOURNAL_IDLE,
  type SeatJournal,
} from "./worker_journal.ts";

const covDeletesSettled = coverageCounter("revalidator_deletes_settled");
const covDeletesLost = coverageCounter("revalidator_deletes_lost");
const log = getLogger("ofproto_dpif_upcall");

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

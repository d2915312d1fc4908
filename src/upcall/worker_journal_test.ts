import assert from "node:assert/strict";
import type { UdpifContext } from "./handler.ts";
import { newKey } from "../flow/mod.ts";
import {
  newUdpifOp,
  type UdpifDpif,
  type UdpifXlate,
  type XlateRequest,
  type XlateResult,
} from "./ports.ts";
import { REVALIDATE_MAX_BATCH } from "./_ukey_ops.ts";
import { UdpifShared } from "./shared.ts";
import {
  UKEY_EVICTED,
  UKEY_EVICTING,
  UKEY_OPERATIONAL,
  UKEY_VISIBLE,
  UkeyTable,
} from "./ukey_table.ts";
import {
  beginStats,
  commitStats,
  JOURNAL_COMMITTED,
  JOURNAL_IDLE,
  JOURNAL_MAX_DELETES,
} from "./worker_journal.ts";
import { settleDeadWorker } from "./worker_recovery.ts";
import { WorkerSeats } from "./worker_seats.ts";

const DEAD = 77;

/** Rule credits as a queue with transactions would keep them: staged, then published. */
class StagingXlate implements UdpifXlate {
  readonly ofprotoUuid = new Uint8Array(16);
  published = 0;
  staged = 0;
  completed: number[] = [];
  translate(_req: XlateRequest): XlateResult {
    throw new Error("not used");
  }
  pushStats(_xc: unknown, packets: number): void {
    this.staged += packets;
  }
  beginStats(): void {
    this.staged = 0;
  }
  commitStats(committing: (token: number) => void): void {
    committing(this.published + this.staged);
    this.published += this.staged;
    this.staged = 0;
  }
  completeStatsCommit(_owner: number, token: number): void {
    this.completed.push(token);
  }
}

function setup(flowInDatapath = false) {
  const ukeys = UkeyTable.create(16);
  const slot = ukeys.alloc();
  ukeys.init(slot, Uint32Array.of(1, 2, 3, 4), 0, 1, 1, 0, 0);
  ukeys.install(slot);
  ukeys.setStats(slot, 10, 1000, 5, 0);
  const xlate = new StagingXlate();
  const dpif = {
    newDumpedFlow: () => ({}),
    flowGet: () => flowInDatapath,
  } as unknown as UdpifDpif;
  const ctx: UdpifContext = { shared: UdpifShared.create(), ukeys, dpif, xlate };
  const released: number[] = [];
  const env = {
    ctx,
    dp: { recvReleaseTo: (h: number, pos: number) => released.push(h, pos) },
    releaseXlateLocks: () => {},
  };
  return { ukeys, slot, xlate, ctx, env, released, seats: WorkerSeats.create() };
}

/** A revalidator's push of 15 packets (baseline 10 -> 25), cut short after `steps`. */
function pushUntil(t: ReturnType<typeof setup>, steps: "prepared" | "committed" | "done") {
  const j = t.seats.journal("revalidator", 1);
  j.prepareUkey(t.slot, t.ukeys.gen(t.slot), 25, 2500, 9, 0);
  beginStats(t.xlate);
  t.xlate.pushStats(null, 15);
  if (steps === "prepared") return j;
  commitStats(t.xlate, j);
  if (steps === "committed") return j;
  t.ukeys.setStats(t.slot, 25, 2500, 9, 0);
  j.done();
  return j;
}

Deno.test("a revalidator dead before its commit: nothing published, the delta is pushed again later", () => {
  const t = setup();
  const j = pushUntil(t, "prepared");
  assert.equal(settleDeadWorker(j, "revalidator", 1, DEAD, t.env), "rolled back");
  assert.equal(t.xlate.published, 0);
  assert.equal(t.ukeys.packets(t.slot), 10, "baseline untouched");
  assert.equal(j.state, JOURNAL_IDLE);
  // The next revalidation credits 25 - 10 once.
  assert.equal(25 - t.ukeys.packets(t.slot), 15);
});

Deno.test("a revalidator dead after its commit: the baseline is rolled forward, no second credit", () => {
  const t = setup();
  const j = pushUntil(t, "committed");
  assert.equal(j.state, JOURNAL_COMMITTED);
  assert.equal(settleDeadWorker(j, "revalidator", 1, DEAD, t.env), "rolled forward");
  assert.deepEqual(t.xlate.completed, [15], "the commit is completed with its token");
  assert.equal(t.xlate.published, 15);
  assert.equal(t.ukeys.packets(t.slot), 25);
  assert.equal(t.ukeys.bytes(t.slot), 2500);
  assert.equal(25 - t.ukeys.packets(t.slot), 0, "nothing left to credit twice");
});

Deno.test("a revalidator that finished leaves nothing to settle", () => {
  const t = setup();
  const j = pushUntil(t, "done");
  assert.equal(settleDeadWorker(j, "revalidator", 1, DEAD, t.env), "idle");
  assert.deepEqual(t.xlate.completed, []);
});

Deno.test("a dead handler's uncommitted batch stays queued and its ukeys are evicted", () => {
  const t = setup();
  const j = t.seats.journal("handler", 0);
  j.prepareBatch();
  j.addInstalled(t.slot, t.ukeys.gen(t.slot));
  assert.equal(t.ukeys.state(t.slot), UKEY_VISIBLE);
  assert.equal(settleDeadWorker(j, "handler", 0, DEAD, t.env), "rolled back");
  assert.deepEqual(t.released, [], "the batch is read again by the replacement");
  assert.equal(t.ctx.shared.upcallsHandled, 0);
  assert.equal(t.ukeys.state(t.slot), UKEY_EVICTED, "the next upcall installs the flow anew");
});

Deno.test("a dead handler's committed batch is released and counted, its installed flow kept", () => {
  const t = setup(true);
  const j = t.seats.journal("handler", 2);
  j.prepareBatch();
  j.addInstalled(t.slot, t.ukeys.gen(t.slot));
  j.setBatchEnd(640, 3);
  commitStats(t.xlate, j);
  assert.equal(settleDeadWorker(j, "handler", 2, DEAD, t.env), "rolled forward");
  assert.deepEqual(t.released, [2, 640]);
  assert.equal(t.ctx.shared.upcallsHandled, 3);
  assert.equal(t.ukeys.state(t.slot), UKEY_OPERATIONAL);
  assert.equal(j.state, JOURNAL_IDLE);
});

Deno.test("a dead worker's locks are released, nobody else's", () => {
  const t = setup();
  const other = t.ukeys.alloc();
  assert.ok(t.ukeys.tryLock(t.slot));
  assert.ok(t.ukeys.tryLock(other));
  // Both are held by this thread's owner id; only that id's are released.
  assert.equal(t.ukeys.releaseLocksOf(DEAD), 0);
  assert.equal(t.ukeys.releaseLocksOf(1), 2);
  assert.ok(t.ukeys.tryLock(t.slot));
});

/** Translations that credit the packets they are asked to push (a flow without an xlate cache). */
class CreditingXlate extends StagingXlate {
  override translate(req: XlateRequest): XlateResult {
    this.staged += req.packets;
    // No wildcards: replacing the caller's leaves none.
    if (req.wcReplace) req.wc?.fill(0);
    return { actions: [], slow: 0, avoidCaching: false, ofpInPort: 0, xcache: null };
  }
}

/** A revalidator's batch deleting the ukey's flow (final stats 25 packets, baseline 10). */
function deleteBatch(t: ReturnType<typeof setup>, answered: boolean) {
  t.ukeys.lock(t.slot);
  t.ukeys.transition(t.slot, UKEY_OPERATIONAL);
  t.ukeys.transition(t.slot, UKEY_EVICTING);
  t.ukeys.unlock(t.slot);
  const op = newUdpifOp();
  op.type = "del";
  op.key = newKey();
  op.stats.packets = 25;
  op.stats.bytes = 2500;
  const j = t.seats.journal("revalidator", 1);
  j.recordDeletes([op], Int32Array.of(t.slot), Int32Array.of(t.ukeys.gen(t.slot)), 1, false);
  if (answered) {
    j.recordDeletes([op], Int32Array.of(t.slot), Int32Array.of(t.ukeys.gen(t.slot)), 1, true);
  }
  return j;
}

Deno.test("a revalidator dead after the datapath answered its deletes: their last deltas are credited once", () => {
  assert.equal(JOURNAL_MAX_DELETES, REVALIDATE_MAX_BATCH);
  const t = setup();
  const xlate = new CreditingXlate();
  t.ctx.xlate = xlate;
  const j = deleteBatch(t, true);
  assert.equal(settleDeadWorker(j, "revalidator", 1, DEAD, t.env), "rolled back");
  assert.equal(xlate.published, 15, "25 final packets over a baseline of 10");
  assert.equal(t.ukeys.state(t.slot), UKEY_EVICTED);
  assert.equal(j.state, JOURNAL_IDLE);
  assert.equal(settleDeadWorker(j, "revalidator", 1, DEAD, t.env), "idle");
  assert.equal(xlate.published, 15, "settling again credits nothing");
});

Deno.test("a revalidator dead inside the datapath call: its ukeys are evicted and nothing is credited", () => {
  const t = setup();
  const xlate = new CreditingXlate();
  t.ctx.xlate = xlate;
  const j = deleteBatch(t, false);
  settleDeadWorker(j, "revalidator", 1, DEAD, t.env);
  assert.equal(xlate.published, 0);
  assert.equal(t.ukeys.state(t.slot), UKEY_EVICTED);
  assert.equal(j.state, JOURNAL_IDLE);
});

Deno.test("an armed after-delete fault throws once the deletes are answered, not at a commit", () => {
  const t = setup();
  const j = t.seats.journal("revalidator", 1);
  j.armFault("after-delete");
  commitStats(t.xlate, j);
  j.done();
  assert.throws(() => deleteBatch(t, true), /after the datapath deleted its batch/);
  assert.equal(j.nDeletes, 1, "the answered deletes are journaled before the throw");
});

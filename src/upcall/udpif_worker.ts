/// <reference no-default-lib="true" />
/// <reference lib="deno.worker" />
/**
 * A udpif worker: joins the shared memory once ("init"), then runs as a
 * handler or a revalidator each time it is told to ("run") until the
 * udpif stops its threads, and waits in the pool for the next run. Keeping
 * workers across restarts keeps their datapath handles (a datapath has a
 * fixed number of client rings).
 *
 * Translation updates ("xlate-update") are applied between batches: a
 * running loop that sees UdpifShared.updateSeq ahead of what it applied
 * yields to the event loop so the messages come in.
 */
import {
  attachClock,
  attachCoverage,
  attachLog,
  Barrier,
  lockOwner,
  setLockOwner,
} from "../lib/mod.ts";
import { DpifNetdev } from "../dpif/mod.ts";
import { DpifBinding } from "./dpif_binding.ts";
import { Handler, type UdpifContext } from "./handler.ts";
import { handlerPass } from "./_handler_pass.ts";
import type { CreateUdpifXlate, WorkerXlate } from "./ports.ts";
import type { UdpifWorkerInit, UdpifWorkerMessage, UdpifWorkerReply } from "./protocol.ts";
import { RevalidatorThread } from "./revalidator_loop.ts";
import type { XcacheStore } from "./revalidate_ukey.ts";
import { UdpifShared } from "./shared.ts";
import { UkeyTable } from "./ukey_table.ts";
import { SeatLostError, type WorkerRole, WorkerSeats } from "./worker_seats.ts";
import { settleDeadWorker } from "./worker_recovery.ts";

/** How long an idle handler sleeps before re-checking its latches (real ms). */
const HANDLER_NAP_MS = 100;

let ctx: UdpifContext | undefined;
let xlate: WorkerXlate | undefined;
let applied = 0;
let initialized: Promise<void> | undefined;
let seats: WorkerSeats | undefined;
let dpHandle: DpifNetdev | undefined;
/** The seat this worker runs in, while it runs. */
let seated: { role: WorkerRole; index: number } | undefined;
/** The xlate caches of the revalidator this worker runs, while it runs one. */
let xcaches: XcacheStore | undefined;

function reply(m: UdpifWorkerReply): void {
  self.postMessage(m);
}

/** Lets queued messages (translation updates) in when the main thread posted some. */
async function catchUp(shared: UdpifShared): Promise<void> {
  while (applied < shared.updateSeq) await new Promise((r) => setTimeout(r, 0));
}

async function init(m: UdpifWorkerInit): Promise<DpifNetdev> {
  setLockOwner(m.lockOwner);
  attachClock(m.clock);
  attachCoverage(m.coverage);
  attachLog(m.log);
  seats = new WorkerSeats(m.seats);
  const dp = DpifNetdev.open(m.dpType, m.datapath, m.dpifClient);
  dpHandle = dp;
  const mod = await import(m.xlateModule);
  xlate = await (mod.createUdpifXlate as CreateUdpifXlate)(m.xlateInit);
  applied = m.xlateSeq;
  ctx = {
    shared: new UdpifShared(m.shared),
    ukeys: new UkeyTable(m.ukeys),
    dpif: new DpifBinding(dp, m.dumpCursor),
    xlate,
  };
  return dp;
}

/** Section bounds of this worker in seat `role` `index` (worker_seats.ts). */
function fenceFor(role: WorkerRole, index: number) {
  const owner = lockOwner();
  return {
    enter: () => seats!.enter(role, index, owner),
    leave: () => seats!.leave(role, index, owner),
  };
}

async function runHandler(c: UdpifContext, id: number): Promise<void> {
  const h = new Handler(c, id);
  const fence = fenceFor("handler", id);
  const updates = { applied: () => applied, catchUp: () => catchUp(c.shared) };
  while (!c.shared.exitLatch) {
    const n = await handlerPass(h, c.shared, updates, fence);
    if (n === 0) await c.dpif.recvWaitAsync(id, HANDLER_NAP_MS);
  }
}

async function runRevalidator(
  c: UdpifContext,
  index: number,
  barrier: SharedArrayBuffer,
  pauseBarrier: SharedArrayBuffer,
): Promise<void> {
  const t = new RevalidatorThread(
    c,
    index,
    Barrier.attach(barrier),
    Barrier.attach(pauseBarrier),
    () => catchUp(c.shared),
    fenceFor("revalidator", index),
  );
  xcaches = t.revalidator.xcaches;
  try {
    await t.run();
  } finally {
    xcaches = undefined;
  }
}

/**
 * After a throw, the worker's last act: it settles its own journal and
 * releases its locks at once, so that no thread (the main thread
 * included) spins on a lock it left held while the main thread learns of
 * the death. The main thread's own settling then finds nothing to do.
 */
function settleOwnDeath(role: WorkerRole, index: number): void {
  const c = ctx!;
  settleDeadWorker(c.journal!, role, index, lockOwner(), {
    ctx: c,
    dp: dpHandle!,
    releaseXlateLocks: (owner) => xlate?.releaseLocksOf?.(owner),
  });
}

self.onmessage = async (e: MessageEvent<UdpifWorkerMessage>) => {
  const m = e.data;
  try {
    if (m.type === "init") {
      const opened = init(m);
      initialized = opened.then(() => {});
      const dp = await opened;
      reply({ type: "ready", dpifClient: dp.client });
    } else if (m.type === "xlate-update") {
      await initialized;
      if (m.seq <= applied) return;
      xlate!.update(m.data);
      applied = m.seq;
    } else if (m.type === "xcache-query") {
      const xc = xcaches?.get(m.slot, m.gen);
      const description = xc === undefined ? null : xlate?.describeXcache?.(xc) ?? null;
      reply({ type: "xcache", id: m.id, description });
    } else if (m.type === "run") {
      await initialized;
      const c = ctx!;
      seated = { role: m.role, index: m.index };
      c.journal = seats!.journal(m.role, m.index);
      if (m.role === "handler") await runHandler(c, m.index);
      else await runRevalidator(c, m.index, m.barrier, m.pauseBarrier);
      seated = undefined;
      reply({ type: "exited", role: m.role, index: m.index });
    }
  } catch (err) {
    if (seated && !(err instanceof SeatLostError)) settleOwnDeath(seated.role, seated.index);
    reply({
      type: "error",
      message: err instanceof Error ? err.stack ?? err.message : String(err),
    });
  }
};

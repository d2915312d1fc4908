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
import { attachClock, attachCoverage, attachLog, Barrier } from "../lib/mod.ts";
import { DpifNetdev } from "../dpif/mod.ts";
import { DpifBinding } from "./dpif_binding.ts";
import { Handler, type UdpifContext } from "./handler.ts";
import type { CreateUdpifXlate, WorkerXlate } from "./ports.ts";
import type { UdpifWorkerInit, UdpifWorkerMessage, UdpifWorkerReply } from "./protocol.ts";
import { RevalidatorThread } from "./revalidator_loop.ts";
import { UdpifShared } from "./shared.ts";
import { UkeyTable } from "./ukey_table.ts";

/** How long an idle handler sleeps before re-checking its latches (real ms). */
const HANDLER_NAP_MS = 100;

let ctx: UdpifContext | undefined;
let xlate: WorkerXlate | undefined;
let applied = 0;
let initialized: Promise<void> | undefined;

function reply(m: UdpifWorkerReply): void {
  self.postMessage(m);
}

/** Lets queued messages (translation updates) in when the main thread posted some. */
async function catchUp(shared: UdpifShared): Promise<void> {
  while (applied < shared.updateSeq) await new Promise((r) => setTimeout(r, 0));
}

async function init(m: UdpifWorkerInit): Promise<void> {
  attachClock(m.clock);
  attachCoverage(m.coverage);
  attachLog(m.log);
  const dp = DpifNetdev.open(m.dpType, m.datapath);
  const mod = await import(m.xlateModule);
  xlate = await (mod.createUdpifXlate as CreateUdpifXlate)(m.xlateInit);
  applied = m.xlateSeq;
  ctx = {
    shared: new UdpifShared(m.shared),
    ukeys: new UkeyTable(m.ukeys),
    dpif: new DpifBinding(dp, m.dumpCursor),
    xlate,
  };
}

async function runHandler(c: UdpifContext, id: number): Promise<void> {
  const h = new Handler(c, id);
  while (!c.shared.exitLatch) {
    const revalSeq = c.shared.revalSeq.read();
    if (applied < c.shared.updateSeq) await catchUp(c.shared);
    if (h.runOnce(revalSeq) === 0) await c.dpif.recvWaitAsync(id, HANDLER_NAP_MS);
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
  );
  await t.run();
}

self.onmessage = async (e: MessageEvent<UdpifWorkerMessage>) => {
  const m = e.data;
  try {
    if (m.type === "init") {
      initialized = init(m);
      await initialized;
      reply({ type: "ready" });
    } else if (m.type === "xlate-update") {
      await initialized;
      if (m.seq <= applied) return;
      xlate!.update(m.data);
      applied = m.seq;
    } else if (m.type === "run") {
      await initialized;
      const c = ctx!;
      if (m.role === "handler") await runHandler(c, m.index);
      else await runRevalidator(c, m.index, m.barrier, m.pauseBarrier);
      reply({ type: "exited", role: m.role, index: m.index });
    }
  } catch (err) {
    reply({
      type: "error",
      message: err instanceof Error ? err.stack ?? err.message : String(err),
    });
  }
};

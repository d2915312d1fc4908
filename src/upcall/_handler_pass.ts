/**
 * One pass of a handler worker's loop (udpif_worker.ts, OVS's
 * udpif_upcall_handler around recv_upcalls): read a batch of upcalls,
 * bring the translation state up to date, handle the batch.
 *
 * The batch's reval_seq is read after the batch was read, then the
 * translation updates posted so far are applied (a later update is then
 * newer than the reval_seq, and the flow is revalidated when it comes).
 * Read before the batch, the reval_seq could predate an OpenFlow change
 * the main thread made before it queued the batch's packet (a learn
 * applied between two frames of netdev-dummy/receive): the batch is
 * translated with that change, but its flows carry the older reval_seq,
 * so the revalidators translate them again without side effects, and a
 * learn whose `limit` refused a flow then says it succeeded (its
 * result_dst bit flips), which the handler's translation never said.
 *
 * Thread-safety: one handler's worker; the batch stays held in the
 * handler's queue while the pass awaits the updates (outside its seat's
 * section), so a successor takes it again if the worker dies there.
 */
import type { Handler } from "./handler.ts";
import type { SectionFence } from "./revalidator_loop.ts";
import type { UdpifShared } from "./shared.ts";

/** A worker's translation updates, as the pass needs them. */
export interface XlateUpdates {
  /** The sequence number of the last update this thread applied (UdpifShared.updateSeq counts those posted). */
  applied(): number;
  /** Resolves once the updates posted before the call are applied (their messages taken in). */
  catchUp(): Promise<void>;
}

/** Reads and handles one batch; returns how many upcalls it read. */
export async function handlerPass(
  h: Handler,
  shared: UdpifShared,
  updates: XlateUpdates,
  fence: SectionFence,
): Promise<number> {
  fence.enter();
  const n = h.receive();
  if (n > 0) {
    let revalSeq = shared.revalSeq.read();
    while (updates.applied() < shared.updateSeq) {
      fence.leave();
      await updates.catchUp();
      fence.enter();
      revalSeq = shared.revalSeq.read();
    }
    h.handleBatch(n, revalSeq);
  }
  fence.leave();
  return n;
}

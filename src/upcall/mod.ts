/**
 * udpif: OVS's ofproto-dpif-upcall.c. Packets that miss the datapath come
 * up to handler workers, which translate each new flow, install a
 * megaflow exactly as wide as the translation's wildcards (or exact, with
 * megaflows disabled) and execute the packets; revalidator workers keep
 * the installed flows honest: they dump the datapath in batches of 50,
 * push statistics to the OpenFlow rules, expire idle flows, hold the flow
 * count under a self-tuning limit, and after any OpenFlow change
 * re-translate every flow, modifying in place the ones whose actions
 * changed and deleting the ones whose mask is now too wide.
 *
 * Main types:
 * - `Udpif` (main thread): creates the shared memory, starts and stops
 *   the workers (`setThreads` with OVS's default counts, `flush`,
 *   `purge`, `pause`/`resume`, `waitDump`), applies other_config
 *   (`configure`) and forwards translation updates (`postXlateUpdate`,
 *   then `revalidate()` to bump reval_seq).
 * - `UkeyTable`: the ukeys, one 128-byte record per datapath flow in a
 *   SharedArrayBuffer, in OVS's 512 umaps; its doc comment states the
 *   consistency protocol. Each ukey's life is a `UkeyState` (CREATED,
 *   VISIBLE, OPERATIONAL, INCONSISTENT after a failed modify, EVICTING,
 *   EVICTED, DELETED) stepped by `ukeyTransition`'s table (ukey_state.ts).
 * - `Handler`, `Revalidator`, `RevalidatorThread`: the per-thread logic
 *   as plain classes over a `UdpifContext` (shared block, ukeys, datapath
 *   port, translation port), driven in-process by tests and by
 *   `udpif_worker.ts` in workers.
 * - `UdpifDpif`, `UdpifXlate`/`WorkerXlate`: what udpif needs from the
 *   datapath and from translation (ports.ts). A worker loads the module
 *   named by `UdpifOptions.xlateModule`, which exports
 *   `createUdpifXlate(init)`.
 * - `WorkerSupervisor` (main thread, worker_supervisor.ts): starts and
 *   stops the workers and restarts one that dies (throws, or is
 *   terminated by fault/kill-worker), with the same index; each seat's
 *   life is a `WorkerLifecycle` (starting, running, dead, restarting,
 *   stopped; a table of allowed steps). `WorkerSeats` are the shared
 *   words that fence a dead worker off before its cleanup, and each seat's
 *   journal (worker_journal.ts) says what it was in the middle of.
 * - Commands: `registerUpcallCommands` (upcall/show, set-flow-limit,
 *   enable/disable-megaflows and -ufid, revalidator/wait, purge, pause,
 *   resume) with OVS 3.1's text; `upcall/show --reasons` adds the ukey
 *   deletions per reason (deletion_reasons.ts). `detraceUkey` finds a
 *   ukey's xlate cache for the daemon's `ofproto/detrace`, asking the
 *   revalidator worker that holds it (an "xcache-query" message).
 * - Behaviour by OVS release (compat.ts): the newest by default,
 *   OVS 3.1's with `other_config:ovs-compat=3.1` (UdpifShared.compat31).
 *
 * Thread-safety. The main thread owns the `Udpif` object, the config
 * words, the latches and the worker pool; it writes reval_seq (a new
 * translation state), the dynamic flow limit (set-flow-limit) and the
 * toggles. The revalidator leader alone writes dump_seq, the average and
 * maximum flow counts, the dump duration and (after each dump) the flow
 * limit; it also releases freed ukey records (`quiesce`) between cycles,
 * when no revalidator walks a umap chain. Ukeys are shared: a handler
 * allocates a record privately, then publishes it under its umap's lock
 * (refusing a duplicate UFID as ukey_install does) and holds the ukey's
 * lock until the flow is in the datapath; revalidators only try-lock a
 * ukey (a held one is skipped and counted as contention) and, under that
 * lock, write its state, dump_seq, reval_seq, stats, actions digest and
 * xlate-cache owner. Ukeys are unlinked only in the sweep phase (by the
 * revalidator whose run of ukey slots holds the ukey, under its umap's
 * lock, or by purge) or when a handler
 * replaces an evicted one. Xlate caches are JS objects and stay in the
 * memory of the revalidator that built them; the ukey records which one.
 * The cached n_flows is refreshed by whichever thread first finds it
 * older than 100 ms (a try-lock word). Translation state reaches workers
 * as ordered messages; a worker reads reval_seq before taking pending
 * messages, so a flow translated with older state than its recorded
 * reval_seq cannot exist.
 *
 * Worker death (udpif's addition: in OVS a thread cannot die alone). Every
 * spin lock holds its holder's lock owner id (lib/lock_owner.ts); a worker
 * touches shared memory only inside sections bounded by its seat's fence
 * word, and only awaits outside them, which is also the only place Deno's
 * Worker.terminate() can stop it. Rule credits and the ukey baselines or
 * upcall queue positions they go with are stats transactions, committed
 * at one point recorded in the seat's journal; a handler releases its
 * batch from the upcall queue only at that commit. When a worker dies the
 * main thread fences its seat, settles its journal (forward if committed,
 * back if not: each packet is credited once), releases its locks, keeps
 * its revalidator barrier seats (arriving in its name) until a cycle
 * starts, and seats a replacement on the dead worker's datapath client.
 * A worker that throws settles its own journal and locks first.
 */
export { allUdpifs, Udpif, type UdpifConfig, type UdpifOptions } from "./udpif.ts";
export {
  atoiUnsigned,
  registerUpcallCommands,
  revalidatorPause,
  revalidatorPurge,
  revalidatorResume,
  revalidatorWait,
  setFlowLimit,
  setMegaflows,
  setUfid,
  upcallShow,
  upcallShowJson,
} from "./commands.ts";
export {
  type CreateUdpifXlate,
  DP_OK,
  type DpFlowStats,
  DPIF_UC_ACTION,
  DPIF_UC_MISS,
  type DumpedFlow,
  SLOW_ACTION,
  SLOW_BFD,
  SLOW_CFM,
  SLOW_LACP,
  SLOW_LLDP,
  SLOW_MATCH,
  SLOW_STP,
  type UdpifDpif,
  type UdpifXlate,
  type UpcallIn,
  type WorkerXlate,
  type XcacheDescription,
  type XlateRequest,
  type XlateResult,
} from "./ports.ts";
export { Handler, type UdpifContext, UPCALL_MAX_BATCH } from "./handler.ts";
export { REVALIDATE_MAX_BATCH, Revalidator } from "./revalidator.ts";
export { RevalidatorThread } from "./revalidator_loop.ts";
export {
  OFPROTO_FLOW_LIMIT_DEFAULT,
  OFPROTO_MAX_IDLE_DEFAULT,
  OFPROTO_MAX_REVALIDATOR_DEFAULT,
  OFPROTO_MIN_REVALIDATE_PPS_DEFAULT,
  UdpifShared,
} from "./shared.ts";
export {
  N_UMAPS,
  UKEY_CREATED,
  UKEY_DELETED,
  UKEY_EVICTED,
  UKEY_EVICTING,
  UKEY_INCONSISTENT,
  UKEY_OPERATIONAL,
  UKEY_RECORD_BYTES,
  UKEY_VISIBLE,
  UkeyTable,
  ukeyTableBytes,
} from "./ukey_table.ts";
export { type UkeyState, type UkeyTransition, ukeyTransition } from "./ukey_state.ts";
export { initialFlowLimit, nextFlowLimit, revalidationPeriod } from "./flow_limit.ts";
export { countCpuCores, threadCounts } from "./threads.ts";
export { type DetraceResult, detraceUkey, parseDetracePmd, parseDetraceUfid } from "./detrace.ts";
export { OVS_COMPAT_3_1, OVS_COMPAT_LATEST, OVS_COMPAT_NAMES } from "./compat.ts";
export { DpifBinding } from "./dpif_binding.ts";
export { type WorkerSeatInfo, WorkerSupervisor } from "./worker_supervisor.ts";
export { WorkerLifecycle, type WorkerState, workerTransitionAllowed } from "./worker_lifecycle.ts";
export { type WorkerRole, WorkerSeats } from "./worker_seats.ts";

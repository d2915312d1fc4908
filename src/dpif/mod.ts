/**
 * The dpif layer: the datapath interface and the userspace netdev datapath.
 *
 * A datapath caches megaflows (key + mask -> datapath actions) so that
 * packets that hit them are forwarded without going up. `DpifProvider`
 * (provider.ts) is the contract, after OVS's lib/dpif-provider.h: open,
 * close and destroy; stats (hit, missed, lost, flows, masks); ports; flow
 * put/del/get/flush and `operate` batches keyed by UFID; flow dumps that
 * several revalidators share (`FlowDump`, one `FlowDumpThread` each,
 * which takes runs of slots from its own lane first, so that a flow
 * usually goes to the same revalidator dump after dump; batches of up to
 * 50; terse ones, UFID and stats only, as OVS dumps a
 * datapath with UFIDs, and `FlowTable.readRest` for a flow's key, mask
 * and actions when wanted); packet execution; and upcall reception per
 * handler (`recvSet`, `handlersSet`, `recv`, `recvWait`).
 *
 * `DpifNetdev` implements it for the `netdev` and `dummy` datapath types.
 * Its fast path is one or more PMDs (pmd.ts, OVS's dp_netdev_pmd_thread;
 * by default one standing for OVS's main thread, or one per core of
 * other_config:pmd-cpu-mask, _pmd_threads.ts), in slots of the shared
 * buffers so that `pmdControl` adds and removes PMDs at run time as OVS's
 * reconfigure_pmd_threads does (pmd_reconfigure.ts; a slot's life is the
 * state machine of _pmd_state.ts). Each PMD has its own flow
 * table, EMC, SMC and dpcls, so a flow belongs to one PMD (the same
 * megaflow may be in several); flow ops carry the PMD (`DpifOp.pmd`,
 * unset meaning every PMD as OVS's PMD_ID_NULL), dumps walk every PMD's
 * table and tag each flow with its PMD, and upcalls say which PMD missed.
 * Ports have rx queues (options:n_rxq: a dummy port's rings, a system
 * port's PACKET_FANOUT sockets, shared.rxqFd) that rxq_sched.ts
 * assigns to PMDs as OVS's pmd-rxq-assign=cycles|roundrobin|group does,
 * queues pinned to a core (pmd-rxq-affinity, `pmdControl`) first,
 * isolating their PMD unless pmd-rxq-isolate=false; pmd_rxq.ts prints `pmd-rxq-show` and `pmd-rxq-rebalance`. A PMD polls
 * its rx queues (_pmd_rx.ts, which rebuilds its poll list when the ports
 * change), parses
 * each packet into its key and miniflow (_pmd_extract.ts; the common
 * IPv4 TCP/UDP frame, untagged or with one tag, in one pass,
 * flow/extract_fast.ts), looks it up in the exact-match cache (emc.ts), then, with
 * `other_config:smc-enable=true`, the signature match cache (smc.ts), then
 * the megaflow classifier (dpcls.ts) (the order is dfc.ts's), counts the
 * hit in the flow's stats and runs the actions; a miss becomes an upcall
 * on a handler's queue. The
 * flow table (flow_table.ts) is shared memory; its consistency protocol
 * is written down there. A flow costs what its key, mask and actions
 * use: fixed slots hold meta, UFID and stats, and a record in the
 * table's arena (_flow_arena.ts allocates it, _flow_write.ts writes it,
 * _flow_read.ts reads it) holds the masked key, the actions and the key
 * as a miniflow; masks are shared by their subtable's flows. A `system`
 * port (a Linux interface) has no
 * rings: the PMD receives and sends on its AF_PACKET socket itself, in
 * bursts (_pmd_system.ts, _pmd_output.ts), keeps TSO/checksum offloads
 * between such ports and finishes them in software for anything else
 * (_pmd_offload.ts), and when idle sleeps in poll(2) on the sockets and
 * an eventfd instead of on the doorbell word. A `tap` port (the bridge's
 * local port on the netdev datapath) is handled the same way with
 * read/write on its tap fd. An fd is handed to the PMD and taken back
 * through the shared port table (_port_fd.ts): taking it back waits until
 * the PMD acknowledged the port change, so the owner closes it only once
 * it is unused.
 *
 * `Dpif` (dpif.ts) is the thin wrapper the layers above call: it counts
 * each call under OVS's coverage names and logs flow operations in OVS's
 * wording; `probeFeature` is dpif_probe_feature, the put/get/delete of a
 * test flow by which the layers above learn what the datapath supports. dpctl.ts prints `dpctl/show`, `dump-flows`, `add-flow`,
 * `mod-flow`, `del-flow`, `get-flow` and `del-flows` exactly as OVS 3.1;
 * pmd_stats.ts `dpif-netdev/pmd-stats-show` and `pmd-stats-clear`.
 *
 * Packet metadata, `recirc`, `hash` and the conntrack actions are the
 * PMD's _pmd_recirc.ts (dp_execute_cb): a recirculated packet goes
 * through EMC, SMC, dpcls (and a miss's upcall) again with its recirc_id
 * and ct fields in its key, at most MAX_RECIRC_DEPTH (6) deep, counted as
 * `packet recirculations`. The connection table (src/conntrack) is one
 * SharedArrayBuffer in DatapathBuffers: every PMD tracks connections in
 * it directly, under its lock word, and dpctl_conntrack.ts's commands
 * (`dump-conntrack`, `flush-conntrack`, `ct-stats-show`,
 * `ct-set-maxconns`, `ct-get-maxconns`, `ct-get-nconns`) read and change
 * it from the main thread the same way.
 *
 * Thread-safety: each PMD (a Web Worker, or the creating thread for an
 * in-process datapath) is the only writer of its flow table and its
 * counters, and of the port counters and processing times of the rx
 * queues it owns; a queue changes PMD only through the hand-over in
 * _shared.ts (rxqOwner), so a ring never has two consumers. Every other
 * thread that opens the datapath (`DpifNetdev.open`) gets its own
 * command ring and reply ring per PMD: flow operations and executes
 * travel through those and are done by that PMD, in order; flow dumps
 * read the tables directly, lock-free, under per-slot seqlocks. Upcall
 * queue h has one producer, the active PMD of rank h % (active PMDs),
 * which claims it only once its previous producer let it go, and one
 * consumer, handler h; so there are at least as many handlers as PMDs.
 * Only the creating thread reconfigures the PMD set; a removed PMD's table
 * is flushed by that thread once the PMD has left its loop. Ports are added
 * and removed only by the thread that created the datapath, which also
 * owns the netdevs (and opens and closes system ports' sockets, whose fd
 * numbers it hands the PMD through the port table, and takes back
 * blocking until the PMD acknowledges, at most 2 s). A thread that rings
 * the doorbell while the PMD sleeps in poll(2) writes the PMD's eventfd,
 * so every thread that may ring needs FFI (--allow-ffi) once the
 * datapath has system ports. If the PMD worker dies, the creating thread retires
 * its generation (a control word the old PMD checks) and starts a new one,
 * which rebuilds its private indexes from the shared table, so at no time
 * do two PMDs consume the same rings.
 */
export { Dpif, logFlowDumpDestroy, logFlowDumpNext } from "./dpif.ts";
export {
  dpctlAddFlow,
  dpctlDelFlow,
  dpctlDelFlows,
  dpctlDumpFlows,
  DpctlError,
  dpctlGetFlow,
  dpctlModFlow,
  dpctlShow,
  type DumpFilterParser,
  type DumpFlowsOptions,
} from "./dpctl.ts";
export {
  dpctlCtGetMaxconns,
  dpctlCtGetNconns,
  dpctlCtGetTcpSeqChk,
  dpctlCtSetMaxconns,
  dpctlCtSetTcpSeqChk,
  dpctlCtStatsShow,
  dpctlDumpConntrack,
  dpctlFlushConntrack,
} from "./dpctl_conntrack.ts";
export type { DpifDpStats, DpifFlowPut, DpifOp, DpifPort, DpifProvider } from "./provider.ts";
export { DpifError, DpifNetdev, type DpifNetdevOptions, snapshotActions } from "./dpif_netdev.ts";
export { FlowSnapshot } from "./flow_table.ts";
export {
  DUMP_CURSOR_BYTES,
  DUMP_LANES,
  DUMP_MAX_BATCH,
  FlowDump,
  FlowDumpThread,
  newDumpBatch,
} from "./flow_dump.ts";
export { DpifUpcall, UPCALL_ACTION, UPCALL_MISS } from "./upcall.ts";
export { type FlowExtractFn } from "./pmd.ts";
export {
  pmdInfoCommand,
  pmdPerfShow,
  pmdPerfShowCommand,
  type PmdStats,
  pmdStatsShow,
} from "./pmd_stats.ts";
export { pmdRxqRebalance, pmdRxqShow } from "./pmd_rxq.ts";
export {
  assignRxqs,
  parseRxqAffinity,
  planRxqs,
  RXQ_ASSIGN_TYPES,
  type RxqAssign,
  type RxqLoad,
  type RxqPlan,
} from "./rxq_sched.ts";
/** The core id of OVS's main thread, as flow dumps and pmd commands name it. */
export { MAX_PMDS, NON_PMD_CORE_ID } from "./_shared.ts";
export { type DatapathBuffers, UPCALL_RING_WORDS, upcallQueueCapacity } from "./_shared.ts";
/** Upcall queues a datapath has: the most handler threads it can serve. */
export { MAX_HANDLERS } from "./_shared.ts";
export {
  E2BIG,
  EEXIST,
  EINVAL,
  ENOENT,
  PUT_CREATE,
  PUT_MODIFY,
  PUT_ZERO_STATS,
  strerror,
} from "./protocol.ts";

/**
 * What udpif needs from the layers below, as small interfaces: the
 * datapath (upcall queues, flow put/del/get, dumps, execute) and
 * translation (xlate plus pushing stats to the rules it went through).
 * Workers bind them to the real dpif and xlate; tests may bind them to
 * in-process implementations.
 */
import { type FlowKey, type OdpAction } from "../flow/mod.ts";

/** dpif upcall types. */
export const DPIF_UC_MISS = 0;
export const DPIF_UC_ACTION = 1;

/** A received upcall; the handler reuses one per batch slot (dpif's DpifUpcall fits). */
export interface UpcallIn {
  type: number;
  /** The datapath port the packet came in on. */
  inPort: number;
  /** The flow as the datapath extracted it (unmasked). */
  readonly key: FlowKey;
  readonly ufid: Uint32Array;
  /** The packet is `packet[0..packetLen)`; valid until the next recv. */
  readonly packet: Uint8Array;
  packetLen: number;
  /** The userspace action's cookie, `userdata[0..userdataLen)`, for DPIF_UC_ACTION. */
  readonly userdata: Uint8Array;
  userdataLen: number;
  /** DPIF_UC_ACTION: the action was the packet's last; a failed upcall drops the packet. */
  lastAction: boolean;
  /** The datapath thread (PMD) that missed: its flow table gets the flow (OVS's pmd_id). */
  pmd: number;
}

/** Flow statistics, as the datapath reports them. */
export interface DpFlowStats {
  packets: number;
  bytes: number;
  /** time_msec() of the last hit; 0 for never. */
  used: number;
  tcpFlags: number;
}

/** A flow as a dump or a get returns it; reused per batch slot (dpif's FlowSnapshot fits). */
export interface DumpedFlow extends DpFlowStats {
  readonly ufid: Uint32Array;
  /** The PMD whose flow table holds the flow; with the UFID, the ukey's identity. */
  pmd: number;
  /** Where the dump found the flow in its PMD's table (-1: unknown): a hint for finding its ukey again. */
  readonly slot: number;
  readonly key: FlowKey;
  readonly mask: FlowKey;
}

export const DP_OK = 0;
/** errno values the dpif may return. */
export const ENOENT = 2;
export const EEXIST = 17;
export const ENOSPC = 28;

/** One datapath operation of a batch (struct dpif_op); reused across batches. */
export interface UdpifOp {
  type: "put" | "del" | "execute";
  /** put: DPIF_FP_MODIFY instead of DPIF_FP_CREATE. */
  modify: boolean;
  ufid: Uint32Array;
  key: FlowKey;
  mask: FlowKey;
  actions: OdpAction[];
  /**
   * execute: `packet[0..len)` received on datapath port `inPort`; `key`
   * (when set) gives the packet's metadata (recirc_id, ct fields).
   */
  packet: Uint8Array;
  len: number;
  inPort: number;
  /** The PMD the op is for: the upcall's or the dumped flow's. */
  pmd: number;
  /** Out: DP_OK or an errno; for del, the flow's final stats. */
  error: number;
  /**
   * Out, for put: the datapath applied it to an overlapping flow with
   * another UFID (dpif-netdev finds the flow to modify by key).
   */
  otherFlow: boolean;
  readonly stats: DpFlowStats;
}

export function newUdpifOp(): UdpifOp {
  return {
    type: "put",
    modify: false,
    ufid: new Uint32Array(4),
    key: new Uint32Array(0),
    mask: new Uint32Array(0),
    actions: [],
    packet: new Uint8Array(0),
    len: 0,
    inPort: 0,
    pmd: 0,
    error: 0,
    otherFlow: false,
    stats: { packets: 0, bytes: 0, used: 0, tcpFlags: 0 },
  };
}

export interface UdpifDpif {
  /** Human name, e.g. "dummy@ovs-dummy" (dpif_name). */
  readonly name: string;
  /** A reusable upcall slot for recv. */
  newUpcall(): UpcallIn;
  /** A reusable flow slot for dumps and gets. */
  newDumpedFlow(): DumpedFlow;
  /** The installed actions of a dumped flow (read only when adopting it). */
  flowActions(f: DumpedFlow): OdpAction[];
  /**
   * Copies up to `max` queued upcalls for `handler` into `out`; never
   * blocks. They stay queued (a successor of a handler that died reads
   * them again) until `recvRelease(handler)`.
   */
  recv(handler: number, out: UpcallIn[], max: number): number;
  /** The queue position just past the upcalls `handler` took (its journal records it). */
  recvPosition(handler: number): number;
  /** Lets go of the upcalls `handler` took: its batch is done with them. */
  recvRelease(handler: number): void;
  /** Sleeps until upcalls may be queued for `handler`, or `timeoutMs` (real) passes. */
  recvWait(handler: number, timeoutMs: number): void;
  /** recvWait() without blocking the thread's event loop. */
  recvWaitAsync(handler: number, timeoutMs: number): Promise<void>;
  /**
   * Runs `ops[0..n)` in order as one batch (dpif_operate). `upcall` marks a
   * handler's batch, which dpif-netdev runs from its upcall callback,
   * outside the dpif layer's counters and logs.
   */
  operate(ops: UdpifOp[], n: number, upcall: boolean): void;
  /** Fetches one flow by UFID from PMD `out.pmd`'s table into `out`; false when it is gone. */
  flowGet(ufid: Uint32Array, out: DumpedFlow): boolean;
  /** The datapath's flow count (dpif_get_dp_stats n_flows). */
  flowCount(): number;
  /** Starts a dump (leader, before the first barrier). */
  dumpStart(): void;
  /**
   * Joins the current dump as dump thread `thread` (every revalidator, after
   * the barrier); `terse` (UFIDs in use) dumps no keys, masks or actions.
   */
  dumpThreadStart(thread: number, terse: boolean): void;
  /** Next batch of up to `max` flows for dump thread `thread`; 0 at the end. */
  dumpNext(thread: number, out: DumpedFlow[], max: number): number;
  /**
   * Gives a flow of this thread's terse dump its key, mask and actions,
   * for the flows a revalidator translates, adopts or deletes (OVS reads
   * them from the ukey; here the datapath holds them); false when the
   * flow is gone meanwhile. A flow of a full dump has them already. Dump
   * threads only, between dumpNext calls; never blocks.
   */
  dumpFill(f: DumpedFlow): boolean;
  /** Ends the dump (leader, after the last barrier). */
  dumpDone(): void;
  /** Deletes every flow (dpif_flow_flush). */
  flush(): void;
}

/** Slow-path reasons (enum slow_path_reason). */
export const SLOW_CFM = 1 << 0;
export const SLOW_BFD = 1 << 1;
export const SLOW_LACP = 1 << 2;
export const SLOW_STP = 1 << 3;
export const SLOW_LLDP = 1 << 4;
export const SLOW_ACTION = 1 << 5;
export const SLOW_MATCH = 1 << 6;

/** An input to translation. */
export interface XlateRequest {
  key: FlowKey;
  /** The packet, for side effects (learning); null when revalidating. */
  packet: Uint8Array | null;
  /** Stats to credit to the rules on the way (resubmit_stats); zero packets for none. */
  packets: number;
  bytes: number;
  tcpFlags: number;
  used: number;
  /** Wildcards accumulate here ("this bit was looked at"); null when not needed. */
  wc: FlowKey | null;
  /**
   * The translation's wildcards replace what `wc` holds instead of being
   * ORed into it: a copy is native, an OR a JS loop per word, and the
   * caller need not zero `wc` first. Whatever a failed translation (no
   * actions) leaves in `wc` is meaningless.
   */
  wcReplace?: boolean;
  /** Whether to record an xlate cache for later stats pushes. */
  wantXcache: boolean;
  /**
   * With `wantXcache`: the xcache an earlier translation of this flow
   * returned, to clear and fill again instead of making a new one
   * (xlate_cache_clear of the ukey's xcache in revalidate_ukey__). The
   * result's `xcache` may then be this object; the caller must not use
   * the old contents any more.
   */
  reuseXcache?: unknown;
  /**
   * The caller is done with the result of its last translation that had
   * this flag (the object and its `actions` array; `recircs` and `xcache`
   * stay its own) before it asks for this one, which may refill them
   * rather than make new ones: a full revalidation translates 200 000
   * flows and keeps nearly none of their actions.
   */
  reuseResult?: boolean;
  /**
   * time_msec() as the caller read it for its batch, for the translation
   * to use instead of a clock read of its own (a read costs 0.2-0.4 us in
   * Deno, a tenth of a revalidator's translation); absent: it reads the clock.
   */
  now?: number;
}

export interface XlateResult {
  /** Datapath actions; undefined when translation failed. */
  actions: OdpAction[] | undefined;
  /** Nonzero slow-path reasons. */
  slow: number;
  /** Translation asked not to cache the result in a datapath flow. */
  avoidCaching: boolean;
  /** The OpenFlow in_port (for the slow-path cookie). */
  ofpInPort: number;
  /** Handle for pushing stats later; null when not requested. */
  xcache: unknown;
  /**
   * Recirculation ids the actions refer to (a controller action's frozen
   * state), one reference held on each, distinct; the caller owns them
   * and gives each back with `releaseRecirc` (the ukey that installs the
   * actions holds them until it is freed, as OVS's ukey->recircs).
   * Absent when translation allocates none.
   */
  recircs?: readonly number[];
}

export interface UdpifXlate {
  translate(req: XlateRequest): XlateResult;
  /** Credits stats to the rules an xlate cache recorded (xlate_push_stats). */
  pushStats(xcache: unknown, packets: number, bytes: number, used: number, tcpFlags: number): void;
  /**
   * Drops one reference a translation's `recircs` handed over
   * (recirc_free_id); the id is never handed out again once its last
   * reference is gone. Any udpif thread may call it; it takes the id
   * pool's lock briefly and never blocks otherwise.
   */
  releaseRecirc?(id: number): void;
  /**
   * A controller upcall to be sent as a packet-in (process_upcall's
   * CONTROLLER_UPCALL): the callee copies the cookie and packet before it
   * returns (they are the batch slot's) and hands them to the main thread
   * without blocking beyond a short lock. Handlers call it; absent, the
   * packet-in is dropped.
   */
  controllerUpcall?(u: UpcallIn): void;
  /** UUID bytes of the bridge (ofproto) for slow-path cookies. */
  readonly ofprotoUuid: Uint8Array;
  /**
   * A handler's batch is installed (ukeys and flows): side effects of its
   * translations that ask for revalidation (MAC learning) may be
   * announced now, so that the revalidation finds the batch's flows.
   */
  upcallsInstalled?(): void;
  /**
   * Main thread only, after a worker died: releases the locks the
   * translation's shared state (rule statistics, MAC table, recirculation
   * ids) held by lock owner `owner`. May not block.
   */
  releaseLocksOf?(owner: number): void;
  /**
   * Stats transactions, for rule statistics pushed exactly once
   * (worker_journal.ts). After beginStats(), what translate() and
   * pushStats() credit to rules is staged in this thread, not published;
   * commitStats() publishes all of it at once, calling `committing(token)`
   * at the commit point: the credits are written, not yet visible, and
   * `completeStatsCommit(owner, token)` on the main thread would make
   * them visible if their thread died right then. Without these methods,
   * credits are published as they are made.
   */
  beginStats?(): void;
  commitStats?(committing: (token: number) => void): void;
  /** Main thread only: finishes the commit a dead worker (`owner`) was making at `token`. */
  completeStatsCommit?(owner: number, token: number): void;
}

/** Translation inside a worker: udpif's needs plus applying updates from the main thread. */
export interface WorkerXlate extends UdpifXlate {
  update(data: unknown): void;
  /**
   * A structured-clonable account of an xlate cache this worker made, for
   * `ofproto/detrace` on the main thread (XcacheDescription); undefined
   * when `xcache` is not one of this module's. Called by a revalidator
   * worker between its phases; never blocks.
   */
  describeXcache?(xcache: unknown): XcacheDescription | undefined;
}

/** What an xlate cache says about the OpenFlow side of a datapath flow. */
export interface XcacheDescription {
  /** The bridge whose tables the lookups were in. */
  bridge: string;
  /**
   * The cache's entries in translation order, two numbers each: a table
   * lookup (table id, then rule id or -1 for no match) or a group use
   * (-1, then the group's stats id: group and bucket, ofproto's groupStatsId).
   */
  lookups: number[];
  /**
   * The bridge (its id in the datapath backer) of each entry of
   * `lookups`, one per two numbers: a patch port leads into another
   * bridge's tables. Absent: all are `bridge`'s.
   */
  lookupBridges?: number[];
}

/** What a worker's xlate module exports (named `createUdpifXlate`). */
export type CreateUdpifXlate = (init: unknown) => WorkerXlate | Promise<WorkerXlate>;

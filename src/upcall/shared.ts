/**
 * The udpif control block: the handful of words every handler, every
 * revalidator and the main thread share (OVS keeps them in `struct udpif`).
 *
 * Int32 words (seqs and flags) come first, then Float64 slots for times.
 * Writers per word are listed beside each constant; "any" words are only
 * changed with Atomics.
 */
import { releaseIfHeldBy, Seq, spinTryLock, spinUnlock } from "../lib/mod.ts";

/** OVS's defaults (ofproto.h / ofproto.c). */
export const OFPROTO_FLOW_LIMIT_DEFAULT = 200000;
export const OFPROTO_MAX_IDLE_DEFAULT = 10000;
export const OFPROTO_MAX_REVALIDATOR_DEFAULT = 500;
export const OFPROTO_MIN_REVALIDATE_PPS_DEFAULT = 5;

const W = {
  /** Rung by every seq/latch below; the leader sleeps on it. (any) */
  BELL: 0,
  /** Bumped when translations may have changed (udpif_revalidate). (main) */
  REVAL_SEQ: 1,
  /** Bumped by the leader after each dump. (leader) */
  DUMP_SEQ: 2,
  /** Dynamic flow limit. (leader, main via set-flow-limit) */
  FLOW_LIMIT: 3,
  /** Cached datapath flow count and its refresh lock. (any) */
  N_FLOWS: 4,
  N_FLOWS_MUTEX: 5,
  AVG_N_FLOWS: 6,
  MAX_N_FLOWS: 7,
  /** Last dump duration, ms. (leader) */
  DUMP_DURATION: 8,
  /** Latches and the leader's decision for this round. */
  EXIT_LATCH: 9,
  PAUSE_LATCH: 10,
  REVAL_EXIT: 11,
  PAUSE: 12,
  /** Global toggles. (main) */
  ENABLE_MEGAFLOWS: 13,
  ENABLE_UFID: 14,
  /** other_config values. (main) */
  CFG_FLOW_LIMIT: 15,
  CFG_MAX_IDLE: 16,
  CFG_MAX_REVALIDATOR: 17,
  CFG_MIN_REVALIDATE_PPS: 18,
  N_REVALIDATORS: 19,
  /** Whether the datapath supports UFIDs (rt_support.ufid). (main) */
  DP_UFID: 20,
  /** Translation-state updates posted to workers so far. (main) */
  UPDATE_SEQ: 21,
  /** Miss upcalls handlers have finished with (installed, executed or dropped). (handlers) */
  HANDLED: 22,
  /** 1 while the leader sleeps between cycles. (leader) */
  LEADER_ASLEEP: 23,
  /** clockWarps() up to which every warp has had its cycle, or none is due. (leader) */
  WARPS_ANSWERED: 24,
  /** Lock owner ids handed to workers so far. (main) */
  NEXT_OWNER: 25,
  /** The OVS release whose behaviour differences udpif follows (compat.ts). (main) */
  OVS_COMPAT: 26,
  /** Calls inside waitHandled(); handlers notify HANDLED only when some wait. (any) */
  HANDLED_WAITERS: 27,
  /** Ukey deletions per reason since start (deletion_reasons.ts), N_DEL_REASONS words. (any) */
  DEL_REASONS: 28,
} as const;
/** Deletion reasons counted (enum flow_del_reason's size). */
export const N_DEL_REASONS = 12;
/** Even, so that the Float64 slot after the words is aligned. */
const N_WORDS = (W.DEL_REASONS + N_DEL_REASONS + 1) & ~1;
/** Float64 slot: time of the last n_flows refresh (OVS time, ms). */
const F_N_FLOWS_TS = N_WORDS / 2;
export const UDPIF_SHARED_BYTES = N_WORDS * 4 + 8;

export class UdpifShared {
  readonly buffer: SharedArrayBuffer;
  readonly #w: Int32Array;
  readonly #f: Float64Array;
  readonly bell: Seq;
  readonly revalSeq: Seq;
  readonly dumpSeq: Seq;

  constructor(buffer: SharedArrayBuffer) {
    this.buffer = buffer;
    this.#w = new Int32Array(buffer, 0, N_WORDS);
    this.#f = new Float64Array(buffer, 0, N_WORDS / 2 + 1);
    this.bell = new Seq(this.#w, W.BELL);
    this.revalSeq = new Seq(this.#w, W.REVAL_SEQ, this.bell);
    this.dumpSeq = new Seq(this.#w, W.DUMP_SEQ, this.bell);
  }

  /** A fresh control block with OVS's defaults (udpif_create). */
  static create(): UdpifShared {
    const s = new UdpifShared(new SharedArrayBuffer(UDPIF_SHARED_BYTES));
    const w = s.#w;
    w[W.BELL] = 1;
    w[W.REVAL_SEQ] = 1;
    w[W.DUMP_SEQ] = 1;
    w[W.CFG_FLOW_LIMIT] = OFPROTO_FLOW_LIMIT_DEFAULT;
    w[W.CFG_MAX_IDLE] = OFPROTO_MAX_IDLE_DEFAULT;
    w[W.CFG_MAX_REVALIDATOR] = OFPROTO_MAX_REVALIDATOR_DEFAULT;
    w[W.CFG_MIN_REVALIDATE_PPS] = OFPROTO_MIN_REVALIDATE_PPS_DEFAULT;
    w[W.FLOW_LIMIT] = Math.min(OFPROTO_FLOW_LIMIT_DEFAULT, 10000);
    w[W.DUMP_DURATION] = 0;
    w[W.ENABLE_MEGAFLOWS] = 1;
    w[W.ENABLE_UFID] = 1;
    w[W.DP_UFID] = 1;
    s.#f[F_N_FLOWS_TS] = -Infinity;
    return s;
  }

  #get(i: number): number {
    return Atomics.load(this.#w, i);
  }
  #set(i: number, v: number): void {
    Atomics.store(this.#w, i, v);
  }

  get flowLimit(): number {
    return this.#get(W.FLOW_LIMIT) >>> 0;
  }
  set flowLimit(v: number) {
    this.#set(W.FLOW_LIMIT, v >>> 0);
  }
  get avgNFlows(): number {
    return this.#get(W.AVG_N_FLOWS) >>> 0;
  }
  set avgNFlows(v: number) {
    this.#set(W.AVG_N_FLOWS, v);
  }
  get maxNFlows(): number {
    return this.#get(W.MAX_N_FLOWS) >>> 0;
  }
  set maxNFlows(v: number) {
    this.#set(W.MAX_N_FLOWS, v);
  }
  get dumpDuration(): number {
    return this.#get(W.DUMP_DURATION);
  }
  set dumpDuration(v: number) {
    this.#set(W.DUMP_DURATION, v);
  }
  get megaflows(): boolean {
    return this.#get(W.ENABLE_MEGAFLOWS) !== 0;
  }
  set megaflows(v: boolean) {
    this.#set(W.ENABLE_MEGAFLOWS, v ? 1 : 0);
  }
  get ufid(): boolean {
    return this.#get(W.ENABLE_UFID) !== 0;
  }
  set ufid(v: boolean) {
    this.#set(W.ENABLE_UFID, v ? 1 : 0);
  }
  set dpSupportsUfid(v: boolean) {
    this.#set(W.DP_UFID, v ? 1 : 0);
  }
  /** udpif_use_ufid(): enabled and supported by the datapath. */
  get useUfid(): boolean {
    return this.ufid && this.#get(W.DP_UFID) !== 0;
  }
  get cfgFlowLimit(): number {
    return this.#get(W.CFG_FLOW_LIMIT) >>> 0;
  }
  set cfgFlowLimit(v: number) {
    this.#set(W.CFG_FLOW_LIMIT, v);
  }
  get maxIdle(): number {
    return this.#get(W.CFG_MAX_IDLE) >>> 0;
  }
  set maxIdle(v: number) {
    this.#set(W.CFG_MAX_IDLE, v);
  }
  get maxRevalidator(): number {
    return this.#get(W.CFG_MAX_REVALIDATOR) >>> 0;
  }
  set maxRevalidator(v: number) {
    this.#set(W.CFG_MAX_REVALIDATOR, v);
  }
  get minRevalidatePps(): number {
    return this.#get(W.CFG_MIN_REVALIDATE_PPS) >>> 0;
  }
  set minRevalidatePps(v: number) {
    this.#set(W.CFG_MIN_REVALIDATE_PPS, v);
  }
  get nRevalidators(): number {
    return this.#get(W.N_REVALIDATORS);
  }
  set nRevalidators(v: number) {
    this.#set(W.N_REVALIDATORS, v);
  }

  /** Count of xlate updates posted; a worker behind it yields to take its messages. */
  get updateSeq(): number {
    return this.#get(W.UPDATE_SEQ);
  }
  bumpUpdateSeq(): number {
    return Atomics.add(this.#w, W.UPDATE_SEQ, 1) + 1;
  }

  /** Miss upcalls handled so far (the datapath's `missed` counts them queued). */
  get upcallsHandled(): number {
    return this.#get(W.HANDLED);
  }
  /**
   * Counts `n` more upcalls handled. The notify, which takes V8's futex
   * lock and wakes the waiter's event loop, is paid only while someone
   * waits: a waiter registers before it reads HANDLED and the count is
   * added before the waiters are read (both sequentially consistent), so
   * a waiter either sees the new count or is notified.
   */
  addHandled(n: number): void {
    Atomics.add(this.#w, W.HANDLED, n);
    if (Atomics.load(this.#w, W.HANDLED_WAITERS) !== 0) Atomics.notify(this.#w, W.HANDLED);
  }
  /** Resolves once at least `n` miss upcalls have been handled in all. */
  async waitHandled(n: number, signal?: AbortSignal): Promise<void> {
    if (this.#get(W.HANDLED) >= n) return;
    Atomics.add(this.#w, W.HANDLED_WAITERS, 1);
    try {
      for (;;) {
        const v = this.#get(W.HANDLED);
        if (v >= n || signal?.aborted) return;
        const r = Atomics.waitAsync(this.#w, W.HANDLED, v, 200);
        if (r.async) await r.value;
      }
    } finally {
      Atomics.sub(this.#w, W.HANDLED_WAITERS, 1);
    }
  }

  get leaderAsleep(): boolean {
    return this.#get(W.LEADER_ASLEEP) !== 0;
  }
  set leaderAsleep(v: boolean) {
    this.#set(W.LEADER_ASLEEP, v ? 1 : 0);
    Atomics.notify(this.#w, W.LEADER_ASLEEP);
  }
  get warpsAnswered(): number {
    return this.#get(W.WARPS_ANSWERED);
  }
  set warpsAnswered(v: number) {
    this.#set(W.WARPS_ANSWERED, v);
    Atomics.notify(this.#w, W.WARPS_ANSWERED);
  }
  /** Resolves once warpsAnswered reaches `warps`, a latch is set, or `signal` aborts. */
  async waitWarpsAnswered(warps: number, signal?: AbortSignal): Promise<void> {
    for (;;) {
      const v = this.#get(W.WARPS_ANSWERED);
      if (v >= warps || this.exitLatch || this.pauseLatch || signal?.aborted) return;
      const r = Atomics.waitAsync(this.#w, W.WARPS_ANSWERED, v, 200);
      if (r.async) await r.value;
    }
  }

  /**
   * Resolves once the leader sleeps between cycles: a warp then starts
   * the next cycle instead of stretching a dump in progress.
   */
  async waitLeaderAsleep(signal?: AbortSignal): Promise<void> {
    while (!signal?.aborted && this.#get(W.LEADER_ASLEEP) === 0) {
      const r = Atomics.waitAsync(this.#w, W.LEADER_ASLEEP, 0, 200);
      if (r.async) await r.value;
    }
  }

  /** Latches: set by the main thread, observed by the leader. */
  get exitLatch(): boolean {
    return this.#get(W.EXIT_LATCH) !== 0;
  }
  setExitLatch(v: boolean): void {
    this.#set(W.EXIT_LATCH, v ? 1 : 0);
    this.bell.change();
  }
  get pauseLatch(): boolean {
    return this.#get(W.PAUSE_LATCH) !== 0;
  }
  setPauseLatch(v: boolean): void {
    this.#set(W.PAUSE_LATCH, v ? 1 : 0);
    this.bell.change();
  }
  /** The leader's reading of the latches for this round, seen by all. */
  get revalExit(): boolean {
    return this.#get(W.REVAL_EXIT) !== 0;
  }
  set revalExit(v: boolean) {
    this.#set(W.REVAL_EXIT, v ? 1 : 0);
  }
  get pause(): boolean {
    return this.#get(W.PAUSE) !== 0;
  }
  set pause(v: boolean) {
    this.#set(W.PAUSE, v ? 1 : 0);
  }

  /**
   * udpif_get_n_flows(): the datapath's flow count, refreshed at most
   * every 100 ms of OVS time by whichever thread asks first (the others,
   * and anyone who loses the refresh lock, read the cached value).
   */
  nFlows(now: number, fetch: () => number): number {
    const ts = this.#f[F_N_FLOWS_TS];
    if (ts < now - 100 && spinTryLock(this.#w, W.N_FLOWS_MUTEX)) {
      this.#f[F_N_FLOWS_TS] = now;
      const n = fetch();
      this.#set(W.N_FLOWS, n);
      spinUnlock(this.#w, W.N_FLOWS_MUTEX);
      return n;
    }
    return this.#get(W.N_FLOWS) >>> 0;
  }

  /** The OVS behaviour followed where releases differ (compat.ts's OVS_COMPAT_*). */
  get ovsCompat(): number {
    return this.#get(W.OVS_COMPAT);
  }
  set ovsCompat(v: number) {
    this.#set(W.OVS_COMPAT, v);
  }
  /** True when following OVS 3.1 (`other_config:ovs-compat=3.1`). */
  get compat31(): boolean {
    return this.#get(W.OVS_COMPAT) !== 0;
  }

  /** Counts one ukey deletion for `reason` (an FDR_* of deletion_reasons.ts). */
  countDeletion(reason: number): void {
    Atomics.add(this.#w, W.DEL_REASONS + reason, 1);
  }
  /** Ukey deletions for `reason` since start. */
  deletions(reason: number): number {
    return this.#get(W.DEL_REASONS + reason) >>> 0;
  }

  /** Releases the locks here that `owner`, a dead worker, held. */
  releaseLocksOf(owner: number): number {
    return releaseIfHeldBy(this.#w, W.N_FLOWS_MUTEX, owner) ? 1 : 0;
  }

  /** A fresh lock owner id for a new worker (ids 1 and below are the main thread's). */
  nextLockOwner(): number {
    return Atomics.add(this.#w, W.NEXT_OWNER, 1) + 2;
  }
}

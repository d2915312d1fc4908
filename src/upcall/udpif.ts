/**
 * The udpif on the main thread (struct udpif and its lifecycle): creates
 * the shared memory, starts and stops the handler and revalidator workers,
 * applies other_config, forwards translation updates, and answers the
 * upcall/revalidator commands (commands.ts formats them).
 */
import { clockWaitWord, clockWarps, getLogger } from "../lib/mod.ts";
import { Dpif, type DpifNetdev } from "../dpif/mod.ts";
import { adviseHugePages } from "../netdev/mod.ts";
import { DpifBinding, DUMP_CURSOR_BYTES } from "./dpif_binding.ts";
import { initialFlowLimit } from "./flow_limit.ts";
import type { UdpifContext } from "./handler.ts";
import type { UdpifXlate } from "./ports.ts";
import { Revalidator } from "./revalidator.ts";
import { UdpifShared } from "./shared.ts";
import { countCpuCores, threadCounts } from "./threads.ts";
import { N_UMAPS, UkeyTable } from "./ukey_table.ts";
import { WorkerSupervisor } from "./worker_supervisor.ts";

const log = getLogger("ofproto_dpif_upcall");

export interface UdpifOptions {
  /** The datapath, opened by the main thread. */
  dp: DpifNetdev;
  /** Module exporting `createUdpifXlate(init)`, loaded by every worker. */
  xlateModule: string;
  /** Structured-clonable state a worker's translation starts from. */
  xlateInit: unknown;
  /** Translation on the main thread (purge and flush push final stats with it). */
  mainXlate: UdpifXlate;
  /**
   * The translation state now, every update posted so far included
   * (structured-clonable, like `xlateInit`): what new workers start from
   * once the log of updates has grown to XLATE_LOG_MAX, so that the log
   * (every rule change ever made, otherwise) stays bounded.
   */
  xlateSnapshot?: () => unknown;
  /** Ukeys the table can hold (default: the datapath's flow capacity). */
  ukeyCapacity?: number;
  /** Core count for the default thread counts (default: this machine's). */
  cores?: number;
}

/** udpif_set_threads()'s inputs: other_config values, 0 when unset. */
export interface UdpifConfig {
  flowLimit?: number;
  maxIdle?: number;
  maxRevalidator?: number;
  minRevalidatePps?: number;
  nHandlerThreads?: number;
  nRevalidatorThreads?: number;
  /** OVS_COMPAT_* (compat.ts). */
  ovsCompat?: number;
}

/** Updates kept for workers yet to start before the log is replaced by a snapshot. */
export const XLATE_LOG_MAX = 256;

const all: Udpif[] = [];

/** Every live udpif (all_udpifs). */
export function allUdpifs(): readonly Udpif[] {
  return all;
}

export class Udpif {
  readonly shared: UdpifShared;
  readonly ukeys: UkeyTable;
  readonly dp: DpifNetdev;
  readonly #opts: UdpifOptions;
  readonly #cursor = new SharedArrayBuffer(DUMP_CURSOR_BYTES);
  readonly #ctx: UdpifContext;
  /** The handler and revalidator workers (worker_supervisor.ts). */
  readonly workers: WorkerSupervisor;
  /** Updates since the translation state new workers start from. */
  readonly #updates: { seq: number; data: unknown }[] = [];
  #xlateInit: unknown;
  /** The update seq that state already includes. */
  #xlateInitSeq = 0;
  #clockWatch = true;
  #cfgHandlers = 0;
  #cfgRevalidators = 0;

  constructor(opts: UdpifOptions) {
    this.#opts = opts;
    this.dp = opts.dp;
    this.#xlateInit = opts.xlateInit;
    this.shared = UdpifShared.create();
    this.shared.flowLimit = initialFlowLimit(this.shared.cfgFlowLimit);
    this.ukeys = UkeyTable.create(
      opts.ukeyCapacity ??
        opts.dp.activePmds().reduce((n, k) => n + opts.dp.shared.pmds[k].table.capacity, 0),
    );
    adviseHugePages(this.ukeys.buffer);
    this.#ctx = {
      shared: this.shared,
      ukeys: this.ukeys,
      dpif: new DpifBinding(opts.dp, this.#cursor),
      xlate: opts.mainXlate,
    };
    this.workers = new WorkerSupervisor({
      ctx: this.#ctx,
      dp: opts.dp,
      cursor: this.#cursor,
      xlateModule: opts.xlateModule,
      xlateState: () => ({
        init: this.#xlateInit,
        seq: this.#xlateInitSeq,
        updates: this.#updates,
      }),
      releaseXlateLocks: (owner) => opts.mainXlate.releaseLocksOf?.(owner),
    });
    all.push(this);
    this.#watchClock();
  }

  get name(): string {
    return this.dp.name;
  }
  get nHandlers(): number {
    return this.workers.nHandlers;
  }
  get nRevalidators(): number {
    return this.workers.nRevalidators;
  }
  get revalidatorTids(): readonly number[] {
    return this.workers.revalidatorTids;
  }

  /** A time/warp or time/stop must wake a sleeping leader: ring its bell. */
  async #watchClock(): Promise<void> {
    const { array, index } = clockWaitWord();
    while (this.#clockWatch) {
      const v = Atomics.load(array, index);
      const r = Atomics.waitAsync(array, index, v, 1000);
      if (r.async) await r.value;
      if (Atomics.load(array, index) !== v) this.shared.bell.change();
    }
  }

  /** Applies other_config (ofproto_set_flow_limit and friends), then the thread counts. */
  async configure(cfg: UdpifConfig): Promise<void> {
    const s = this.shared;
    if (cfg.flowLimit !== undefined) s.cfgFlowLimit = cfg.flowLimit;
    if (cfg.maxIdle !== undefined) s.maxIdle = cfg.maxIdle;
    if (cfg.maxRevalidator !== undefined) s.maxRevalidator = cfg.maxRevalidator;
    if (cfg.minRevalidatePps !== undefined) s.minRevalidatePps = cfg.minRevalidatePps;
    if (cfg.ovsCompat !== undefined) {
      s.ovsCompat = cfg.ovsCompat;
      this.ukeys.stateNumbers31 = s.compat31;
    }
    if (cfg.nHandlerThreads !== undefined) this.#cfgHandlers = cfg.nHandlerThreads;
    if (cfg.nRevalidatorThreads !== undefined) this.#cfgRevalidators = cfg.nRevalidatorThreads;
    await this.setThreads(this.#cfgHandlers, this.#cfgRevalidators);
  }

  /** udpif_set_threads(): restarts the threads when the counts change. */
  async setThreads(nHandlers: number, nRevalidators: number): Promise<void> {
    const want = threadCounts(nHandlers, nRevalidators, this.#opts.cores ?? countCpuCores());
    // Each PMD feeds handlers of its own (DpifNetdev.handlersSet).
    want.handlers = Math.max(want.handlers, this.dp.activePmds().length);
    if (this.nHandlers !== want.handlers || this.nRevalidators !== want.revalidators) {
      log.info(
        `Setting n-handler-threads to ${want.handlers}, setting n-revalidator-threads to ${want.revalidators}`,
      );
      await this.stopThreads(true);
    }
    if (!this.nHandlers && !this.nRevalidators) {
      log.info(`Starting ${want.handlers + want.revalidators} threads`);
      this.dp.handlersSet(want.handlers);
      await this.startThreads(want.handlers, want.revalidators);
    }
  }

  /**
   * After the datapath's PMD set changed at run time: each PMD needs a
   * handler of its own, so with fewer handlers than PMDs the threads are
   * restarted with more. The flows stay (their PMDs did not change; OVS,
   * whose handlers serve every PMD, restarts nothing here).
   */
  async fitHandlersToPmds(): Promise<void> {
    const nPmds = this.dp.activePmds().length;
    if (!this.nHandlers || this.nHandlers >= nPmds) return;
    const revalidators = this.nRevalidators;
    log.info(
      `Setting n-handler-threads to ${nPmds}, setting n-revalidator-threads to ${revalidators}`,
    );
    await this.stopThreads(false);
    log.info(`Starting ${nPmds + revalidators} threads`);
    this.dp.handlersSet(nPmds);
    await this.startThreads(nPmds, revalidators);
  }

  /** udpif_start_threads(). */
  async startThreads(nHandlers: number, nRevalidators: number): Promise<void> {
    if (!nHandlers || !nRevalidators) return;
    this.shared.nRevalidators = nRevalidators;
    this.shared.setExitLatch(false);
    this.shared.setPauseLatch(false);
    await this.workers.start(nHandlers, nRevalidators);
  }

  /** udpif_stop_threads(): with `deleteFlows`, purges every flow that has a ukey. */
  async stopThreads(deleteFlows: boolean): Promise<void> {
    if (!this.nHandlers && !this.nRevalidators) return;
    // Paused revalidators wait for a resume, not for the exit latch.
    await this.resume();
    await this.workers.stop(() => {
      this.shared.setExitLatch(true);
      for (let h = 0; h < this.nHandlers; h++) {
        const w = this.dp.recvWaitWord(h);
        Atomics.notify(w.array, w.index);
      }
    });
    if (deleteFlows) this.purge();
    this.shared.setExitLatch(false);
    this.ukeys.quiesce((id) => this.#ctx.xlate.releaseRecirc?.(id));
  }

  /** revalidator_purge() for every revalidator slice, from this thread. */
  purge(): void {
    const n = Math.max(this.nRevalidators, 1);
    const saved = this.shared.nRevalidators;
    this.shared.nRevalidators = n;
    for (let i = 0; i < n; i++) new Revalidator(this.#ctx, i).sweep(true);
    this.shared.nRevalidators = saved;
  }

  /** udpif_revalidate(): translations may have changed. */
  revalidate(): void {
    this.shared.revalSeq.change();
  }

  /** Sends a translation-state update to every worker, in order. */
  postXlateUpdate(data: unknown): void {
    const seq = this.shared.bumpUpdateSeq();
    this.#updates.push({ seq, data });
    for (const w of this.workers.workers()) w.postMessage({ type: "xlate-update", seq, data });
    const snapshot = this.#opts.xlateSnapshot;
    if (snapshot && this.#updates.length >= XLATE_LOG_MAX) this.compactXlateState(snapshot());
  }

  /** Updates new workers would replay after their start state (bounded by XLATE_LOG_MAX with `xlateSnapshot`). */
  get xlateLogLength(): number {
    return this.#updates.length;
  }

  /**
   * Replaces the state new workers start from with one that includes
   * every update posted so far, so the update history need not be kept.
   */
  compactXlateState(init: unknown): void {
    this.#xlateInit = init;
    this.#xlateInitSeq = this.shared.updateSeq;
    this.#updates.length = 0;
  }

  /** udpif_flush(): stop (purging), flush the datapath, start again. */
  async flush(): Promise<void> {
    const h = this.nHandlers, r = this.nRevalidators;
    await this.stopThreads(true);
    // Through the dpif wrapper, so that it counts dpif_flow_flush.
    new Dpif(this.dp).flowFlush();
    await this.startThreads(h, r);
  }

  /** udpif_pause_revalidators(): returns once every revalidator is parked. */
  async pause(): Promise<void> {
    const b = this.workers.pauseBarrier;
    if (!b || this.shared.pauseLatch) return;
    this.shared.setPauseLatch(true);
    await b.blockAsync(this.nRevalidators);
  }

  /** udpif_resume_revalidators(). */
  async resume(): Promise<void> {
    const b = this.workers.pauseBarrier;
    if (!b || !this.shared.pauseLatch) return;
    this.shared.setPauseLatch(false);
    await b.blockAsync(this.nRevalidators);
  }

  /** Resolves once the revalidators finish a dump (dump_seq changes). */
  async waitDump(signal?: AbortSignal): Promise<void> {
    const seen = this.shared.dumpSeq.read();
    while (this.shared.dumpSeq.read() === seen && !signal?.aborted) {
      await this.shared.dumpSeq.waitAsync(seen, 200);
    }
  }

  /**
   * Resolves once the revalidators have answered every clock warp so far:
   * a leader asleep at a warp runs one cycle first. In OVS every thread's
   * poll loop wakes on a warp and ovs-vswitchd pauses 10 ms after each
   * warp step, in which a small dump ends; so what follows time/warp's
   * reply sees that cycle.
   */
  async warpAnswered(signal?: AbortSignal): Promise<void> {
    if (!this.nRevalidators) return;
    await this.shared.waitWarpsAnswered(clockWarps(), signal);
  }

  /**
   * Resolves once the handlers have dealt with every upcall the datapath
   * has queued so far (as OVS's dummy datapath has when netdev-dummy/receive
   * returns, since there the upcall runs in the receiving thread).
   */
  async waitUpcallsHandled(signal?: AbortSignal): Promise<void> {
    await this.shared.waitHandled(this.dp.getStats().missed, signal);
  }

  /** Keys per revalidator, counted over its umaps (i, i + n, ...). */
  keysPerRevalidator(): number[] {
    const n = this.nRevalidators;
    return Array.from({ length: n }, (_, i) => {
      let k = 0;
      for (let j = i; j < N_UMAPS; j += n) k += this.ukeys.umapCount(j);
      return k;
    });
  }

  /** udpif_get_n_flows(), as upcall/show reads it. */
  nFlows(now: number): number {
    return this.shared.nFlows(now, () => this.dp.getStats().flows);
  }

  /** Stops the threads (keeping datapath flows) and the workers. */
  async destroy(): Promise<void> {
    await this.stopThreads(false);
    this.workers.destroy();
    this.#clockWatch = false;
    const { array, index } = clockWaitWord();
    Atomics.notify(array, index);
    const i = all.indexOf(this);
    if (i >= 0) all.splice(i, 1);
  }
}

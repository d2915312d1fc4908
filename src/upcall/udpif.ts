/**
 * The udpif on the main thread (struct udpif and its lifecycle): creates
 * the shared memory, starts and stops the handler and revalidator workers,
 * applies other_config, forwards translation updates, and answers the
 * upcall/revalidator commands (commands.ts formats them).
 */
import {
  Barrier,
  clockBuffer,
  clockWaitWord,
  clockWarps,
  coverageBuffer,
  getLogger,
  logBuffer,
} from "../lib/mod.ts";
import { Dpif, type DpifNetdev } from "../dpif/mod.ts";
import { DpifBinding, DUMP_CURSOR_BYTES } from "./dpif_binding.ts";
import { initialFlowLimit } from "./flow_limit.ts";
import type { UdpifContext } from "./handler.ts";
import type { UdpifXlate } from "./ports.ts";
import type { UdpifWorkerMessage, UdpifWorkerReply } from "./protocol.ts";
import { Revalidator } from "./revalidator.ts";
import { UdpifShared } from "./shared.ts";
import { countCpuCores, threadCounts } from "./threads.ts";
import { N_UMAPS, UkeyTable } from "./ukey_table.ts";

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

interface WorkerSlot {
  worker: Worker;
  ready: Promise<void>;
  exited?: () => void;
  /** The run it is doing, to restart it if the worker's loop dies. */
  running?: UdpifWorkerMessage;
  /** Its loop died and was not restarted. */
  dead?: boolean;
}

/** udpif_set_threads()'s inputs: other_config values, 0 when unset. */
export interface UdpifConfig {
  flowLimit?: number;
  maxIdle?: number;
  maxRevalidator?: number;
  minRevalidatePps?: number;
  nHandlerThreads?: number;
  nRevalidatorThreads?: number;
}

/** Updates kept for workers yet to start before the log is replaced by a snapshot. */
export const XLATE_LOG_MAX = 256;

const all: Udpif[] = [];
let nextTid = 1;

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
  /** Idle revalidator workers. */
  readonly #pool: WorkerSlot[] = [];
  /**
   * Handler h always runs on the same worker: an upcall queue has one
   * consumer, whose read position lives in that worker's dpif handle.
   */
  readonly #handlerWorkers: WorkerSlot[] = [];
  #handlers: WorkerSlot[] = [];
  #revalidators: WorkerSlot[] = [];
  /** Thread ids of the running revalidators, as upcall/show prints them. */
  #revalidatorTids: number[] = [];
  #pauseBarrier: Barrier | undefined;
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
    this.ukeys = UkeyTable.create(opts.ukeyCapacity ?? opts.dp.shared.table.capacity);
    this.#ctx = {
      shared: this.shared,
      ukeys: this.ukeys,
      dpif: new DpifBinding(opts.dp, this.#cursor),
      xlate: opts.mainXlate,
    };
    all.push(this);
    this.#watchClock();
  }

  get name(): string {
    return this.dp.name;
  }
  get nHandlers(): number {
    return this.#handlers.length;
  }
  get nRevalidators(): number {
    return this.#revalidators.length;
  }
  get revalidatorTids(): readonly number[] {
    return this.#revalidatorTids;
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
    if (cfg.nHandlerThreads !== undefined) this.#cfgHandlers = cfg.nHandlerThreads;
    if (cfg.nRevalidatorThreads !== undefined) this.#cfgRevalidators = cfg.nRevalidatorThreads;
    await this.setThreads(this.#cfgHandlers, this.#cfgRevalidators);
  }

  /** udpif_set_threads(): restarts the threads when the counts change. */
  async setThreads(nHandlers: number, nRevalidators: number): Promise<void> {
    const want = threadCounts(nHandlers, nRevalidators, this.#opts.cores ?? countCpuCores());
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

  #spawn(): WorkerSlot {
    const worker = new Worker(new URL("./udpif_worker.ts", import.meta.url).href, {
      type: "module",
    });
    const slot: WorkerSlot = { worker, ready: Promise.resolve() };
    slot.ready = new Promise((resolve, reject) => {
      worker.onmessage = (e: MessageEvent<UdpifWorkerReply>) => {
        const m = e.data;
        if (m.type === "ready") resolve();
        else if (m.type === "exited") {
          slot.running = undefined;
          slot.exited?.();
        } else this.#failed(slot, m.message, reject);
      };
    });
    const init: UdpifWorkerMessage = {
      type: "init",
      dpType: this.dp.type,
      datapath: this.dp.buffers,
      shared: this.shared.buffer,
      ukeys: this.ukeys.buffer,
      dumpCursor: this.#cursor,
      clock: clockBuffer(),
      coverage: coverageBuffer(),
      log: logBuffer(),
      xlateModule: this.#opts.xlateModule,
      xlateInit: this.#xlateInit,
      xlateSeq: this.#xlateInitSeq,
    };
    worker.postMessage(init);
    for (const u of this.#updates) worker.postMessage({ type: "xlate-update", ...u });
    return slot;
  }

  /**
   * A worker's loop threw. A handler is started again at once (its queue
   * is its own), and so is a lone revalidator; one of several cannot
   * rejoin its peers' barrier mid-cycle, so that failure is only reported
   * (the next thread restart, e.g. a flush, brings it back).
   */
  #failed(slot: WorkerSlot, message: string, reject: (e: Error) => void): void {
    const run = slot.running;
    if (!run || run.type !== "run") {
      log.error(`udpif worker failed: ${message}`);
      reject(new Error(message));
      slot.exited?.();
      return;
    }
    const restart = !this.shared.exitLatch &&
      (run.role === "handler" || this.#revalidators.length === 1);
    log.error(`${run.role} ${run.index} died${restart ? ", restarting it" : ""}: ${message}`);
    if (restart) slot.worker.postMessage(run);
    else {
      slot.running = undefined;
      slot.dead = true;
      slot.exited?.();
    }
  }

  #take(): WorkerSlot {
    return this.#pool.pop() ?? this.#spawn();
  }

  /** udpif_start_threads(). */
  async startThreads(nHandlers: number, nRevalidators: number): Promise<void> {
    if (!nHandlers || !nRevalidators) return;
    this.shared.nRevalidators = nRevalidators;
    this.shared.setExitLatch(false);
    this.shared.setPauseLatch(false);
    const barrier = Barrier.create(nRevalidators);
    this.#pauseBarrier = Barrier.create(nRevalidators + 1);
    const run = (slot: WorkerSlot, role: "handler" | "revalidator", index: number) => {
      const m: UdpifWorkerMessage = {
        type: "run",
        role,
        index,
        barrier: barrier.buffer,
        pauseBarrier: this.#pauseBarrier!.buffer,
      };
      slot.running = m;
      slot.worker.postMessage(m);
    };
    this.#handlers = Array.from(
      { length: nHandlers },
      (_, h) => (this.#handlerWorkers[h] ??= this.#spawn()),
    );
    this.#revalidators = Array.from({ length: nRevalidators }, () => this.#take());
    this.#revalidatorTids = [];
    this.#handlers.forEach(() => nextTid++);
    for (let i = 0; i < nRevalidators; i++) this.#revalidatorTids.push(nextTid++);
    await Promise.all([...this.#handlers, ...this.#revalidators].map((s) => s.ready));
    this.#handlers.forEach((s, i) => run(s, "handler", i));
    this.#revalidators.forEach((s, i) => run(s, "revalidator", i));
  }

  /** udpif_stop_threads(): with `deleteFlows`, purges every flow that has a ukey. */
  async stopThreads(deleteFlows: boolean): Promise<void> {
    const running = [...this.#handlers, ...this.#revalidators];
    if (!running.length) return;
    // Paused revalidators wait for a resume, not for the exit latch.
    await this.resume();
    // With a revalidator dead, its peers wait forever at their barrier:
    // those workers are dropped instead of waited for.
    const revalidatorDied = this.#revalidators.some((s) => s.dead);
    const waitFor = (revalidatorDied ? this.#handlers : running).filter((s) => !s.dead);
    const exited = waitFor.map((s) => new Promise<void>((r) => (s.exited = r)));
    this.shared.setExitLatch(true);
    for (let h = 0; h < this.#handlers.length; h++) {
      const w = this.dp.recvWaitWord(h);
      Atomics.notify(w.array, w.index);
    }
    await Promise.all(exited);
    for (const s of running) s.exited = undefined;
    if (revalidatorDied) { for (const s of this.#revalidators) s.worker.terminate(); }
    else this.#pool.push(...this.#revalidators);
    if (deleteFlows) this.purge();
    this.shared.setExitLatch(false);
    this.#handlers = [];
    this.#revalidators = [];
    this.#revalidatorTids = [];
    this.#pauseBarrier = undefined;
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
    for (const s of [...this.#handlerWorkers, ...this.#revalidators, ...this.#pool]) {
      s.worker.postMessage({ type: "xlate-update", seq, data });
    }
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
    if (!this.#pauseBarrier || this.shared.pauseLatch) return;
    this.shared.setPauseLatch(true);
    await this.#pauseBarrier.blockAsync();
  }

  /** udpif_resume_revalidators(). */
  async resume(): Promise<void> {
    if (!this.#pauseBarrier || !this.shared.pauseLatch) return;
    this.shared.setPauseLatch(false);
    await this.#pauseBarrier.blockAsync();
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
    return this.shared.nFlows(now, () => this.dp.shared.table.flowCount());
  }

  /** Stops the threads (keeping datapath flows) and the workers. */
  async destroy(): Promise<void> {
    await this.stopThreads(false);
    for (const s of [...this.#pool, ...this.#handlerWorkers]) s.worker.terminate();
    this.#pool.length = 0;
    this.#handlerWorkers.length = 0;
    this.#clockWatch = false;
    const { array, index } = clockWaitWord();
    Atomics.notify(array, index);
    const i = all.indexOf(this);
    if (i >= 0) all.splice(i, 1);
  }
}

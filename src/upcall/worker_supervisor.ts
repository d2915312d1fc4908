/**
 * The main thread's keeper of udpif's handler and revalidator workers:
 * starts them (udpif_start_threads), stops them (udpif_stop_threads), and
 * restarts one that dies, which OVS never has to do (its threads cannot
 * die alone).
 *
 * A worker dies when its loop throws (it reports "error") or it fails
 * uncaught (the Worker's error event), or when it is terminated
 * (fault/kill-worker). Then, in order:
 *
 * 1. the seat becomes `dead` (worker_lifecycle.ts) and a WARN names the
 *    worker and the cause; the worker is terminated;
 * 2. the seat is fenced (worker_seats.ts): a terminated Deno worker runs
 *    on until its next await, so the cleanup waits until it is there, and
 *    from then on it can touch nothing;
 * 3. the locks it held (ukeys, umaps, allocator, n_flows, and through the
 *    translation port the rule statistics queue) are released, and the
 *    journal of what it was in the middle of is settled (worker_recovery.ts);
 * 4. a revalidator's barrier seat is kept by this thread (_barrier_seat.ts):
 *    it arrives in the dead worker's name for the rounds it owes, so the
 *    leader and the other followers finish their cycle; a dead leader's
 *    end-of-cycle duties (quiesce, dump_seq) are done here; a follower's
 *    seat is kept through whole cycles until the replacement is ready;
 * 5. a replacement worker starts on the dead one's datapath client (its
 *    rings, its upcall queue read position) with a new lock owner id,
 *    and runs with the same index; a revalidator takes its seat back at
 *    the start of a cycle (a new leader: the next cycle starts with it).
 *
 * Thread-safety: main thread only.
 */
import { Barrier, clockBuffer, coverageBuffer, getLogger, logBuffer } from "../lib/mod.ts";
import type { DpifNetdev } from "../dpif/mod.ts";
import type { UdpifContext } from "./handler.ts";
import type { XcacheDescription } from "./ports.ts";
import type { UdpifWorkerMessage, UdpifWorkerReply, UdpifWorkerRun } from "./protocol.ts";
import { WorkerLifecycle, type WorkerState } from "./worker_lifecycle.ts";
import { keepBarrierSeat } from "./_barrier_seat.ts";
import { type WorkerRole, WorkerSeats } from "./worker_seats.ts";
import type { CommitFaultPoint } from "./worker_journal.ts";
import { settleDeadWorker } from "./worker_recovery.ts";

const log = getLogger("ofproto_dpif_upcall");

interface WorkerSlot {
  worker: Worker;
  ready: Promise<void>;
  /** Its lock owner id. */
  owner: number;
  /** Its datapath client id, once ready. */
  client: number;
  /** The run it is doing. */
  running?: UdpifWorkerRun;
  /** Terminated (or replaced): messages from it are ignored. */
  gone?: boolean;
}

interface Seat {
  life: WorkerLifecycle;
  slot: WorkerSlot;
  /** Resolves when the seat's run is over (its worker exited, or it died while stopping). */
  done: Promise<void>;
  finish: () => void;
  /** Thread id, as upcall/show prints it. */
  tid: number;
}

/** What the supervisor needs from its udpif. */
export interface SupervisedUdpif {
  readonly ctx: UdpifContext;
  readonly dp: DpifNetdev;
  readonly cursor: SharedArrayBuffer;
  readonly xlateModule: string;
  /** The translation state a new worker starts from and the updates since. */
  xlateState(): { init: unknown; seq: number; updates: readonly { seq: number; data: unknown }[] };
  /** Releases translation-side locks (rule statistics) a dead worker held. */
  releaseXlateLocks(owner: number): void;
}

/** A seat as fault/show-workers shows it. */
export interface WorkerSeatInfo {
  role: WorkerRole;
  index: number;
  state: WorkerState;
  tid: number;
  restarts: number;
  lastCause: string;
}

let nextTid = 1;

export class WorkerSupervisor {
  readonly seats = WorkerSeats.create();
  readonly #u: SupervisedUdpif;
  /** Idle revalidator workers. */
  readonly #pool: WorkerSlot[] = [];
  /** Handler h always runs on the same worker (its upcall queue has one consumer). */
  readonly #handlerWorkers: WorkerSlot[] = [];
  #handlers: Seat[] = [];
  #revalidators: Seat[] = [];
  #barrier: Barrier | undefined;
  #pauseBarrier: Barrier | undefined;
  /** Recoveries in progress. */
  readonly #recovering = new Set<Promise<void>>();
  /** Xlate cache queries awaiting their worker's answer, by id. */
  readonly #xcacheQueries = new Map<number, (d: XcacheDescription | null) => void>();
  #nextQuery = 1;

  constructor(u: SupervisedUdpif) {
    this.#u = u;
  }

  get nHandlers(): number {
    return this.#handlers.length;
  }
  get nRevalidators(): number {
    return this.#revalidators.length;
  }
  get revalidatorTids(): number[] {
    return this.#revalidators.map((s) => s.tid);
  }
  get pauseBarrier(): Barrier | undefined {
    return this.#pauseBarrier;
  }

  /** Every seat, handlers first (fault/show-workers). */
  seatsInfo(): WorkerSeatInfo[] {
    return [...this.#handlers, ...this.#revalidators].map((s) => ({
      role: s.life.role,
      index: s.life.index,
      state: s.life.state,
      tid: s.tid,
      restarts: s.life.restarts,
      lastCause: s.life.lastCause,
    }));
  }

  /**
   * The xlate cache revalidator `index` holds for ukey `slot` of
   * generation `gen`, described (ofproto/detrace); null when it has none,
   * is gone, or does not answer within `timeoutMs` (a revalidator answers
   * between its phases).
   */
  queryXcache(
    index: number,
    slot: number,
    gen: number,
    timeoutMs = 5000,
  ): Promise<XcacheDescription | null> {
    const seat = this.#revalidators[index];
    if (!seat || seat.slot.gone) return Promise.resolve(null);
    const id = this.#nextQuery++;
    return new Promise((resolve) => {
      const timer = setTimeout(() => done(null), timeoutMs);
      const done = (d: XcacheDescription | null) => {
        clearTimeout(timer);
        this.#xcacheQueries.delete(id);
        resolve(d);
      };
      this.#xcacheQueries.set(id, done);
      seat.slot.worker.postMessage({ type: "xcache-query", id, slot, gen });
    });
  }

  /** Every worker that must see translation updates. */
  workers(): Worker[] {
    const slots = new Set<WorkerSlot>([...this.#handlerWorkers, ...this.#pool]);
    for (const s of this.#revalidators) slots.add(s.slot);
    return [...slots].filter((s) => !s.gone).map((s) => s.worker);
  }

  #spawn(client?: number): WorkerSlot {
    const u = this.#u;
    const worker = new Worker(new URL("./udpif_worker.ts", import.meta.url).href, {
      type: "module",
    });
    const slot: WorkerSlot = {
      worker,
      ready: Promise.resolve(),
      owner: u.ctx.shared.nextLockOwner(),
      client: client ?? -1,
    };
    slot.ready = new Promise((resolve, reject) => {
      worker.onmessage = (e: MessageEvent<UdpifWorkerReply>) => {
        if (slot.gone) return;
        const m = e.data;
        if (m.type === "ready") {
          slot.client = m.dpifClient;
          resolve();
        } else if (m.type === "exited") {
          slot.running = undefined;
          this.#seatOf(slot)?.finish();
        } else if (m.type === "xcache") {
          this.#xcacheQueries.get(m.id)?.(m.description);
        } else this.#failed(slot, m.message, reject);
      };
      worker.onerror = (e: ErrorEvent) => {
        // A worker's uncaught error must not take the daemon down with it.
        e.preventDefault();
        if (!slot.gone) this.#failed(slot, e.message, reject);
      };
    });
    const state = u.xlateState();
    const init: UdpifWorkerMessage = {
      type: "init",
      dpType: u.dp.type,
      datapath: u.dp.buffers,
      dpifClient: client,
      lockOwner: slot.owner,
      seats: this.seats.buffer,
      shared: u.ctx.shared.buffer,
      ukeys: u.ctx.ukeys.buffer,
      dumpCursor: u.cursor,
      clock: clockBuffer(),
      coverage: coverageBuffer(),
      log: logBuffer(),
      xlateModule: u.xlateModule,
      xlateInit: state.init,
      xlateSeq: state.seq,
    };
    worker.postMessage(init);
    for (const up of state.updates) worker.postMessage({ type: "xlate-update", ...up });
    return slot;
  }

  #seatOf(slot: WorkerSlot): Seat | undefined {
    return [...this.#handlers, ...this.#revalidators].find((s) => s.slot === slot);
  }

  #failed(slot: WorkerSlot, message: string, reject: (e: Error) => void): void {
    const seat = this.#seatOf(slot);
    if (!seat || !slot.running) {
      log.error(`udpif worker failed: ${message}`);
      reject(new Error(message));
      return;
    }
    this.#died(seat, message.split("\n")[0], true);
  }

  /** Runs `slot` in `seat`'s place. */
  #run(seat: Seat, slot: WorkerSlot): void {
    const { role, index } = seat.life;
    const m: UdpifWorkerRun = {
      type: "run",
      role,
      index,
      barrier: this.#barrier!.buffer,
      pauseBarrier: this.#pauseBarrier!.buffer,
    };
    seat.slot = slot;
    slot.running = m;
    this.seats.seat(role, index, slot.owner);
    slot.worker.postMessage(m);
  }

  #newSeat(role: WorkerRole, index: number, slot: WorkerSlot): Seat {
    let finish = () => {};
    const done = new Promise<void>((r) => (finish = r));
    return { life: new WorkerLifecycle(role, index), slot, done, finish, tid: nextTid++ };
  }

  /** udpif_start_threads(). */
  async start(nHandlers: number, nRevalidators: number): Promise<void> {
    this.#barrier = Barrier.create(nRevalidators);
    this.#pauseBarrier = Barrier.create(nRevalidators + 1);
    this.#handlers = Array.from(
      { length: nHandlers },
      (_, h) => this.#newSeat("handler", h, this.#handlerWorkers[h] ??= this.#spawn()),
    );
    this.#revalidators = Array.from(
      { length: nRevalidators },
      (_, i) => this.#newSeat("revalidator", i, this.#pool.pop() ?? this.#spawn()),
    );
    const seats = [...this.#handlers, ...this.#revalidators];
    for (const s of seats) s.life.to("starting");
    await Promise.all(seats.map((s) => s.slot.ready));
    for (const s of seats) {
      this.#run(s, s.slot);
      s.life.to("running");
    }
  }

  /**
   * Waits for every seat's run to end once `signalExit` (which sets the
   * exit latch) is called, after any restart in progress has finished.
   */
  async stop(signalExit: () => void): Promise<void> {
    while (this.#recovering.size) await Promise.all([...this.#recovering]);
    const seats = [...this.#handlers, ...this.#revalidators];
    signalExit();
    await Promise.all(seats.map((s) => s.done));
    while (this.#recovering.size) await Promise.all([...this.#recovering]);
    for (const s of seats) s.life.to("stopped");
    this.#pool.push(...this.#revalidators.map((s) => s.slot).filter((s) => !s.gone));
    this.#handlers = [];
    this.#revalidators = [];
    this.#barrier = undefined;
    this.#pauseBarrier = undefined;
  }

  /** Terminates every idle worker (udpif destroy). */
  destroy(): void {
    for (const s of [...this.#pool, ...this.#handlerWorkers]) s.worker.terminate();
    this.#pool.length = 0;
    this.#handlerWorkers.length = 0;
  }

  #seat(role: WorkerRole, index: number): Seat {
    const seats = role === "handler" ? this.#handlers : this.#revalidators;
    const seat = seats[index];
    if (!seat) throw new RangeError(`no ${role} ${index} (there are ${seats.length})`);
    return seat;
  }

  /** fault/kill-worker: terminates the worker in a seat, as harshly as Deno can. */
  kill(role: WorkerRole, index: number): void {
    const seat = this.#seat(role, index);
    if (seat.life.state !== "running") {
      throw new Error(`${role} ${index} is ${seat.life.state}, not running`);
    }
    seat.slot.worker.terminate();
    this.#died(seat, "terminated by fault/kill-worker", false);
  }

  /**
   * fault/kill-worker --throw[=POINT]: the worker throws at its next
   * section ("section"), or at its next stats commit, just before or
   * after the commit point.
   */
  injectThrow(role: WorkerRole, index: number, point: "section" | CommitFaultPoint): void {
    const seat = this.#seat(role, index);
    if (seat.life.state !== "running") {
      throw new Error(`${role} ${index} is ${seat.life.state}, not running`);
    }
    if (point === "section") this.seats.requestThrow(role, index);
    else this.seats.journal(role, index).armFault(point);
    if (role === "handler") {
      const w = this.#u.dp.recvWaitWord(index);
      Atomics.notify(w.array, w.index);
    } else this.#u.ctx.shared.bell.change();
  }

  #died(seat: Seat, cause: string, stopped: boolean): void {
    if (!seat.life.to("dead")) return;
    const { role, index } = seat.life;
    seat.life.lastCause = cause;
    log.warn(`${role} ${index} (tid ${seat.tid}) died: ${cause}; restarting it`);
    const recovery = this.#recover(seat, stopped).catch((e) => {
      log.error(`${role} ${index}: restart failed: ${e instanceof Error ? e.message : e}`);
      seat.finish();
    });
    this.#recovering.add(recovery);
    recovery.finally(() => this.#recovering.delete(recovery));
  }

  async #recover(seat: Seat, stopped: boolean): Promise<void> {
    const { role, index } = seat.life;
    const dead = seat.slot;
    dead.gone = true;
    dead.running = undefined;
    dead.worker.terminate();
    await this.seats.fence(role, index, dead.owner, stopped);
    const u = this.#u;
    const outcome = settleDeadWorker(this.seats.journal(role, index), role, index, dead.owner, {
      ctx: u.ctx,
      dp: u.dp,
      releaseXlateLocks: u.releaseXlateLocks,
    });
    if (outcome !== "idle") log.warn(`${role} ${index}: its unfinished work was ${outcome}`);
    const ready = { ready: false };
    const seatKept = role === "revalidator"
      ? keepBarrierSeat(this.#barrier!, this.#pauseBarrier!, index, ready, u.ctx)
      : undefined;
    seat.life.to("restarting");
    const fresh = this.#spawn(dead.client);
    // Listed at once, so that it gets the translation updates posted from now on.
    if (role === "handler") this.#handlerWorkers[index] = fresh;
    seat.slot = fresh;
    await fresh.ready;
    ready.ready = true;
    const verdict = seatKept ? await seatKept : "cycle-start";
    if (verdict === "exited" || (role === "handler" && u.ctx.shared.exitLatch)) {
      // The udpif is stopping: the replacement goes idle instead.
      seat.life.to("running");
      seat.finish();
      return;
    }
    this.#run(seat, fresh);
    seat.life.to("running");
    log.info(`${role} ${index} restarted (tid ${seat.tid}, restart ${seat.life.restarts})`);
  }
}

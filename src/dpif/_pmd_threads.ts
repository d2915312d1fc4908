/**
 * The datapath's PMD threads (OVS's dp_netdev_pmd_thread set): one PMD
 * worker per configured core, or, for tests and tools, in-process PMDs
 * that run whenever a call needs them. Each PMD sits in a slot of the
 * shared buffers, whose life (free, starting, running, stopping) is the
 * state machine of _pmd_state.ts; `add` and `remove` are the steps of a
 * live reconfiguration (pmd_reconfigure.ts). A worker that dies is
 * replaced: its generation (a control word the old PMD checks) is retired
 * first, so no two PMDs ever consume the same rings, and the new one
 * rebuilds its indexes from its shared flow table.
 *
 * Thread-safety: the thread that created the datapath only.
 */
import { clockBuffer, coverageBuffer, getLogger, logBuffer, RingConsumer } from "../lib/mod.ts";
import {
  C_STOP,
  C_UPCALL_OWNER,
  type DatapathBuffers,
  type DatapathShared,
  MAX_HANDLERS,
  PC_ACTIVE,
  PC_CORE,
  PC_PMD_EXITED,
  PC_PMD_GEN,
  PC_PMD_RUNNING,
  ST_CLEARED_AT,
} from "./_shared.ts";
import { type FlowExtractFn, Pmd } from "./pmd.ts";
import { PmdStates } from "./_pmd_state.ts";
import { Emc } from "./emc.ts";
import { FlowOps } from "./flow_ops.ts";

const log = getLogger("dpif_netdev");
/** Restarts allowed per PMD per minute. */
const MAX_RESTARTS = 5;
/**
 * How long a retired PMD gets to finish its round before its worker is
 * terminated: a dead one's replacement waits little; a PMD being removed
 * gets longer, as the queues it held are handed on once it is gone.
 */
const RESTART_EXIT_WAIT_MS = 500;
const REMOVE_EXIT_WAIT_MS = 5000;

export class PmdThreads {
  /** In-process PMDs by slot (with `extract`), else none. */
  private readonly inProcess: (Pmd | undefined)[] = [];
  private readonly workers: (Worker | undefined)[] = [];
  private readonly restarts: number[][] = [];
  readonly states: PmdStates;

  constructor(
    private readonly dpName: string,
    private readonly shared: DatapathShared,
    private readonly buffers: DatapathBuffers,
    private readonly extract: FlowExtractFn | undefined,
    private readonly extractModule: string,
  ) {
    const active = shared.activePmds();
    this.states = new PmdStates(shared.nPmds, active.length);
    for (let k = 0; k < shared.nPmds; k++) this.restarts.push([]);
    for (const k of active) this.launch(k);
  }

  get inProcessRun(): boolean {
    return this.extract !== undefined;
  }

  private launch(k: number): void {
    if (this.extract) {
      this.inProcess[k] = new Pmd(this.shared, this.extract, undefined, k);
      this.states.move(k, "running");
    } else this.start(k);
  }

  private start(k: number): void {
    const ctl = this.shared.pmds[k].ctl;
    Atomics.store(ctl, PC_PMD_RUNNING, 0);
    const w = new Worker(new URL("./pmd_worker.ts", import.meta.url).href, { type: "module" });
    w.onerror = (e) => {
      // A dead PMD is reported and replaced; the flows survive in shared memory.
      e.preventDefault();
      log.error(`${this.dpName}: PMD worker ${k} died (${e.message}); restarting it`);
      this.restart(k).catch(() => {});
    };
    w.postMessage({
      type: "start",
      buffers: this.buffers,
      index: k,
      clock: clockBuffer(),
      coverage: coverageBuffer(),
      log: logBuffer(),
      extractModule: this.extractModule,
      generation: Atomics.load(ctl, PC_PMD_GEN),
    });
    this.workers[k] = w;
  }

  /**
   * Retires PMD k's worker: bumps its generation and waits (a bounded
   * time) for it to leave its loop, then terminates it.
   */
  private async retire(k: number, waitMs: number): Promise<void> {
    const w = this.workers[k];
    const pmd = this.shared.pmds[k], ctl = pmd.ctl;
    const old = Atomics.add(ctl, PC_PMD_GEN, 1);
    pmd.ring();
    const deadline = performance.now() + waitMs;
    while (w && Atomics.load(ctl, PC_PMD_EXITED) !== old + 1 && performance.now() < deadline) {
      await new Promise((r) => setTimeout(r, 1));
    }
    w?.terminate();
    this.workers[k] = undefined;
    this.inProcess[k] = undefined;
  }

  /** Replaces PMD k's worker (after it died); at most MAX_RESTARTS a minute. */
  async restart(k = 0): Promise<void> {
    if (!this.workers[k] || Atomics.load(this.shared.ctl, C_STOP) !== 0) return;
    if (this.states.get(k) !== "running" && this.states.get(k) !== "starting") return;
    const now = Date.now();
    this.restarts[k] = this.restarts[k].filter((t) => now - t < 60_000);
    // Retire the old PMD first: two PMDs must never share the rings.
    await this.retire(k, RESTART_EXIT_WAIT_MS);
    if (this.restarts[k].length >= MAX_RESTARTS) {
      log.error(`${this.dpName}: PMD worker ${k} restarted too often; giving up`);
      return;
    }
    this.restarts[k].push(now);
    this.start(k);
  }

  /**
   * Starts a PMD on `core` in free slot k (reconfigure_pmd_threads'
   * dp_netdev_configure_pmd): empty flow table (its last PMD's flows were
   * deleted when it stopped), counters from zero.
   */
  add(k: number, core: number): boolean {
    if (!this.states.move(k, "starting")) return false;
    const pmd = this.shared.pmds[k];
    // Commands sent to the slot's last PMD after it stopped are dropped,
    // not run against the new PMD's table (their clients gave up on them).
    for (const ring of pmd.cmd) {
      const stale = new RingConsumer(ring);
      while (stale.next() >= 0);
      stale.release();
    }
    pmd.stats.fill(0);
    pmd.stats[ST_CLEARED_AT] = performance.now();
    Atomics.store(pmd.ctl, PC_CORE, core);
    Atomics.store(pmd.ctl, PC_ACTIVE, 1);
    this.restarts[k] = [];
    this.launch(k);
    return true;
  }

  /**
   * Stops the PMD in slot k (dp_netdev_del_pmd): it stops polling, the
   * queues it held are let go, and its flows are deleted (the
   * revalidators then find their ukeys' flows gone).
   */
  async remove(k: number): Promise<boolean> {
    if (!this.states.move(k, "stopping")) return false;
    const sh = this.shared, pmd = sh.pmds[k];
    Atomics.store(pmd.ctl, PC_ACTIVE, 0);
    await this.retire(k, REMOVE_EXIT_WAIT_MS);
    for (let q = 0; q < MAX_HANDLERS; q++) {
      Atomics.compareExchange(sh.ctl, C_UPCALL_OWNER + q, k, -1);
    }
    for (let r = 0; r < sh.rxqOwner.length; r++) Atomics.compareExchange(sh.rxqOwner, r, k, -1);
    // The PMD is gone: this thread is now the table's only writer.
    new FlowOps(pmd.table, new Emc(pmd.table)).flush();
    // As OVS sums only the PMDs that exist, a removed PMD's counts go with it.
    pmd.stats.fill(0);
    Atomics.store(pmd.ctl, PC_PMD_RUNNING, 0);
    return this.states.move(k, "free");
  }

  /** Resolves once every starting PMD worker polls (at once for in-process PMDs). */
  async ready(): Promise<void> {
    for (const k of this.states.inState("starting")) {
      // Timers, not Atomics.waitAsync, so the wait keeps the event loop alive.
      while (this.workers[k] && Atomics.load(this.shared.pmds[k].ctl, PC_PMD_RUNNING) === 0) {
        await new Promise((r) => setTimeout(r, 1));
      }
      if (this.states.get(k) === "starting") this.states.move(k, "running");
    }
  }

  /** Runs the in-process PMDs until none has anything left to do. */
  run(): void {
    for (let busy = true, continued = false; busy; continued = true) {
      busy = false;
      for (const p of this.inProcess) if (p && p.poll(continued) > 0) busy = true;
    }
  }

  /** Wakes every PMD (runs them, in process). */
  wake(): void {
    if (this.extract) this.run();
    else this.shared.ringAll();
  }

  stop(): void {
    for (const w of this.workers) w?.terminate();
    this.workers.length = 0;
  }
}

/**
 * The datapath's PMD threads (OVS's dp_netdev_pmd_thread set): one PMD
 * worker per configured core, or, for tests and tools, in-process PMDs
 * that run whenever a call needs them. A worker that dies is replaced:
 * its generation (a control word the old PMD checks) is retired first, so
 * no two PMDs ever consume the same rings, and the new one rebuilds its
 * indexes from its shared flow table.
 *
 * Thread-safety: the thread that created the datapath only.
 */
import { clockBuffer, coverageBuffer, getLogger, logBuffer } from "../lib/mod.ts";
import {
  C_STOP,
  type DatapathBuffers,
  type DatapathShared,
  PC_PMD_EXITED,
  PC_PMD_GEN,
  PC_PMD_RUNNING,
} from "./_shared.ts";
import { type FlowExtractFn, Pmd } from "./pmd.ts";

const log = getLogger("dpif_netdev");
/** Restarts allowed per PMD per minute. */
const MAX_RESTARTS = 5;

export class PmdThreads {
  /** In-process PMDs (with `extract`), else none. */
  private readonly inProcess: Pmd[] = [];
  private readonly workers: (Worker | undefined)[] = [];
  private readonly restarts: number[][] = [];

  constructor(
    private readonly dpName: string,
    private readonly shared: DatapathShared,
    private readonly buffers: DatapathBuffers,
    extract: FlowExtractFn | undefined,
    private readonly extractModule: string,
  ) {
    for (let k = 0; k < shared.nPmds; k++) {
      this.restarts.push([]);
      if (extract) this.inProcess.push(new Pmd(shared, extract, undefined, k));
      else this.start(k);
    }
  }

  get inProcessRun(): boolean {
    return this.inProcess.length > 0;
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

  /** Replaces PMD k's worker (after it died); at most MAX_RESTARTS a minute. */
  async restart(k = 0): Promise<void> {
    const w = this.workers[k];
    if (!w || Atomics.load(this.shared.ctl, C_STOP) !== 0) return;
    const now = Date.now();
    this.restarts[k] = this.restarts[k].filter((t) => now - t < 60_000);
    // Retire the old PMD first: two PMDs must never share the rings.
    const pmd = this.shared.pmds[k], ctl = pmd.ctl;
    const old = Atomics.add(ctl, PC_PMD_GEN, 1);
    pmd.ring();
    const deadline = performance.now() + 500;
    while (Atomics.load(ctl, PC_PMD_EXITED) !== old + 1 && performance.now() < deadline) {
      await new Promise((r) => setTimeout(r, 1));
    }
    w.terminate();
    if (this.restarts[k].length >= MAX_RESTARTS) {
      log.error(`${this.dpName}: PMD worker ${k} restarted too often; giving up`);
      this.workers[k] = undefined;
      return;
    }
    this.restarts[k].push(now);
    this.start(k);
  }

  /** Resolves once every PMD worker polls (at once for in-process PMDs). */
  async ready(): Promise<void> {
    for (let k = 0; k < this.workers.length; k++) {
      // Timers, not Atomics.waitAsync, so the wait keeps the event loop alive.
      while (this.workers[k] && Atomics.load(this.shared.pmds[k].ctl, PC_PMD_RUNNING) === 0) {
        await new Promise((r) => setTimeout(r, 1));
      }
    }
  }

  /** Runs the in-process PMDs until none has anything left to do. */
  run(): void {
    for (let busy = true, continued = false; busy; continued = true) {
      busy = false;
      for (const p of this.inProcess) if (p.poll(continued) > 0) busy = true;
    }
  }

  /** Wakes every PMD (runs them, in process). */
  wake(): void {
    if (this.inProcess.length) this.run();
    else this.shared.ringAll();
  }

  stop(): void {
    for (const w of this.workers) w?.terminate();
    this.workers.length = 0;
  }
}

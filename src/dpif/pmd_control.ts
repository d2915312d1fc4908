/**
 * The datapath's PMD placement controls, as OVS's dpif_netdev_set_config
 * and dpif_netdev_port_set_config apply them: the PMD set itself (changed
 * live, pmd_reconfigure.ts), the pinning of a port's rx queues to cores
 * (Interface other_config:pmd-rxq-affinity) and whether pinning isolates
 * a PMD (other_config:pmd-rxq-isolate). Reached as `DpifNetdev.pmdControl`.
 *
 * Thread-safety: the thread that created the datapath only.
 */
import type { DatapathShared } from "./_shared.ts";
import type { DatapathPorts } from "./_ports.ts";
import type { PmdThreads } from "./_pmd_threads.ts";
import { reconfigurePmds } from "./pmd_reconfigure.ts";
import { parseRxqAffinity } from "./rxq_sched.ts";

export class PmdControl {
  /** `threads` gives the datapath's PMD threads (none for a datapath opened from another thread). */
  constructor(
    private readonly shared: DatapathShared,
    private readonly ports: DatapathPorts,
    private readonly threads: () => PmdThreads | undefined,
    private readonly wake: () => void,
  ) {}

  /**
   * Makes the PMDs those on `cores` at run time (pmd-cpu-mask changed);
   * false, changing nothing, when they do not fit the datapath's slots.
   */
  setPmdCores(cores: readonly number[]): Promise<boolean> {
    const threads = this.threads();
    if (!threads) return Promise.resolve(false);
    return reconfigurePmds(this.shared, threads, this.ports, cores);
  }

  /**
   * other_config:pmd-rxq-isolate: whether a PMD with pinned queues polls
   * only those (false is honoured only with pmd-rxq-assign=group);
   * applied at the next assignment.
   */
  setRxqIsolate(on: boolean): void {
    this.ports.rxqIsolate = on;
  }

  get rxqIsolate(): boolean {
    return this.ports.rxqIsolate;
  }

  /** Whether PMD k polls only queues pinned to it (pmd-rxq-show's "isolated"). */
  isolated(k: number): boolean {
    return this.ports.isolated.has(k);
  }

  /**
   * Interface other_config:pmd-rxq-affinity of port `portNo`
   * ("QUEUE:CORE,...", "" for none); reassigns the rx queues. Throws,
   * changing nothing, on a bad list.
   */
  setPortRxqAffinity(portNo: number, text: string): void {
    this.ports.setRxqAffinity(portNo, parseRxqAffinity(text, this.portRxqCount(portNo)));
    this.wake();
  }

  /** The rx queues of port `portNo` (options:n_rxq). */
  portRxqCount(portNo: number): number {
    return this.ports.nRxqOf(portNo);
  }
}

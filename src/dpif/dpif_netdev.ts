/**
 * The netdev datapath provider: datapath types `netdev` (`netdev@ovs-netdev`)
 * and `dummy` (`dummy@ovs-dummy`). The main thread creates it with
 * `DpifNetdev.create`, which allocates the shared buffers and either
 * starts a PMD worker or, for tests and tools, keeps an in-process PMD
 * that runs whenever a call needs it. Any worker opens the same datapath
 * with `DpifNetdev.open(buffers)` and gets its own command ring (a client
 * id); ports are managed from the creating thread only.
 */
import { decodeActions, type OdpAction } from "../flow/mod.ts";
import type { Netdev } from "../netdev/mod.ts";
import { FlowClient } from "./_flow_client.ts";
import { UpcallQueues } from "./_upcall_queues.ts";
import { DatapathPorts } from "./_ports.ts";
import { PmdThreads } from "./_pmd_threads.ts";
import {
  C_EMC_INV_PROB,
  C_NEXT_CLIENT,
  C_RECV_ENABLED,
  C_SMC_ENABLE,
  C_STOP,
  C_VLAN_LIMIT,
  createDatapathBuffers,
  type DatapathBuffers,
  DatapathShared,
  MAX_CLIENTS,
  NON_PMD_CORE_ID,
  ST_CLEARED_AT,
  ST_HIT,
  ST_LOST,
  ST_MISSED,
} from "./_shared.ts";
import type { FlowSnapshot } from "./flow_table.ts";
import { FlowDump } from "./flow_dump.ts";
import type { FlowExtractFn } from "./pmd.ts";
import { clearPmdCounters, pmdCounter, type PmdStats, readPmdStats } from "./pmd_stats.ts";
import type { DpifDpStats, DpifFlowPut, DpifOp, DpifPort, DpifProvider } from "./provider.ts";
import type { RxqAssign } from "./rxq_sched.ts";
import { logPmdsCreated } from "./pmd_reconfigure.ts";
import { PmdControl } from "./pmd_control.ts";
import type { DpifUpcall } from "./upcall.ts";

export interface DpifNetdevOptions {
  /** Flow slots per PMD (default 262144, above OVS's 200000 flow limit). */
  flowCapacity?: number;
  maskCapacity?: number;
  /** Words per handler upcall queue (power of two; default 1 << 21). */
  upcallQueueWords?: number;
  /** Run the PMDs in this thread with this flow_extract (tests, tools). */
  extract?: FlowExtractFn;
  /** Module exporting `flowExtract`, for the PMD workers (default src/flow/mod.ts). */
  extractModule?: string;
  /**
   * The cores of the PMD threads, one PMD each (other_config:pmd-cpu-mask
   * or n-pmd-threads); by default one PMD that stands for OVS's main
   * thread (NON_PMD_CORE_ID), as with OVS's non-PMD dummy ports.
   */
  pmdCores?: readonly number[];
  /**
   * PMD slots to make room for (at least one per core of pmdCores), so
   * that `pmdControl.setPmdCores` can add PMDs at run time.
   */
  pmdSlots?: number;
}

export type { PmdStats };

export class DpifNetdev implements DpifProvider {
  readonly name: string;
  readonly shared: DatapathShared;
  readonly client: number;
  private readonly flows: FlowClient;
  private readonly ports: DatapathPorts;
  private threads?: PmdThreads;
  /** The PMD set, rx queue pinning and isolation (pmd_control.ts). */
  readonly pmdControl: PmdControl;
  private readonly upcalls: UpcallQueues;

  private constructor(
    readonly type: string,
    readonly buffers: DatapathBuffers,
    owner: boolean,
    client?: number,
  ) {
    this.name = `${type}@ovs-${type}`;
    this.shared = new DatapathShared(buffers);
    if (client === undefined) {
      this.client = Atomics.add(this.shared.ctl, C_NEXT_CLIENT, 1);
    } else if (client >= 0 && client < Atomics.load(this.shared.ctl, C_NEXT_CLIENT)) {
      this.client = client;
    } else throw new RangeError(`dpif client ${client} was never opened`);
    if (this.client >= MAX_CLIENTS) throw new RangeError(`more than ${MAX_CLIENTS} dpif clients`);
    this.ports = new DatapathPorts(type, this.name, this.shared, () => this.wake());
    this.pmdControl = new PmdControl(
      this.shared,
      this.ports,
      () => this.threads,
      () => this.wake(),
    );
    this.flows = new FlowClient(this.shared, this.client, () => {
      if (!this.threads?.inProcessRun) return false;
      this.run();
      return true;
    });
    this.upcalls = new UpcallQueues(this.shared, () => {
      if (this.threads?.inProcessRun) this.run();
    });
    if (owner) {
      Atomics.store(this.shared.ctl, C_EMC_INV_PROB, -1);
      Atomics.store(this.shared.ctl, C_RECV_ENABLED, 1);
    }
  }

  /** Creates a datapath of `type` ("netdev" or "dummy") with its local port. */
  static create(type: string, opts: DpifNetdevOptions = {}): DpifNetdev {
    if (type !== "netdev" && type !== "dummy") {
      throw new RangeError(`unknown datapath type ${type}`);
    }
    const buffers = createDatapathBuffers(
      opts.flowCapacity ?? 262144,
      opts.maskCapacity ?? 1024,
      opts.upcallQueueWords,
      opts.pmdCores ?? [NON_PMD_CORE_ID],
      opts.pmdSlots,
    );
    const dp = new DpifNetdev(type, buffers, true);
    const now = performance.now();
    for (const p of dp.shared.pmds) p.stats[ST_CLEARED_AT] = now;
    dp.threads = new PmdThreads(
      dp.name,
      dp.shared,
      buffers,
      opts.extract,
      opts.extractModule ?? new URL("../flow/mod.ts", import.meta.url).href,
    );
    logPmdsCreated(dp.shared, opts.pmdCores ?? []);
    dp.ports.addLocal();
    return dp;
  }

  /**
   * Opens the datapath from another thread (flow ops, dumps, upcalls,
   * execute). With `client`, takes over the rings of a client whose thread
   * died (its replacement), instead of taking new ones: a datapath has
   * MAX_CLIENTS. Commands the dead thread reserved but never published
   * are dropped; replies it never read are skipped by their request ids.
   */
  static open(type: string, buffers: DatapathBuffers, client?: number): DpifNetdev {
    return new DpifNetdev(type, buffers, false, client);
  }

  /** How many PMD slots the datapath has (fixed at its creation): PMD indices are below it. */
  get nPmds(): number {
    return this.shared.nPmds;
  }

  /** The indices of the PMDs running now. */
  activePmds(): number[] {
    return this.shared.activePmds();
  }

  /** The core id of PMD k (NON_PMD_CORE_ID for the main-thread stand-in). */
  pmdCore(k: number): number {
    return this.shared.pmds[k].core;
  }

  /** Replaces PMD k's worker (after it died); see PmdThreads.restart. */
  restartPmd(k = 0): Promise<void> {
    return this.threads?.restart(k) ?? Promise.resolve();
  }

  /** Resolves once the PMD workers poll (at once for in-process PMDs). */
  async ready(): Promise<void> {
    await this.threads?.ready();
  }

  /** Runs the in-process PMDs until they have nothing left to do. */
  run(): void {
    this.threads?.run();
  }

  private wake(): void {
    if (this.threads) this.threads.wake();
    else this.shared.ringAll();
  }

  close(): void {
    this.destroy();
  }

  destroy(): void {
    Atomics.store(this.shared.ctl, C_STOP, 1);
    this.shared.ringAll();
    this.threads?.stop();
    this.threads = undefined;
    this.ports.detachAll();
  }

  getStats(): DpifDpStats {
    const sh = this.shared;
    let flows = 0, masks = 0;
    for (const p of sh.pmds) {
      flows += p.table.flowCount();
      masks += p.table.maskCount();
    }
    const hit = pmdCounter(sh, undefined, ST_HIT);
    const missed = pmdCounter(sh, undefined, ST_MISSED);
    return { hit, missed, lost: pmdCounter(sh, undefined, ST_LOST), flows, masks };
  }

  /** PMD k's counters (all PMDs' summed without k), for dpif-netdev/pmd-stats-show and tests. */
  pmdStats(k?: number): PmdStats {
    return readPmdStats((i) => pmdCounter(this.shared, k, i));
  }

  /**
   * dpif-netdev/pmd-stats-clear: PMD k's counters (every PMD's without
   * k), and with them the datapath's hit/missed/lost, count from zero
   * again (a baseline in shared memory, so every thread sees the same
   * figures).
   */
  pmdStatsClear(k?: number): void {
    clearPmdCounters(this.shared, k);
  }

  setEmcInsertInvProb(inv: number): void {
    Atomics.store(this.shared.ctl, C_EMC_INV_PROB, inv);
  }

  /** other_config:smc-enable; the PMDs apply it at their next poll. */
  setSmcEnable(on: boolean): void {
    Atomics.store(this.shared.ctl, C_SMC_ENABLE, on ? 1 : 0);
  }

  /**
   * other_config:vlan-limit for the PMDs' flow_extract (0: as many VLAN
   * headers as a flow holds). flow_extract's limit is a global of each
   * thread's flow module, so each PMD applies it at its next poll.
   */
  setVlanLimit(n: number): void {
    Atomics.store(this.shared.ctl, C_VLAN_LIMIT, n + 1);
    this.wake();
  }

  /** other_config:pmd-rxq-assign; applied at the next rebalance or port change. */
  setRxqAssign(algo: RxqAssign): void {
    this.ports.rxqAssign = algo;
  }

  get rxqAssign(): RxqAssign {
    return this.ports.rxqAssign;
  }

  /** dpif-netdev/pmd-rxq-rebalance: assigns the rx queues to the PMDs again. */
  rxqRebalance(): void {
    this.ports.schedule();
    this.wake();
  }

  /** The PMD ports' rx queues, sorted as pmd-rxq-show lists them, with their PMD index. */
  rxqList(): { name: string; queue: number; ring: number; pmd: number }[] {
    return this.ports.rxqs();
  }

  // ---- ports (the creating thread only) ----

  portAdd(netdev: Netdev, portNo?: number): number {
    return this.ports.add(netdev, portNo);
  }

  portDel(portNo: number): void {
    this.ports.del(portNo);
  }

  portQueryByNumber(portNo: number): DpifPort | undefined {
    return this.ports.queryByNumber(portNo);
  }

  portQueryByName(name: string): DpifPort | undefined {
    return this.ports.queryByName(name);
  }

  portList(): DpifPort[] {
    return this.ports.list();
  }

  /** [rx packets, rx bytes, tx packets, tx bytes, rx dropped, tx dropped] of a port. */
  portStats(portNo: number): number[] {
    return this.ports.stats(portNo);
  }

  netdevOf(portNo: number): Netdev | undefined {
    return this.ports.netdevOf(portNo);
  }

  // ---- flows ----

  /**
   * Runs a batch of flow operations and executes (`dpif_operate`); each
   * op's `error` (0 = ok) and, for put/del/get, `flow` are filled in.
   */
  operate(ops: DpifOp[]): void {
    this.flows.operate(ops);
  }

  flowPut(put: DpifFlowPut): DpifOp {
    const op: DpifOp = { type: "put", ...put, wantFlow: true };
    this.operate([op]);
    return op;
  }

  flowDel(ufid?: Uint32Array, key?: Uint32Array, pmd?: number): DpifOp {
    const op: DpifOp = { type: "del", ufid, key, pmd };
    this.operate([op]);
    return op;
  }

  flowGet(ufid: Uint32Array, pmd?: number): DpifOp {
    const op: DpifOp = { type: "get", ufid, pmd };
    this.operate([op]);
    return op;
  }

  flowFlush(): void {
    this.operate([{ type: "flush" }]);
  }

  execute(packet: Uint8Array, inPort: number, actions: OdpAction[]): number {
    const op: DpifOp = { type: "execute", packet, inPort, actions };
    this.operate([op]);
    return op.error ?? 0;
  }

  flowDumpCreate(shared?: SharedArrayBuffer): FlowDump {
    return new FlowDump(this.shared.pmds.map((p) => p.table), shared);
  }

  // ---- upcalls (_upcall_queues.ts says what each does) ----

  recvSet(enable: boolean): void {
    this.upcalls.setEnabled(enable);
  }

  handlersSet(n: number): void {
    this.upcalls.setHandlers(n);
  }

  recv(h: number, out: DpifUpcall, hold = false): boolean {
    return this.upcalls.take(h, out, hold);
  }

  recvPosition(h: number): number {
    return this.upcalls.position(h);
  }

  recvRelease(h: number): void {
    this.upcalls.release(h);
  }

  recvReleaseTo(h: number, pos: number): void {
    this.upcalls.releaseTo(h, pos);
  }

  recvWait(h: number, timeoutMs: number): boolean {
    return this.upcalls.wait(h, timeoutMs);
  }

  recvWaitWord(h: number): { array: Int32Array; index: number; value: number } {
    return this.upcalls.waitWord(h);
  }

  recvWaitDone(h: number): void {
    this.upcalls.waitDone(h);
  }
}

/** Decodes a snapshot's actions (control plane). */
export function snapshotActions(s: FlowSnapshot): OdpAction[] {
  return decodeActions(s.actions.subarray(0, s.nActionBytes));
}

export { DpifError } from "./_ports.ts";

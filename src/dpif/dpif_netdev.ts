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
import {
  clockBuffer,
  coverageBuffer,
  getLogger,
  logBuffer,
  RingConsumer,
  ringReleaseTo,
} from "../lib/mod.ts";
import type { Netdev } from "../netdev/mod.ts";
import { FlowClient } from "./_flow_client.ts";
import { DatapathPorts } from "./_ports.ts";
import {
  C_EMC_INV_PROB,
  C_N_HANDLERS,
  C_NEXT_CLIENT,
  C_PMD_EXITED,
  C_PMD_GEN,
  C_PMD_RUNNING,
  C_RECV_ENABLED,
  C_SMC_ENABLE,
  C_STOP,
  C_VLAN_LIMIT,
  createDatapathBuffers,
  type DatapathBuffers,
  DatapathShared,
  MAX_CLIENTS,
  MAX_HANDLERS,
  ST_EMC_HIT,
  ST_ERRORS,
  ST_HIT,
  ST_LOST,
  ST_MEGAFLOW_HIT,
  ST_MISSED,
  ST_RECIRC,
  ST_RX,
  ST_SENT_BATCHES,
  ST_SENT_PKTS,
  ST_SMC_HIT,
  ST_SUBTABLE_LOOKUPS,
  ST_TX_DROPPED,
  STATS_BASELINE,
} from "./_shared.ts";
import type { FlowSnapshot } from "./flow_table.ts";
import { FlowDump } from "./flow_dump.ts";
import { type FlowExtractFn, Pmd } from "./pmd.ts";
import type { DpifDpStats, DpifFlowPut, DpifOp, DpifPort, DpifProvider } from "./provider.ts";
import type { DpifUpcall } from "./upcall.ts";

export interface DpifNetdevOptions {
  /** Flow slots (default 262144, above OVS's 200000 flow limit). */
  flowCapacity?: number;
  maskCapacity?: number;
  /** Words per handler upcall queue (power of two; default 1 << 21). */
  upcallQueueWords?: number;
  /** Run the PMD in this thread with this flow_extract (tests, tools). */
  extract?: FlowExtractFn;
  /** Module exporting `flowExtract`, for the PMD worker (default src/flow/mod.ts). */
  extractModule?: string;
}

export interface PmdStats {
  packetsReceived: number;
  /** Passes through the pipeline after a recirc action. */
  recirculations: number;
  emcHits: number;
  smcHits: number;
  megaflowHits: number;
  /** Subtables visited by megaflow hits (OVS's "avg. subtable lookups per megaflow hit" numerator). */
  subtableLookups: number;
  missed: number;
  lost: number;
  /** Packets output to a port that does not exist. */
  txDropped: number;
  /** Packets and commands dropped because processing them threw. */
  errors: number;
  /** Packets output to ports, and the output batches they went in. */
  sentPackets: number;
  sentBatches: number;
}

const log = getLogger("dpif_netdev");

export class DpifNetdev implements DpifProvider {
  readonly name: string;
  readonly shared: DatapathShared;
  readonly client: number;
  private readonly flows: FlowClient;
  private readonly ports: DatapathPorts;
  private pmd?: Pmd;
  private worker?: Worker;
  private readonly upcallQueues: RingConsumer[];

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
    this.flows = new FlowClient(this.shared, this.client, () => {
      if (!this.pmd) return false;
      this.run();
      return true;
    });
    this.upcallQueues = this.shared.upcall.map((v) => new RingConsumer(v));
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
    );
    const dp = new DpifNetdev(type, buffers, true);
    if (opts.extract) {
      dp.pmd = new Pmd(dp.shared, opts.extract);
    } else {
      dp.extractModule = opts.extractModule ?? new URL("../flow/mod.ts", import.meta.url).href;
      dp.startWorker();
    }
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

  private extractModule = "";
  private restarts: number[] = [];

  private startWorker(): void {
    Atomics.store(this.shared.ctl, C_PMD_RUNNING, 0);
    const w = new Worker(new URL("./pmd_worker.ts", import.meta.url).href, { type: "module" });
    w.onerror = (e) => {
      // A dead PMD is reported and replaced; the flows survive in shared memory.
      e.preventDefault();
      log.error(`${this.name}: PMD worker died (${e.message}); restarting it`);
      this.restartPmd().catch(() => {});
    };
    w.postMessage({
      type: "start",
      buffers: this.buffers,
      clock: clockBuffer(),
      coverage: coverageBuffer(),
      log: logBuffer(),
      extractModule: this.extractModule,
      generation: Atomics.load(this.shared.ctl, C_PMD_GEN),
    });
    this.worker = w;
  }

  /**
   * Replaces the PMD worker (after it died): the new one rebuilds its
   * classifier from the shared flow table and carries on with the rings
   * where the old one stopped. At most 5 restarts a minute.
   */
  async restartPmd(): Promise<void> {
    if (!this.worker || Atomics.load(this.shared.ctl, C_STOP) !== 0) return;
    const now = Date.now();
    this.restarts = this.restarts.filter((t) => now - t < 60_000);
    // Retire the old PMD first: two PMDs must never share the rings.
    const ctl = this.shared.ctl;
    const old = Atomics.add(ctl, C_PMD_GEN, 1);
    this.shared.ring();
    const deadline = performance.now() + 500;
    while (Atomics.load(ctl, C_PMD_EXITED) !== old + 1 && performance.now() < deadline) {
      await new Promise((r) => setTimeout(r, 1));
    }
    this.worker.terminate();
    if (this.restarts.length >= 5) {
      log.error(`${this.name}: PMD worker restarted too often; giving up`);
      this.worker = undefined;
      return;
    }
    this.restarts.push(now);
    this.startWorker();
  }

  /** Resolves once the PMD worker polls (at once for an in-process PMD). */
  async ready(): Promise<void> {
    if (!this.worker) return;
    // Timers, not Atomics.waitAsync, so the wait keeps the event loop alive.
    while (Atomics.load(this.shared.ctl, C_PMD_RUNNING) === 0) {
      await new Promise((r) => setTimeout(r, 1));
    }
  }

  /** Runs the in-process PMD until it has nothing left to do. */
  run(): void {
    if (this.pmd) { while (this.pmd.poll() > 0); }
  }

  private wake(): void {
    if (this.pmd) this.run();
    else this.shared.ring();
  }

  close(): void {
    this.destroy();
  }

  destroy(): void {
    Atomics.store(this.shared.ctl, C_STOP, 1);
    this.shared.ring();
    this.worker?.terminate();
    this.worker = undefined;
    this.ports.detachAll();
  }

  /** Counter `i` since the last `pmdStatsClear`. */
  private stat(i: number): number {
    const s = this.shared.stats;
    return s[i] - s[STATS_BASELINE + i];
  }

  getStats(): DpifDpStats {
    return {
      hit: this.stat(ST_HIT),
      missed: this.stat(ST_MISSED),
      lost: this.stat(ST_LOST),
      flows: this.shared.table.flowCount(),
      masks: this.shared.table.maskCount(),
    };
  }

  /** The PMD's counters, for dpif-netdev/pmd-stats-show and tests. */
  pmdStats(): PmdStats {
    return {
      packetsReceived: this.stat(ST_RX),
      recirculations: this.stat(ST_RECIRC),
      emcHits: this.stat(ST_EMC_HIT),
      smcHits: this.stat(ST_SMC_HIT),
      megaflowHits: this.stat(ST_MEGAFLOW_HIT),
      subtableLookups: this.stat(ST_SUBTABLE_LOOKUPS),
      missed: this.stat(ST_MISSED),
      lost: this.stat(ST_LOST),
      txDropped: this.stat(ST_TX_DROPPED),
      errors: this.stat(ST_ERRORS),
      sentPackets: this.stat(ST_SENT_PKTS),
      sentBatches: this.stat(ST_SENT_BATCHES),
    };
  }

  /**
   * dpif-netdev/pmd-stats-clear: the PMD counters, and with them the
   * datapath's hit/missed/lost, count from zero again (a baseline in
   * shared memory, so every thread sees the same figures).
   */
  pmdStatsClear(): void {
    const s = this.shared.stats;
    for (let i = 0; i < STATS_BASELINE; i++) s[STATS_BASELINE + i] = s[i];
  }

  setEmcInsertInvProb(inv: number): void {
    Atomics.store(this.shared.ctl, C_EMC_INV_PROB, inv);
  }

  /** other_config:smc-enable; the PMD applies it at its next poll. */
  setSmcEnable(on: boolean): void {
    Atomics.store(this.shared.ctl, C_SMC_ENABLE, on ? 1 : 0);
  }

  /**
   * other_config:vlan-limit for the PMD's flow_extract (0: as many VLAN
   * headers as a flow holds). flow_extract's limit is a global of each
   * thread's flow module, so the PMD applies it at its next poll.
   */
  setVlanLimit(n: number): void {
    Atomics.store(this.shared.ctl, C_VLAN_LIMIT, n + 1);
    this.wake();
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

  flowDel(ufid?: Uint32Array, key?: Uint32Array): DpifOp {
    const op: DpifOp = { type: "del", ufid, key };
    this.operate([op]);
    return op;
  }

  flowGet(ufid: Uint32Array): DpifOp {
    const op: DpifOp = { type: "get", ufid };
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
    return new FlowDump(this.shared.table, shared);
  }

  // ---- upcalls ----

  recvSet(enable: boolean): void {
    Atomics.store(this.shared.ctl, C_RECV_ENABLED, enable ? 1 : 0);
  }

  handlersSet(n: number): void {
    if (n < 1 || n > MAX_HANDLERS) throw new RangeError(`n-handlers must be 1..${MAX_HANDLERS}`);
    Atomics.store(this.shared.ctl, C_N_HANDLERS, n);
  }

  /**
   * Takes handler `h`'s next upcall into `out`; false when its queue is
   * empty. With `hold`, the upcall stays in the queue (and is read again
   * by whoever opens the queue next) until `recvRelease(h)`: a handler
   * releases a batch once it is done with it, so that a handler that
   * dies mid-batch loses none of it.
   */
  recv(h: number, out: DpifUpcall, hold = false): boolean {
    const q = this.upcallQueues[h];
    if (this.pmd) this.run();
    const at = q.next();
    if (at < 0) return false;
    out.fill(q.view.u32, q.view.u8, at);
    if (!hold) q.release();
    return true;
  }

  /** The queue position after the upcalls handler `h` took so far. */
  recvPosition(h: number): number {
    return this.upcallQueues[h].position;
  }

  /** Releases the upcalls handler `h` took and held. */
  recvRelease(h: number): void {
    this.upcallQueues[h].release();
  }

  /**
   * Releases handler `h`'s queue up to `pos` for a dead handler whose
   * batch was done (main thread, before its successor opens the queue).
   */
  recvReleaseTo(h: number, pos: number): void {
    ringReleaseTo(this.shared.upcall[h], pos);
  }

  /** Blocks until handler `h` has an upcall or `timeoutMs` passes. */
  recvWait(h: number, timeoutMs: number): boolean {
    return this.upcallQueues[h].wait(timeoutMs);
  }

  /** The word to Atomics.waitAsync on for handler `h` (main-thread handlers). */
  recvWaitWord(h: number): { array: Int32Array; index: number; value: number } {
    return this.upcallQueues[h].waitWord();
  }
}

/** Decodes a snapshot's actions (control plane). */
export function snapshotActions(s: FlowSnapshot): OdpAction[] {
  return decodeActions(s.actions.subarray(0, s.nActionBytes));
}

export { DpifError } from "./_ports.ts";

/**
 * The netdev datapath provider: datapath types `netdev` (`netdev@ovs-netdev`)
 * and `dummy` (`dummy@ovs-dummy`). The main thread creates it with
 * `DpifNetdev.create`, which allocates the shared buffers and either
 * starts a PMD worker or, for tests and tools, keeps an in-process PMD
 * that runs whenever a call needs it. Any worker opens the same datapath
 * with `DpifNetdev.open(buffers)` and gets its own command ring (a client
 * id); ports are managed from the creating thread only.
 */
import { FLOW_WORDS } from "../flow/layout.ts";
import { decodeActions, encodeActions, encodedLength, type OdpAction } from "../flow/mod.ts";
import { RingConsumer, RingProducer } from "../lib/ring.ts";
import { clockBuffer } from "../lib/clock.ts";
import { coverageBuffer } from "../lib/coverage.ts";
import { getLogger, logBuffer } from "../lib/log.ts";
import type { Netdev } from "../netdev/mod.ts";
import {
  C_EMC_INV_PROB,
  C_N_HANDLERS,
  C_NEXT_CLIENT,
  C_PMD_EXITED,
  C_PMD_GEN,
  C_PMD_RUNNING,
  C_PORTS_SEQ,
  C_RECV_ENABLED,
  C_STOP,
  createDatapathBuffers,
  type DatapathBuffers,
  DatapathShared,
  MAX_CLIENTS,
  MAX_HANDLERS,
  MAX_PORTS,
  P_ACTIVE,
  P_ODP,
  P_RECORD_TX,
  PF_RX_BYTES,
  PF_RX_PACKETS,
  PF_TX_BYTES,
  PF_TX_PACKETS,
  ST_EMC_HIT,
  ST_ERRORS,
  ST_HIT,
  ST_LOST,
  ST_MEGAFLOW_HIT,
  ST_MISSED,
  ST_RX,
  ST_SUBTABLE_LOOKUPS,
  ST_TX_DROPPED,
} from "./_shared.ts";
import { ACT_MAX_BYTES, FlowSnapshot } from "./flow_table.ts";
import { FlowDump } from "./flow_dump.ts";
import { type FlowExtractFn, Pmd, ufidFromKey } from "./pmd.ts";
import {
  CMD_EXEC_ACTIONS,
  CMD_KEY,
  CMD_MASK,
  CMD_PUT_ACTIONS,
  E2BIG,
  EEXIST,
  EINVAL,
  OP_DEL,
  OP_EXEC,
  OP_FLUSH,
  OP_GET,
  OP_PUT,
  RP_ACTIONS,
  RP_HAS_FLOW,
  RP_KEY,
  RP_MASK,
} from "./protocol.ts";
import type { DpifDpStats, DpifFlowPut, DpifOp, DpifPort, DpifProvider } from "./provider.ts";
import type { DpifUpcall } from "./upcall.ts";

export interface DpifNetdevOptions {
  /** Flow slots (default 262144, above OVS's 200000 flow limit). */
  flowCapacity?: number;
  maskCapacity?: number;
  /** Words per handler upcall queue (power of two; default 1 << 18). */
  upcallQueueWords?: number;
  /** Run the PMD in this thread with this flow_extract (tests, tools). */
  extract?: FlowExtractFn;
  /** Module exporting `flowExtract`, for the PMD worker (default src/flow/mod.ts). */
  extractModule?: string;
}

export interface PmdStats {
  packetsReceived: number;
  emcHits: number;
  megaflowHits: number;
  /** Subtables visited by megaflow hits (OVS's "avg. subtable lookups per megaflow hit" numerator). */
  subtableLookups: number;
  missed: number;
  lost: number;
  /** Packets output to a port that does not exist. */
  txDropped: number;
  /** Packets and commands dropped because processing them threw. */
  errors: number;
}

const log = getLogger("dpif_netdev");

/** Ops per round trip: their replies must fit the reply ring at once. */
const OPERATE_CHUNK = 64;

interface PortEntry extends DpifPort {
  index: number;
  netdev?: Netdev;
}

export class DpifNetdev implements DpifProvider {
  readonly name: string;
  readonly shared: DatapathShared;
  readonly client: number;
  private readonly cmd: RingProducer;
  private readonly reply: RingConsumer;
  private nextReq = 1;
  private readonly ports = new Map<number, PortEntry>();
  private pmd?: Pmd;
  private worker?: Worker;
  private readonly encoded = new Uint8Array(ACT_MAX_BYTES);
  private readonly upcallQueues: RingConsumer[];

  private constructor(readonly type: string, readonly buffers: DatapathBuffers, owner: boolean) {
    this.name = `${type}@ovs-${type}`;
    this.shared = new DatapathShared(buffers);
    this.client = Atomics.add(this.shared.ctl, C_NEXT_CLIENT, 1);
    if (this.client >= MAX_CLIENTS) throw new RangeError(`more than ${MAX_CLIENTS} dpif clients`);
    this.cmd = new RingProducer(this.shared.cmd[this.client]);
    this.reply = new RingConsumer(this.shared.reply[this.client]);
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
    dp.addPort(0, `ovs-${type}`, type === "dummy" ? "dummy-internal" : "tap");
    return dp;
  }

  /** Opens the datapath from another thread (flow ops, dumps, upcalls, execute). */
  static open(type: string, buffers: DatapathBuffers): DpifNetdev {
    return new DpifNetdev(type, buffers, false);
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

  close(): void {
    this.destroy();
  }

  destroy(): void {
    Atomics.store(this.shared.ctl, C_STOP, 1);
    this.shared.ring();
    this.worker?.terminate();
    this.worker = undefined;
    for (const p of this.ports.values()) p.netdev?.detach();
  }

  getStats(): DpifDpStats {
    const s = this.shared.stats;
    return {
      hit: s[ST_HIT],
      missed: s[ST_MISSED],
      lost: s[ST_LOST],
      flows: this.shared.table.flowCount(),
      masks: this.shared.table.maskCount(),
    };
  }

  /** The PMD's counters, for dpif-netdev/pmd-stats-show and tests. */
  pmdStats(): PmdStats {
    const s = this.shared.stats;
    return {
      packetsReceived: s[ST_RX],
      emcHits: s[ST_EMC_HIT],
      megaflowHits: s[ST_MEGAFLOW_HIT],
      subtableLookups: s[ST_SUBTABLE_LOOKUPS],
      missed: s[ST_MISSED],
      lost: s[ST_LOST],
      txDropped: s[ST_TX_DROPPED],
      errors: s[ST_ERRORS],
    };
  }

  setEmcInsertInvProb(inv: number): void {
    Atomics.store(this.shared.ctl, C_EMC_INV_PROB, inv);
  }

  // ---- ports ----

  private choosePort(name: string): number {
    if (this.type === "dummy") {
      const m = /\d/.exec(name);
      if (m) {
        const no = (name.startsWith("br") ? 100 : 0) + parseInt(name.slice(m.index), 10);
        if (no > 0 && no < 65536 && !this.ports.has(no)) return no;
      }
    }
    for (let no = 1; no < 65536; no++) if (!this.ports.has(no)) return no;
    return -1;
  }

  private addPort(portNo: number, name: string, type: string, netdev?: Netdev): number {
    const sh = this.shared;
    let index = 0;
    while (index < MAX_PORTS && sh.portI32[sh.portI(index, P_ACTIVE)] !== 0) index++;
    if (index === MAX_PORTS) {
      throw new RangeError(`datapath ${this.name} is full (${MAX_PORTS} ports)`);
    }
    for (const f of [PF_RX_PACKETS, PF_RX_BYTES, PF_TX_PACKETS, PF_TX_BYTES]) {
      sh.portF64[sh.portF(index, f)] = 0;
    }
    sh.portI32[sh.portI(index, P_ODP)] = portNo;
    sh.odpToIndex[portNo] = index;
    this.ports.set(portNo, { portNo, name, type, index, netdev });
    netdev?.attach({
      rx: sh.rx[index],
      tx: sh.tx[index],
      wake: () => this.wake(),
      setRecordTx: (on) => Atomics.store(sh.portI32, sh.portI(index, P_RECORD_TX), on ? 1 : 0),
    });
    Atomics.store(sh.portI32, sh.portI(index, P_ACTIVE), 1);
    Atomics.add(sh.ctl, C_PORTS_SEQ, 1);
    return portNo;
  }

  private wake(): void {
    if (this.pmd) this.run();
    else this.shared.ring();
  }

  portAdd(netdev: Netdev, portNo?: number): number {
    for (const p of this.ports.values()) {
      if (p.name === netdev.name) {
        throw new DpifError(EEXIST, `${netdev.name}: port already exists`);
      }
    }
    const no = portNo ?? this.choosePort(netdev.name);
    if (no < 0 || this.ports.has(no)) throw new DpifError(EEXIST, `port ${no} already in use`);
    return this.addPort(no, netdev.name, this.portOpenType(netdev.type), netdev);
  }

  /** dpif_netdev_port_open_type: internal ports are "dummy-internal" or "tap". */
  private portOpenType(type: string): string {
    if (type !== "internal" && type !== "dummy-internal" && type !== "tap") return type;
    return this.type === "dummy" ? "dummy-internal" : "tap";
  }

  portDel(portNo: number): void {
    const p = this.ports.get(portNo);
    if (!p || portNo === 0) throw new DpifError(EINVAL, `no port ${portNo}`);
    const sh = this.shared;
    Atomics.store(sh.portI32, sh.portI(p.index, P_ACTIVE), 0);
    Atomics.add(sh.ctl, C_PORTS_SEQ, 1);
    sh.odpToIndex[portNo] = -1;
    p.netdev?.detach();
    this.ports.delete(portNo);
  }

  portQueryByNumber(portNo: number): DpifPort | undefined {
    const p = this.ports.get(portNo);
    return p && { portNo: p.portNo, name: p.name, type: p.type };
  }

  portQueryByName(name: string): DpifPort | undefined {
    for (const p of this.ports.values()) {
      if (p.name === name) return this.portQueryByNumber(p.portNo);
    }
    return undefined;
  }

  portList(): DpifPort[] {
    return [...this.ports.values()].sort((a, b) => a.portNo - b.portNo).map((p) => ({
      portNo: p.portNo,
      name: p.name,
      type: p.type,
    }));
  }

  /** [rx packets, rx bytes, tx packets, tx bytes] of a port. */
  portStats(portNo: number): number[] {
    const p = this.ports.get(portNo);
    if (!p) return [0, 0, 0, 0];
    const sh = this.shared, i = p.index;
    return [PF_RX_PACKETS, PF_RX_BYTES, PF_TX_PACKETS, PF_TX_BYTES].map((f) =>
      sh.portF64[sh.portF(i, f)]
    );
  }

  netdevOf(portNo: number): Netdev | undefined {
    return this.ports.get(portNo)?.netdev;
  }

  // ---- flows ----

  /** Encodes `actions` into `this.encoded`; the byte count, or -1 if too long. */
  private encode(actions: readonly OdpAction[]): number {
    if (encodedLength(actions) > ACT_MAX_BYTES) return -1;
    return encodeActions(actions, this.encoded).length;
  }

  private submit(op: DpifOp): number {
    const req = this.nextReq++;
    let at: number;
    if (op.type === "put") {
      const nAct = this.encode(op.actions);
      if (nAct < 0) return -E2BIG;
      at = this.reserve(CMD_PUT_ACTIONS + ((nAct + 3) >> 2));
      const u = this.cmd.view.u32;
      u[at] = OP_PUT;
      u[at + 2] = op.flags;
      u[at + 3] = nAct;
      this.writeUfid(u, at, op.ufid, op.key);
      u.set(op.key.subarray(0, FLOW_WORDS), at + CMD_KEY);
      u.set(op.mask.subarray(0, FLOW_WORDS), at + CMD_MASK);
      this.cmd.view.u8.set(this.encoded.subarray(0, nAct), (at + CMD_PUT_ACTIONS) * 4);
    } else if (op.type === "del" || op.type === "get") {
      if (op.type === "get" && !op.ufid) return -EINVAL;
      at = this.reserve(CMD_KEY + FLOW_WORDS);
      const u = this.cmd.view.u32;
      u[at] = op.type === "del" ? OP_DEL : OP_GET;
      u[at + 2] = op.ufid ? 1 : 0;
      this.writeUfid(u, at, op.ufid, op.type === "del" ? op.key : undefined);
      if (op.type === "del" && op.key) u.set(op.key.subarray(0, FLOW_WORDS), at + CMD_KEY);
    } else if (op.type === "flush") {
      at = this.reserve(2);
      this.cmd.view.u32[at] = OP_FLUSH;
    } else {
      const nAct = this.encode(op.actions);
      if (nAct < 0) return -E2BIG;
      const actWords = (nAct + 3) >> 2;
      at = this.reserve(CMD_EXEC_ACTIONS + actWords + ((op.packet.length + 3) >> 2));
      const u = this.cmd.view.u32;
      u[at] = OP_EXEC;
      u[at + 2] = op.inPort;
      u[at + 3] = nAct;
      u[at + 4] = op.packet.length;
      this.cmd.view.u8.set(this.encoded.subarray(0, nAct), (at + CMD_EXEC_ACTIONS) * 4);
      this.cmd.view.u8.set(op.packet, (at + CMD_EXEC_ACTIONS + actWords) * 4);
    }
    this.cmd.view.u32[at + 1] = req;
    return req;
  }

  private writeUfid(u: Uint32Array, at: number, ufid?: Uint32Array, key?: Uint32Array): void {
    if (ufid) u.set(ufid.subarray(0, 4), at + 4);
    else if (key) ufidFromKey(key, 0, u, at + 4);
  }

  private reserve(words: number): number {
    for (;;) {
      const at = this.cmd.reserve(words);
      if (at >= 0) return at;
      this.cmd.publish();
      this.shared.ringCommands();
      if (this.pmd) this.run();
      else Atomics.wait(this.shared.ctl, 0, Atomics.load(this.shared.ctl, 0), 1);
    }
  }

  /**
   * Runs a batch of flow operations and executes (`dpif_operate`); each
   * op's `error` (0 = ok) and, for put/del/get, `flow` are filled in.
   */
  operate(ops: DpifOp[]): void {
    // Replies must fit the reply ring while their commands wait, so big
    // batches go in chunks.
    for (let i = 0; i < ops.length; i += OPERATE_CHUNK) {
      this.operateChunk(ops.slice(i, i + OPERATE_CHUNK));
    }
  }

  private operateChunk(ops: DpifOp[]): void {
    const reqs = ops.map((op) => this.submit(op));
    this.cmd.publish();
    this.shared.ringCommands();
    if (this.pmd) this.run();
    for (let i = 0; i < ops.length; i++) {
      const op = ops[i];
      if (reqs[i] < 0) {
        op.error = -reqs[i];
        continue;
      }
      const at = this.awaitReply();
      const u = this.reply.view.u32;
      op.error = u[at + 1];
      if (u[at + RP_HAS_FLOW] && op.type !== "execute" && op.type !== "flush") {
        op.flow = readReplyFlow(u, this.reply.view.f64, this.reply.view.u8, at);
      }
      this.reply.release();
    }
  }

  private awaitReply(): number {
    for (;;) {
      const at = this.reply.next();
      if (at >= 0) return at;
      if (this.pmd) this.run();
      else this.reply.wait(100);
    }
  }

  flowPut(put: DpifFlowPut): DpifOp {
    const op: DpifOp = { type: "put", ...put };
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

  /** Takes handler `h`'s next upcall into `out`; false when its queue is empty. */
  recv(h: number, out: DpifUpcall): boolean {
    const q = this.upcallQueues[h];
    if (this.pmd) this.run();
    const at = q.next();
    if (at < 0) return false;
    out.fill(q.view.u32, q.view.u8, at);
    q.release();
    return true;
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

function readReplyFlow(u: Uint32Array, f: Float64Array, u8: Uint8Array, at: number): FlowSnapshot {
  const s = new FlowSnapshot();
  s.nActionBytes = u[at + 3];
  s.tcpFlags = u[at + 4];
  const fi = (at + 5) >> 1;
  s.packets = f[fi];
  s.bytes = f[fi + 1];
  s.used = f[fi + 2];
  s.ufid.set(u.subarray(at + 12, at + 16));
  s.key.set(u.subarray(at + RP_KEY, at + RP_KEY + FLOW_WORDS));
  s.mask.set(u.subarray(at + RP_MASK, at + RP_MASK + FLOW_WORDS));
  s.actions.set(u8.subarray((at + RP_ACTIONS) * 4, (at + RP_ACTIONS) * 4 + s.nActionBytes));
  return s;
}

/** Decodes a snapshot's actions (control plane). */
export function snapshotActions(s: FlowSnapshot): OdpAction[] {
  return decodeActions(s.actions.subarray(0, s.nActionBytes));
}

export class DpifError extends Error {
  constructor(readonly errno: number, message: string) {
    super(message);
  }
}

/**
 * The poll-mode driver: the datapath's fast path. One `Pmd` owns one flow
 * table and runs `poll()` in a loop (pmd_worker.ts) or, in tests and
 * in-process datapaths, whenever asked. A poll drains each port's rx ring
 * in bursts, parses each packet into a flow key, looks it up in the EMC,
 * then dpcls, counts the hit in the flow's stats and runs its actions
 * (flow/odp_execute.ts, which hands outputs back to the tx side in
 * _pmd_output.ts and userspace actions back here as ACTION upcalls);
 * a miss becomes a MISS upcall on the handler queue the flow hash selects
 * (a full queue drops the packet and counts it lost). It then serves the
 * dpif clients' command rings: flow put/del/get/flush and packet execute.
 *
 * The packet path allocates nothing: packets are copied into one scratch
 * buffer, keys live in one scratch Uint32Array, actions are read in place
 * from the flow table.
 *
 * Thread-safety: a Pmd is used by exactly one thread, the flow table's
 * only writer. Other threads reach it only through the rings in
 * DatapathShared.
 */
import {
  ACT_HEADER_LEN,
  FLOW_WORDS,
  odpExecuteActions,
  type OdpExecuteDatapath,
  setVlanLimit,
  ufidFromKey,
} from "../flow/mod.ts";
import { coverageCounter, RingConsumer, RingProducer, timeMsec } from "../lib/mod.ts";
import { PacketBuffer } from "../packet/mod.ts";
import {
  C_CMD_BELL,
  C_DOORBELL,
  C_EMC_INV_PROB,
  C_N_HANDLERS,
  C_PMD_GEN,
  C_PORTS_SEQ,
  C_RECV_ENABLED,
  C_SLEEPING,
  C_STOP,
  C_VLAN_LIMIT,
  DatapathShared,
  MAX_CLIENTS,
  MAX_PORTS,
  P_ACTIVE,
  P_ODP,
  PF_RX_BYTES,
  PF_RX_PACKETS,
  ST_EMC_HIT,
  ST_ERRORS,
  ST_HIT,
  ST_LOST,
  ST_MEGAFLOW_HIT,
  ST_MISSED,
  ST_RX,
  ST_SUBTABLE_LOOKUPS,
} from "./_shared.ts";
import { Emc, MINIFLOW_WORDS, miniflowOf } from "./emc.ts";
import { FlowOps } from "./flow_ops.ts";
import { servePmdCommands } from "./_pmd_commands.ts";
import { PmdOutput } from "./_pmd_output.ts";
import { UP_KEY, UP_PACKET, UPCALL_ACTION, UPCALL_MISS } from "./protocol.ts";

/** `flow_extract`: fills `key` from the first `len` bytes of `packet`. */
export type FlowExtractFn = (
  packet: Uint8Array,
  len: number,
  inPort: number,
  key: Uint32Array,
) => void;

const BURST = 32;

/*
 * OVS counts netdev_received per successful rx call (one packet on a dummy
 * port), drop_action_of_pipeline per packet dropped because translation
 * gave no actions, and flow_extract per packet that reaches a userspace
 * action. The tx side's counters are in _pmd_output.ts.
 */
const covReceived = coverageCounter("netdev_received");
const covDropPipeline = coverageCounter("drop_action_of_pipeline");
const covFlowExtract = coverageCounter("flow_extract");
/** A miss whose upcall could not be queued (dp_netdev_upcall failed): dropped, counted lost. */
const covDropUpcallError = coverageCounter("datapath_drop_upcall_error");
const MAX_FRAME = 9216;
const RANK_INTERVAL_MS = 1000;
export class Pmd implements OdpExecuteDatapath {
  readonly shared: DatapathShared;
  readonly ops: FlowOps;
  readonly emc: Emc;
  readonly key = new Uint32Array(FLOW_WORDS);
  /** The packet key's miniflow (EMC form), refilled per packet. */
  private readonly mf = new Uint32Array(MINIFLOW_WORDS);
  /** The packet being processed, always at offset 0; word view for fast copies. */
  readonly pkt = new PacketBuffer(MAX_FRAME);
  readonly buf = this.pkt.data;
  readonly bufU32 = new Uint32Array(this.buf.buffer);
  now = 0;
  private readonly rx: RingConsumer[];
  private readonly out: PmdOutput;
  private readonly up: RingProducer[];
  private readonly upDirty = new Uint8Array(32);
  readonly cmd: RingConsumer[];
  readonly reply: RingProducer[];
  /** This round's datapath counters (ST_* slots) and per-port tx counts. */
  private readonly st = new Float64Array(16);
  private lastRank = 0;
  private portsSeq = -1;
  private readonly active = new Int32Array(MAX_PORTS);
  private nActive = 0;
  private cmdBell = -1;
  private cmdBacklog = false;
  private emcInv = -1;
  /** Coverage events this round, added to the shared counters in flush(). */
  private nRxCalls = 0;
  private nPipelineDrops = 0;
  private nUserspaceExtracts = 0;
  private vlanLimit = 0;
  /** In-port and flow hash of the packet whose actions run (for userspace upcalls). */
  private inPort = 0;
  private hash = 0;

  /**
   * `applyVlanLimit` sets other_config:vlan-limit in the flow module whose
   * `extract` this PMD runs (its limit is that module's global).
   */
  constructor(
    shared: DatapathShared,
    readonly extract: FlowExtractFn,
    private readonly applyVlanLimit: (n: number) => void = setVlanLimit,
  ) {
    this.shared = shared;
    this.emc = new Emc(shared.table);
    this.ops = new FlowOps(shared.table, this.emc);
    this.rx = shared.rx.map((v) => new RingConsumer(v));
    this.out = new PmdOutput(shared, this.bufU32);
    this.up = shared.upcall.map((v) => new RingProducer(v));
    this.cmd = shared.cmd.map((v) => new RingConsumer(v));
    this.reply = shared.reply.map((v) => new RingProducer(v));
  }

  /** One round of work; returns how many packets and commands it handled. */
  poll(): number {
    const sh = this.shared;
    this.now = timeMsec();
    const inv = Atomics.load(sh.ctl, C_EMC_INV_PROB);
    if (inv !== this.emcInv) {
      this.emcInv = inv;
      this.emc.setInsertInvProb(inv < 0 ? 100 : inv);
    }
    const vlanLimit = Atomics.load(sh.ctl, C_VLAN_LIMIT);
    if (vlanLimit !== this.vlanLimit) {
      this.vlanLimit = vlanLimit;
      this.applyVlanLimit(vlanLimit - 1);
    }
    const portsSeq = Atomics.load(sh.ctl, C_PORTS_SEQ);
    if (portsSeq !== this.portsSeq) {
      this.portsSeq = portsSeq;
      this.nActive = 0;
      for (let i = 0; i < MAX_PORTS; i++) {
        if (Atomics.load(sh.portI32, sh.portI(i, P_ACTIVE)) !== 0) this.active[this.nActive++] = i;
      }
    }
    let work = 0;
    for (let j = 0; j < this.nActive; j++) {
      const i = this.active[j];
      if (sh.portI32[sh.portI(i, P_ACTIVE)] !== 0) work += this.pollPort(i);
    }
    // Command rings are scanned only when a client has rung, or when the
    // last scan left work behind (reply ring full, round limit).
    const cmdBell = Atomics.load(sh.ctl, C_CMD_BELL);
    if (cmdBell !== this.cmdBell || this.cmdBacklog) {
      this.cmdBell = cmdBell;
      this.cmdBacklog = false;
      for (let c = 0; c < MAX_CLIENTS; c++) {
        if (!this.cmd[c].hasData()) continue;
        work += servePmdCommands(this, c);
        if (this.cmd[c].hasData()) this.cmdBacklog = true;
      }
    }
    this.flush();
    if (this.now - this.lastRank >= RANK_INTERVAL_MS) {
      this.ops.dpcls.rank();
      this.lastRank = this.now;
    }
    return work;
  }

  countError(): void {
    this.st[ST_ERRORS]++;
  }

  /**
   * Polls until stopped, or until a newer PMD generation takes over,
   * sleeping on the doorbell when idle.
   */
  run(generation = 0): void {
    const ctl = this.shared.ctl;
    while (Atomics.load(ctl, C_STOP) === 0 && Atomics.load(ctl, C_PMD_GEN) === generation) {
      const bell = Atomics.load(ctl, C_DOORBELL);
      if (this.poll() > 0) continue;
      Atomics.store(ctl, C_SLEEPING, 1);
      if (Atomics.load(ctl, C_DOORBELL) === bell) {
        Atomics.wait(ctl, C_DOORBELL, bell, RANK_INTERVAL_MS);
      }
      Atomics.store(ctl, C_SLEEPING, 0);
    }
  }

  private pollPort(i: number): number {
    const ring = this.rx[i];
    const sh = this.shared;
    const u32 = ring.view.u32, b32 = this.bufU32;
    const inPort = sh.portI32[sh.portI(i, P_ODP)];
    let n = 0;
    let bytes = 0;
    for (; n < BURST; n++) {
      const at = ring.next();
      if (at < 0) break;
      const len = u32[at] > MAX_FRAME ? MAX_FRAME : u32[at];
      for (let w = 0, nw = (len + 3) >> 2; w < nw; w++) b32[w] = u32[at + 1 + w];
      this.pkt.len = len;
      bytes += len;
      try {
        this.processPacket(inPort);
      } catch {
        // A packet must never take the PMD down: count it and go on.
        this.st[ST_ERRORS]++;
      }
      // Every netdev here is a dummy in OVS's sense (injected, rx_pcap,
      // stream), whose rx call yields one packet: each packet is a batch.
      this.out.batch++;
    }
    if (n > 0) {
      this.nRxCalls += n;
      ring.release();
      sh.portF64[sh.portF(i, PF_RX_PACKETS)] += n;
      sh.portF64[sh.portF(i, PF_RX_BYTES)] += bytes;
      sh.stats[ST_RX] += n;
    }
    return n;
  }

  /** Runs the packet in `buf` through EMC, dpcls and its flow's actions. */
  processPacket(inPort: number): void {
    const key = this.key, st = this.st;
    this.extract(this.buf, this.pkt.len, inPort, key);
    const mf = this.mf;
    const h = miniflowOf(key, 0, mf);
    let slot = this.emc.enabled ? this.emc.lookup(mf, h) : -1;
    if (slot >= 0) {
      st[ST_EMC_HIT]++;
    } else {
      const before = this.ops.dpcls.lookupsVisited;
      slot = this.ops.dpcls.lookup(key, 0);
      if (slot < 0) {
        this.upcall(UPCALL_MISS, inPort, h, 0, 0);
        return;
      }
      st[ST_MEGAFLOW_HIT]++;
      st[ST_SUBTABLE_LOOKUPS] += this.ops.dpcls.lookupsVisited - before;
      this.emc.probabilisticInsert(mf, h, slot);
    }
    st[ST_HIT]++;
    const tf = key[71];
    this.shared.table.hit(
      slot,
      1,
      this.pkt.len,
      this.now,
      ((tf & 0xff) << 8) | ((tf >>> 8) & 0xff),
    );
    const t = this.shared.table;
    this.runActions(t.u8, t.actionOffset(slot), t.actionBytes(slot), inPort, h);
  }

  /**
   * Runs the encoded actions `acts[at..at+n)` on the packet in `buf` as a
   * batch of its own (a dpif execute): its outputs are sends of their own.
   */
  execute(acts: Uint8Array, at: number, n: number, inPort: number, h: number): void {
    this.runActions(acts, at, n, inPort, h);
    this.out.batch++;
  }

  private runActions(acts: Uint8Array, at: number, n: number, inPort: number, h: number): void {
    if (n < ACT_HEADER_LEN) {
      // An empty list is the translation's explicit drop (XLATE_OK).
      this.nPipelineDrops++;
      return;
    }
    this.inPort = inPort;
    this.hash = h;
    odpExecuteActions(this.pkt, acts, at, n, this);
  }

  /** OdpExecuteDatapath: a userspace action becomes an ACTION upcall. */
  userspace(
    _pkt: PacketBuffer,
    acts: Uint8Array,
    udAt: number,
    udLen: number,
    last: boolean,
  ): void {
    this.nUserspaceExtracts++;
    this.upcall(UPCALL_ACTION, this.inPort, this.hash, udLen, udAt, acts, last);
  }

  /** OdpExecuteDatapath: queues the packet's first `len` bytes on the port's tx ring. */
  output(_pkt: PacketBuffer, odpPort: number, len: number): void {
    this.out.send(odpPort, len);
  }

  private upcall(
    type: number,
    inPort: number,
    h: number,
    udLen: number,
    udAt: number,
    ud?: Uint8Array,
    last = false,
  ): void {
    const sh = this.shared, st = this.st;
    if (Atomics.load(sh.ctl, C_RECV_ENABLED) === 0) {
      st[ST_LOST]++;
      if (type === UPCALL_MISS) covDropUpcallError.inc();
      return;
    }
    const nh = Atomics.load(sh.ctl, C_N_HANDLERS);
    const q = nh > 1 ? h % nh : 0;
    const r = this.up[q];
    const len = this.pkt.len;
    const pw = (len + 3) >> 2, uw = (udLen + 3) >> 2;
    const at = r.reserve(UP_PACKET + pw + uw);
    if (at < 0) {
      st[ST_LOST]++;
      if (type === UPCALL_MISS) covDropUpcallError.inc();
      return;
    }
    const u32 = r.view.u32;
    u32[at] = type;
    u32[at + 1] = inPort;
    u32[at + 2] = h;
    u32[at + 3] = len;
    u32[at + 4] = udLen;
    u32[at + 5] = last ? 1 : 0;
    const key = this.key;
    ufidFromKey(key, 0, u32, at + 6);
    for (let i = 0; i < FLOW_WORDS; i++) u32[at + UP_KEY + i] = key[i];
    const b32 = this.bufU32;
    for (let w = 0; w < pw; w++) u32[at + UP_PACKET + w] = b32[w];
    if (ud) {
      const u8 = r.view.u8, o = (at + UP_PACKET + pw) * 4;
      for (let i = 0; i < udLen; i++) u8[o + i] = ud[udAt + i];
    }
    this.upDirty[q] = 1;
    if (type === UPCALL_MISS) st[ST_MISSED]++;
  }

  /**
   * Publishes everything queued on tx rings and upcall queues this round,
   * and adds the round's counters to the shared ones (counting locally
   * keeps shared-memory writes off the per-packet path).
   */
  flush(): void {
    const sh = this.shared, st = this.st;
    this.out.flush(st);
    this.flushCoverage();
    for (let i = 0; i < st.length; i++) {
      if (st[i] !== 0) {
        sh.stats[i] += st[i];
        st[i] = 0;
      }
    }
    for (let q = 0; q < this.upDirty.length && q < this.up.length; q++) {
      if (this.upDirty[q]) {
        this.upDirty[q] = 0;
        this.up[q].publish();
      }
    }
  }

  private flushCoverage(): void {
    if (this.nRxCalls) covReceived.add(this.nRxCalls);
    if (this.nPipelineDrops) covDropPipeline.add(this.nPipelineDrops);
    if (this.nUserspaceExtracts) covFlowExtract.add(this.nUserspaceExtracts);
    this.nRxCalls = 0;
    this.nPipelineDrops = 0;
    this.nUserspaceExtracts = 0;
  }
}

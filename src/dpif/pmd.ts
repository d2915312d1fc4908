/**
 * The poll-mode driver: the datapath's fast path, OVS's
 * dp_netdev_pmd_thread. A datapath has one or more; `Pmd` k owns flow
 * table k (with its EMC, SMC and dpcls) and runs `poll()` in a loop
 * (pmd_worker.ts) or, in tests and in-process datapaths, whenever asked.
 * A poll drains the rx queues assigned to it (_pmd_rxq.ts, _pmd_rx.ts)
 * in bursts (a system port's socket, with recvmmsg: _pmd_system.ts),
 * parses each packet into a flow key (_pmd_extract.ts), looks it up in
 * the EMC, the SMC when on, then dpcls (dfc.ts),
 * counts the hit in the flow's stats and runs its actions
 * (flow/odp_execute.ts, which hands outputs back to the tx side in
 * _pmd_output.ts and userspace actions back here as ACTION upcalls);
 * a miss becomes a MISS upcall on the handler queue the flow hash selects
 * (_pmd_upcall.ts; a full queue drops the packet and counts it lost). It
 * then serves the dpif clients' command rings: flow put/del/get/flush and
 * packet execute. Idle, it sleeps on the doorbell word, or with system
 * ports in poll(2) on their sockets and an eventfd.
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
  loneOutputPort,
  odpExecuteActions,
  type OdpExecuteDatapath,
  setVlanLimit,
} from "../flow/mod.ts";
import { coverageCounter, RingConsumer, RingProducer, timeMsecAt } from "../lib/mod.ts";
import { GSO_NONE, PACKET_GSO_MAX_LEN, PacketBuffer } from "../packet/mod.ts";
import {
  C_PORTS_SEQ,
  C_STOP,
  C_VLAN_LIMIT,
  DatapathShared,
  MAX_CLIENTS,
  PC_CMD_BELL,
  PC_DOORBELL,
  PC_PMD_GEN,
  PC_SLEEPING,
  type PmdShared,
  SLEEP_DOORBELL,
  SLEEP_NONE,
  ST_ERRORS,
  ST_HIT,
  ST_RECIRC,
  STATS_BASELINE,
} from "./_shared.ts";
import { PmdPollList } from "./_pmd_rxq.ts";
import { DatapathFlowCache } from "./dfc.ts";
import { Emc } from "./emc.ts";
import { Smc } from "./smc.ts";
import { FlowOps } from "./flow_ops.ts";
import { servePmdCommands } from "./_pmd_commands.ts";
import { PmdOutput } from "./_pmd_output.ts";
import { PmdUpcalls } from "./_pmd_upcall.ts";
import { PmdSockets } from "./_pmd_system.ts";
import { PmdReceive } from "./_pmd_rx.ts";
import { PmdRecirc } from "./_pmd_recirc.ts";
import { type FlowExtractFn, PmdKeyExtract } from "./_pmd_extract.ts";
import { UPCALL_ACTION, UPCALL_MISS } from "./protocol.ts";

export type { FlowExtractFn } from "./_pmd_extract.ts";

/*
 * OVS counts netdev_received per successful rx call (one packet on a dummy
 * port), drop_action_of_pipeline per packet dropped because translation
 * gave no actions, and flow_extract per packet that reaches a userspace
 * action. The tx side's counters are in _pmd_output.ts.
 */
const covDropPipeline = coverageCounter("drop_action_of_pipeline");
const covFlowExtract = coverageCounter("flow_extract");
/** A TSO super-frame from a system port fits whole. */
const MAX_FRAME = PACKET_GSO_MAX_LEN;
const RANK_INTERVAL_MS = 1000;

export class Pmd implements OdpExecuteDatapath {
  readonly shared: DatapathShared;
  /** This PMD's flow table, counters, control words and command rings. */
  readonly me: PmdShared;
  readonly ops: FlowOps;
  /** EMC, SMC and dpcls. */
  readonly cache: DatapathFlowCache;
  readonly key = new Uint32Array(FLOW_WORDS);
  /** Extraction into `key` and the cache's packet miniflow (_pmd_extract.ts). */
  private readonly keys: PmdKeyExtract;
  /** The packet being processed, always at offset 0; word view for fast copies. */
  readonly pkt = new PacketBuffer(MAX_FRAME);
  readonly buf = this.pkt.data;
  readonly bufU32 = new Uint32Array(this.buf.buffer);
  now = 0;
  /** The rx queues this PMD polls, and the time each takes. */
  private readonly polls: PmdPollList;
  /** Port and poll list refresh, and the bursts received from each queue. */
  private readonly input: PmdReceive;
  private readonly out: PmdOutput;
  /** System ports: their sockets' batches and the idle wait on their fds. */
  private readonly sockets: PmdSockets;
  /** The handlers' upcall queues. */
  private readonly upcalls: PmdUpcalls;
  readonly cmd: RingConsumer[];
  readonly reply: RingProducer[];
  /** This round's datapath counters (ST_* slots) and per-port tx counts. */
  private readonly st = new Float64Array(STATS_BASELINE);
  private lastRank = 0;
  /**
   * The end of the last round (performance.now()), which starts the next
   * one when it follows at once (`poll(true)`): each clock read costs
   * 0.2-0.4 us, a tenth of a 32-packet burst's time on the EMC path.
   */
  private lastEnd = 0;
  private cmdBell = -1;
  private cmdBacklog = false;
  /** Coverage events this round, added to the shared counters in flush(). */
  private nPipelineDrops = 0;
  private nUserspaceExtracts = 0;
  private vlanLimit = 0;
  /** In-port and flow hash of the packet whose actions run (for userspace upcalls). */
  private inPort = 0;
  private hash = 0;
  /** Packet metadata, recirculation, dp_hash and conntrack (_pmd_recirc.ts). */
  readonly meta: PmdRecirc;

  /**
   * `applyVlanLimit` sets other_config:vlan-limit in the flow module whose
   * `extract` this PMD runs (its limit is that module's global); `index`
   * is which of the datapath's PMDs this is.
   */
  constructor(
    shared: DatapathShared,
    readonly extract: FlowExtractFn,
    private readonly applyVlanLimit: (n: number) => void = setVlanLimit,
    index = 0,
  ) {
    this.shared = shared;
    const me = this.me = shared.pmds[index];
    const emc = new Emc(me.table);
    this.ops = new FlowOps(me.table, emc);
    this.cache = new DatapathFlowCache(emc, new Smc(me.table, this.ops.dpcls), this.ops.dpcls);
    this.keys = new PmdKeyExtract(extract, this.key, this.cache.packet);
    this.polls = new PmdPollList(shared, index);
    this.sockets = new PmdSockets(shared, me);
    this.out = new PmdOutput(shared, me, this.pkt, this.bufU32, this.sockets);
    this.input = new PmdReceive(shared, me, this, this.polls, this.sockets, this.out);
    this.upcalls = new PmdUpcalls(shared, me, this.pkt, this.bufU32, this.key, this.st);
    this.cmd = me.cmd.map((v) => new RingConsumer(v));
    this.reply = me.reply.map((v) => new RingProducer(v));
    this.meta = new PmdRecirc(shared.buffers.conntrack, this);
  }

  /**
   * One round of work; returns how many packets and commands it handled.
   * `continued`: the round follows the last one at once (no sleep between),
   * so it starts when that one ended, without reading the clock again.
   */
  poll(continued = false): number {
    const sh = this.shared;
    const start = continued ? this.lastEnd : performance.now();
    this.now = timeMsecAt(start);
    this.cache.configure(sh.ctl);
    const vlanLimit = Atomics.load(sh.ctl, C_VLAN_LIMIT);
    if (vlanLimit !== this.vlanLimit) {
      this.vlanLimit = vlanLimit;
      this.applyVlanLimit(vlanLimit - 1);
    }
    const portsSeq = Atomics.load(sh.ctl, C_PORTS_SEQ);
    this.upcalls.refresh(portsSeq);
    this.input.refresh(portsSeq);
    let work = this.input.pollQueues(start);
    // Command rings are scanned only when a client has rung, or when the
    // last scan left work behind (reply ring full, round limit).
    const cmdBell = Atomics.load(this.me.ctl, PC_CMD_BELL);
    if (cmdBell !== this.cmdBell || this.cmdBacklog) {
      // Commands are not the queues' time.
      this.input.settle(performance.now());
      this.cmdBell = cmdBell;
      this.cmdBacklog = false;
      for (let c = 0; c < MAX_CLIENTS; c++) {
        if (!this.cmd[c].hasData()) continue;
        work += servePmdCommands(this, c);
        if (this.cmd[c].hasData()) this.cmdBacklog = this.input.drained = false;
      }
    }
    this.flush();
    if (this.now - this.lastRank >= RANK_INTERVAL_MS) {
      this.ops.dpcls.rank();
      this.meta.conntrack.table.sweep(this.now, 4096);
      this.lastRank = this.now;
    }
    const end = performance.now();
    this.input.settle(end);
    this.polls.endRound(work, start, end, this.me.stats);
    this.lastEnd = end;
    return work;
  }

  countError(): void {
    this.st[ST_ERRORS]++;
  }

  /**
   * Polls until stopped, or until a newer PMD generation takes over,
   * sleeping when idle: on the doorbell word, or with system ports in
   * poll(2) on their sockets and the wake eventfd (_pmd_system.ts).
   */
  run(generation = 0): void {
    const dpCtl = this.shared.ctl, ctl = this.me.ctl;
    let continued = false;
    while (Atomics.load(dpCtl, C_STOP) === 0 && Atomics.load(ctl, PC_PMD_GEN) === generation) {
      const bell = Atomics.load(ctl, PC_DOORBELL);
      const work = this.poll(continued);
      continued = true;
      if (this.sockets.any) {
        // A round that left nothing behind goes straight to poll(2), which
        // returns at once if a socket got more meanwhile: no extra round of
        // empty receives per packet at low rates.
        if (work > 0 && !this.input.drained) continue;
        this.sockets.sleep(bell, RANK_INTERVAL_MS);
        continued = false;
        continue;
      }
      if (work > 0) continue;
      Atomics.store(ctl, PC_SLEEPING, SLEEP_DOORBELL);
      if (Atomics.load(ctl, PC_DOORBELL) === bell) {
        Atomics.wait(ctl, PC_DOORBELL, bell, RANK_INTERVAL_MS);
        continued = false;
      }
      Atomics.store(ctl, PC_SLEEPING, SLEEP_NONE);
    }
  }

  /** Runs the packet in `buf` through EMC, SMC, dpcls and its flow's actions. */
  processPacket(inPort: number): void {
    const key = this.key, st = this.st, meta = this.meta;
    if (meta.depth > 0) this.keys.recirculated(this.buf, this.pkt.len, inPort, meta);
    else {
      meta.reset();
      this.keys.fresh(this.buf, this.bufU32, this.pkt.len, inPort);
    }
    const slot = this.cache.lookup(key, st);
    const h = this.cache.packet.hash;
    if (slot < 0) {
      this.upcalls.queue(UPCALL_MISS, inPort, h, 0, 0);
      return;
    }
    st[ST_HIT]++;
    const tf = key[71];
    this.me.table.hit(
      slot,
      1,
      this.pkt.len,
      this.now,
      ((tf & 0xff) << 8) | ((tf >>> 8) & 0xff),
    );
    const t = this.me.table;
    this.runActions(t.u8, t.actionOffset(slot), t.actionBytes(slot), inPort, h);
  }

  /**
   * Runs the encoded actions `acts[at..at+n)` on the packet in `buf` as a
   * batch of its own (a dpif execute): its outputs are sends of their own.
   * The packet's metadata is `md[mdAt..]` (EXEC_MD_WORDS), or none.
   */
  execute(
    acts: Uint8Array,
    at: number,
    n: number,
    inPort: number,
    h: number,
    md?: Uint32Array,
    mdAt = -1,
  ): void {
    this.pkt.olFlags = 0;
    this.pkt.gsoType = GSO_NONE;
    this.keys.invalidate();
    if (md && mdAt >= 0) this.meta.load(md, mdAt, this.key);
    else this.meta.reset();
    this.runActions(acts, at, n, inPort, h);
    this.out.batch++;
  }

  private runActions(acts: Uint8Array, at: number, n: number, inPort: number, h: number): void {
    if (n < ACT_HEADER_LEN) {
      // An empty list is the translation's explicit drop (XLATE_OK).
      this.nPipelineDrops++;
      return;
    }
    const port = loneOutputPort(acts, at, n);
    if (port >= 0) {
      this.out.send(port, this.pkt.len);
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
    this.upcalls.queue(UPCALL_ACTION, this.inPort, this.hash, udLen, udAt, acts, last);
  }

  /** OdpExecuteDatapath: recirc(id), through the lookup again (_pmd_recirc.ts). */
  recirculate(_pkt: PacketBuffer, id: number, last: boolean): void {
    const inPort = this.inPort, h = this.hash;
    this.meta.recirculate(inPort, id, last);
    this.keys.invalidate();
    this.inPort = inPort;
    this.hash = h;
  }

  /** OdpExecuteDatapath: hash(l4|sym_l4(basis)) sets dp_hash. */
  setDpHash(_pkt: PacketBuffer, alg: number, basis: number): void {
    this.meta.hash(alg, basis);
  }

  /** OdpExecuteDatapath: the conntrack action. */
  conntrack(_pkt: PacketBuffer, acts: Uint8Array, at: number): void {
    this.keys.invalidate();
    this.meta.ct(acts, at);
  }

  /** OdpExecuteDatapath: ct_clear. */
  conntrackClear(): void {
    this.keys.invalidate();
    this.meta.ctClear();
  }

  /** OdpExecuteDatapath: a clone(...) that is not last works on a copy (_pmd_recirc.ts). */
  cloneBegin(): void {
    this.meta.saveCopy();
  }

  /** OdpExecuteDatapath: the packet after a clone(...) is the one before it. */
  cloneEnd(): void {
    this.meta.restoreCopy();
    this.keys.invalidate();
  }

  /** Counts a recirculated pass (PMD_STAT_RECIRC). */
  countRecirc(): void {
    this.st[ST_RECIRC]++;
  }

  /** OdpExecuteDatapath: queues the packet's first `len` bytes on the port's tx ring. */
  output(_pkt: PacketBuffer, odpPort: number, len: number): void {
    this.out.send(odpPort, len);
  }

  /**
   * Publishes everything queued on tx rings and upcall queues this round,
   * and adds the round's counters to the shared ones (counting locally
   * keeps shared-memory writes off the per-packet path).
   */
  flush(): void {
    const stats = this.me.stats, st = this.st;
    this.out.flush(st);
    this.flushCoverage();
    for (let i = 0; i < st.length; i++) {
      if (st[i] !== 0) {
        stats[i] += st[i];
        st[i] = 0;
      }
    }
    this.upcalls.publish();
  }

  private flushCoverage(): void {
    this.input.flushCoverage();
    if (this.nPipelineDrops) covDropPipeline.add(this.nPipelineDrops);
    if (this.nUserspaceExtracts) covFlowExtract.add(this.nUserspaceExtracts);
    this.nPipelineDrops = 0;
    this.nUserspaceExtracts = 0;
  }
}

/**
 * A PMD's receive side, after OVS's pmd_load_queues_and_ports and
 * dp_netdev_process_rxq_port: on a port table change it rebuilds the
 * list of active ports and its poll list (_pmd_rxq.ts), reopening the rx
 * rings it took over and its system ports' sockets (_pmd_system.ts); each
 * round it drains every polled queue in bursts, handing each packet to
 * the PMD's lookup and counting the port's rx packets and bytes.
 *
 * Allocates nothing per packet: packets are copied into the PMD's one
 * scratch buffer.
 *
 * Thread-safety: owned by one Pmd and used only on its thread; the rings
 * and port counters it touches are this PMD's (or, for rx rings, read
 * only by it).
 */
import type { FrameRxBatch } from "../netdev/mod.ts";
import { coverageCounter, RingConsumer } from "../lib/mod.ts";
import { GSO_NONE, PACKET_GSO_MAX_LEN, type PacketBuffer } from "../packet/mod.ts";
import {
  type DatapathShared,
  MAX_PORTS,
  P_ACTIVE,
  P_ODP,
  PF_RX_BYTES,
  PF_RX_DROPPED,
  PF_RX_PACKETS,
  type PmdShared,
  ST_RX,
} from "./_shared.ts";
import type { PmdOutput } from "./_pmd_output.ts";
import type { PmdPollList } from "./_pmd_rxq.ts";
import { type PmdSockets, SOCKET_BURST } from "./_pmd_system.ts";

const covReceived = coverageCounter("netdev_received");

const BURST = 32;
const MAX_FRAME = PACKET_GSO_MAX_LEN;

/** What the PMD lends: its packet buffer and a way to run a packet through the lookup. */
export interface ReceiveHost {
  readonly pkt: PacketBuffer;
  readonly bufU32: Uint32Array;
  /** Runs the packet in the buffer through the lookup and its flow's actions. */
  processPacket(inPort: number): void;
  /** Counts a packet that failed in processing (the PMD's ST_ERRORS). */
  countError(): void;
}

export class PmdReceive {
  private readonly rx: RingConsumer[];
  private portsSeq = -1;
  private readonly active = new Int32Array(MAX_PORTS);
  private nActive = 0;
  /** False when the last round left input behind (a full burst, a command backlog). */
  drained = true;
  /** netdev_received events this round, added to the coverage counter in flushCoverage(). */
  private nRxCalls = 0;
  /** The poll entry that received last this round, not yet charged its time (-1: none). */
  private unsettled = -1;
  /** When the unsettled entry's time began. */
  private unsettledStart = 0;

  constructor(
    private readonly shared: DatapathShared,
    private readonly me: PmdShared,
    private readonly host: ReceiveHost,
    private readonly polls: PmdPollList,
    private readonly sockets: PmdSockets,
    private readonly out: PmdOutput,
  ) {
    this.rx = shared.rx.map((v) => new RingConsumer(v));
  }

  /** Rebuilds the port and poll lists when the port table changed (`portsSeq`) or a reassignment waits. */
  refresh(portsSeq: number): void {
    if (portsSeq === this.portsSeq && !this.polls.pending) return;
    const sh = this.shared;
    this.portsSeq = portsSeq;
    this.nActive = 0;
    for (let i = 0; i < MAX_PORTS; i++) {
      if (Atomics.load(sh.portI32, sh.portI(i, P_ACTIVE)) !== 0) this.active[this.nActive++] = i;
    }
    this.polls.refresh();
    // A queue taken over from another PMD is read from where that one stopped.
    for (let c = 0; c < this.polls.nClaimed; c++) {
      const r = this.polls.claimed[c];
      this.rx[r] = new RingConsumer(sh.rx[r]);
    }
    this.sockets.refresh(
      this.active,
      this.nActive,
      portsSeq,
      this.polls.hasQueue0,
      this.polls.rxq,
      this.polls.n,
    );
  }

  /**
   * Polls every queue on the poll list once; returns the packets received.
   * `start` is the round's start time (performance.now()): a queue that
   * received is charged the time since the last such queue's start (empty
   * polls cost next to nothing). The clock is read when the next busy
   * queue starts, and the last one is charged up to the round's end
   * (`settle`), so a round with one busy queue reads no clock here.
   */
  pollQueues(start: number): number {
    const sh = this.shared, polls = this.polls;
    let work = 0;
    this.drained = true;
    this.unsettled = -1;
    for (let j = 0; j < polls.n; j++) {
      const i = polls.port[j];
      if (sh.portI32[sh.portI(i, P_ACTIVE)] === 0) continue;
      let n = 0;
      const r = polls.rxq[j], sockets = this.sockets;
      if (sockets.fd[i] < 0) n = this.pollPort(i, r);
      else if (polls.queue[j] === 0) {
        if (sockets.shouldReceive(i)) n = this.pollSocket(i, sockets.rx[i]!, sockets.fd[i]);
      } else if (sockets.qfd[r] >= 0 && sockets.shouldReceiveQueue(r)) {
        n = this.pollSocket(i, sockets.qrx[r]!, sockets.qfd[r]);
      }
      if (n > 0) {
        if (this.unsettled >= 0) {
          const now = performance.now();
          polls.account(this.unsettled, now - start);
          start = now;
        }
        this.unsettled = j;
      }
      work += n;
    }
    this.unsettledStart = start;
    this.sockets.receivesDone();
    return work;
  }

  /** Charges the round's last busy queue its time up to `end` (its sends flushed by then). */
  settle(end: number): void {
    if (this.unsettled >= 0) this.polls.account(this.unsettled, end - this.unsettledStart);
    this.unsettled = -1;
  }

  /**
   * Receives a burst from a system port's socket (`fd`, its queue 0's or
   * another queue's in its fanout group) and runs it through the
   * datapath; the burst is one batch (one netdev_received, one send per
   * output port), as a netdev_linux rx call is in OVS.
   */
  private pollSocket(i: number, rx: FrameRxBatch, fd: number): number {
    const sh = this.shared, host = this.host;
    const n = rx.recv(fd);
    if (n <= 0) return 0;
    if (n === SOCKET_BURST) this.drained = false;
    const inPort = sh.portI32[sh.portI(i, P_ODP)];
    let bytes = 0, dropped = 0;
    for (let k = 0; k < n; k++) {
      if (!this.sockets.load(rx, k, host.pkt, host.bufU32)) {
        dropped++;
        continue;
      }
      bytes += host.pkt.len;
      try {
        host.processPacket(inPort);
      } catch {
        host.countError();
      }
    }
    this.out.batch++;
    this.nRxCalls++;
    this.me.portF64[sh.portF(i, PF_RX_PACKETS)] += n - dropped;
    this.me.portF64[sh.portF(i, PF_RX_BYTES)] += bytes;
    if (dropped) this.me.portF64[sh.portF(i, PF_RX_DROPPED)] += dropped;
    this.me.stats[ST_RX] += n - dropped;
    return n;
  }

  private pollPort(i: number, rxq: number): number {
    const ring = this.rx[rxq];
    const sh = this.shared, host = this.host, pkt = host.pkt;
    const u32 = ring.view.u32, b32 = host.bufU32;
    const inPort = sh.portI32[sh.portI(i, P_ODP)];
    let n = 0;
    let bytes = 0;
    pkt.olFlags = 0;
    pkt.gsoType = GSO_NONE;
    for (; n < BURST; n++) {
      const at = ring.next();
      if (at < 0) break;
      const len = u32[at] > MAX_FRAME ? MAX_FRAME : u32[at];
      for (let w = 0, nw = (len + 3) >> 2; w < nw; w++) b32[w] = u32[at + 1 + w];
      pkt.len = len;
      bytes += len;
      try {
        host.processPacket(inPort);
      } catch {
        // A packet must never take the PMD down: count it and go on.
        host.countError();
      }
      // Every netdev here is a dummy in OVS's sense (injected, rx_pcap,
      // stream), whose rx call yields one packet: each packet is a batch.
      this.out.batch++;
    }
    if (n === BURST) this.drained = false;
    if (n > 0) {
      this.nRxCalls += n;
      ring.release();
      this.me.portF64[sh.portF(i, PF_RX_PACKETS)] += n;
      this.me.portF64[sh.portF(i, PF_RX_BYTES)] += bytes;
      this.me.stats[ST_RX] += n;
    }
    return n;
  }

  /** Adds this round's netdev_received events to the coverage counter. */
  flushCoverage(): void {
    if (this.nRxCalls) covReceived.add(this.nRxCalls);
    this.nRxCalls = 0;
  }
}

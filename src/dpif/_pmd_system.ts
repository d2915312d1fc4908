/**
 * The PMD's side of `system` ports (fd ports), after OVS's
 * netdev_linux_rxq_recv_sock and the PMD's wait on its rxqs: per port a
 * receive and a send batch (recvmmsg / sendmmsg, buffers allocated when
 * the port appears, never per packet), and the idle wait.
 *
 * Receive: `load` copies one received frame into the PMD's packet buffer,
 * puts back the VLAN tag the kernel stripped (PACKET_AUXDATA) and turns
 * the frame's virtio_net_hdr into the packet's offload facts (partial
 * checksum, TCP GSO type and size), as netdev_linux_parse_vnet_hdr does;
 * a frame with a GSO type other than TCP is refused (counted as dropped).
 *
 * A system port with several rx queues (options:n_rxq) has a socket per
 * queue, all in one PACKET_FANOUT group: queue 0 is the port's own
 * socket (which also sends), queues 1.. receive only (`qfd`, by rx queue
 * index); each is polled by the PMD its queue is assigned to.
 *
 * Wake: with fd ports the idle PMD sleeps in poll(2) on the ports' fds
 * plus an eventfd; it sets PC_SLEEPING to SLEEP_POLL first, so a thread
 * that rings the doorbell meanwhile writes the eventfd
 * (PmdShared.ring). The eventfd (one per PMD) is made on first need and its number
 * published in PC_WAKE_FD before any SLEEP_POLL; it lives as long as the
 * process (a ringer may hold its number at any time).
 *
 * After a poll(2), the round that follows receives only on the sockets
 * poll reported (`shouldReceive`): on a loaded machine, every system call
 * right after a sleep runs with cold caches (an empty recvmmsg then costs
 * ~20 µs instead of ~3), and that was a tenth of a packet's one-way trip.
 * A round that does not follow a poll (the last one left input behind)
 * receives on every socket.
 *
 * Thread-safety: owned by one Pmd, used only on its thread. The fds are
 * opened and closed by the netdevs' owner (main thread).
 */
import {
  eventfdCreate,
  eventfdDrain,
  FdPoller,
  type FrameRxBatch,
  type FrameTxBatch,
  PacketRxBatch,
  PacketTxBatch,
  TapRxBatch,
  TapTxBatch,
  VNET_F_NEEDS_CSUM,
  VNET_GSO_ECN,
  VNET_GSO_NONE,
  VNET_GSO_TCPV4,
  VNET_GSO_TCPV6,
} from "../netdev/mod.ts";
import { OL_L4_CSUM_PARTIAL, PACKET_GSO_MAX_LEN, type PacketBuffer } from "../packet/mod.ts";
import {
  type DatapathShared,
  MAX_PORTS,
  MAX_RXQ,
  P_FD,
  P_TAP,
  P_VNET,
  PC_DOORBELL,
  PC_PORTS_ACK,
  PC_SLEEPING,
  PC_WAKE_FD,
  type PmdShared,
  SLEEP_NONE,
  SLEEP_POLL,
} from "./_shared.ts";

export const SOCKET_BURST = 32;
/** Frames as long as the PMD's packet buffer minus room for a VLAN tag put back. */
const RX_FRAME_MAX = PACKET_GSO_MAX_LEN - 4;

export class PmdSockets {
  /** Per port index: its socket's fd, or -1 for a ring port. */
  readonly fd = new Int32Array(MAX_PORTS).fill(-1);
  readonly rx: (FrameRxBatch | undefined)[] = new Array(MAX_PORTS);
  readonly tx: (FrameTxBatch | undefined)[] = new Array(MAX_PORTS);
  private readonly vnet = new Uint8Array(MAX_PORTS);
  /** Per port index: 1 when its fd is a tap (read/write batches). */
  private readonly tap = new Uint8Array(MAX_PORTS);
  /** Per rx queue index: the fd of a system port's queue >= 1 that this PMD polls, or -1. */
  readonly qfd = new Int32Array(MAX_PORTS * MAX_RXQ).fill(-1);
  readonly qrx: (FrameRxBatch | undefined)[] = new Array(MAX_PORTS * MAX_RXQ);
  private readonly qPollSlot = new Int32Array(MAX_PORTS * MAX_RXQ).fill(-1);
  private readonly poller = new FdPoller(MAX_PORTS * MAX_RXQ + 1);
  private wakeFd = -1;
  /** Per port index: its socket's position in the poller (the eventfd is 0). */
  private readonly pollSlot = new Int32Array(MAX_PORTS).fill(-1);
  /** True from a completed poll(2) until the next round's receives are done. */
  private polled = false;

  /** `pmd` is the PMD these sockets belong to (its wake eventfd, its acknowledgements). */
  constructor(private readonly shared: DatapathShared, private readonly pmd: PmdShared) {}

  /** True when some port is a socket (the PMD then sleeps in poll). */
  get any(): boolean {
    return this.poller.size > 1;
  }

  /**
   * After port change `portsSeq`: batches for the active ports that have
   * sockets (any PMD sends on any port), poll(2) on those this PMD
   * receives on (`mine[i]` 1); then acknowledges the change
   * (PC_PORTS_ACK), since the fds of earlier port tables are no longer
   * used and their owner may close them.
   */
  refresh(
    active: Int32Array,
    nActive: number,
    portsSeq: number,
    mine: Uint8Array,
    queues: Int32Array,
    nQueues: number,
  ): void {
    const sh = this.shared;
    const want = new Int32Array(MAX_PORTS).fill(-1);
    for (let j = 0; j < nActive; j++) {
      const i = active[j];
      want[i] = Atomics.load(sh.portI32, sh.portI(i, P_FD)) - 1;
    }
    const wantQ = this.refreshQueues(want, queues, nQueues);
    this.poller.clear();
    this.pollSlot.fill(-1);
    this.qPollSlot.fill(-1);
    this.polled = false;
    for (let i = 0; i < MAX_PORTS; i++) {
      const fd = want[i];
      const vnet = fd >= 0 ? Atomics.load(sh.portI32, sh.portI(i, P_VNET)) : 0;
      const tap = fd >= 0 ? Atomics.load(sh.portI32, sh.portI(i, P_TAP)) : 0;
      if (fd !== this.fd[i] || vnet !== this.vnet[i] || tap !== this.tap[i]) {
        this.fd[i] = fd;
        this.vnet[i] = vnet;
        this.tap[i] = tap;
        this.rx[i] = fd < 0
          ? undefined
          : tap
          ? new TapRxBatch(SOCKET_BURST, vnet !== 0)
          : new PacketRxBatch(SOCKET_BURST, RX_FRAME_MAX, vnet !== 0);
        this.tx[i] = fd < 0
          ? undefined
          : tap
          ? new TapTxBatch(SOCKET_BURST, vnet !== 0)
          : new PacketTxBatch(SOCKET_BURST, PACKET_GSO_MAX_LEN, vnet !== 0);
      }
    }
    if (want.some((fd, i) => fd >= 0 && mine[i] !== 0) || wantQ.some((fd) => fd >= 0)) {
      const ctl = this.pmd.ctl;
      if (this.wakeFd < 0) {
        // One eventfd per PMD, kept across PMD restarts: a ringer
        // may still hold its number, so it is never closed under it.
        this.wakeFd = Atomics.load(ctl, PC_WAKE_FD) || eventfdCreate();
        Atomics.store(ctl, PC_WAKE_FD, this.wakeFd);
      }
      this.poller.add(this.wakeFd);
      for (let i = 0; i < MAX_PORTS; i++) {
        if (want[i] < 0 || mine[i] === 0) continue;
        this.pollSlot[i] = this.poller.size;
        this.poller.add(want[i]);
      }
      for (let r = 0; r < wantQ.length; r++) {
        if (wantQ[r] < 0) continue;
        this.qPollSlot[r] = this.poller.size;
        this.poller.add(wantQ[r]);
      }
    }
    Atomics.store(this.pmd.ctl, PC_PORTS_ACK, portsSeq);
    Atomics.notify(this.pmd.ctl, PC_PORTS_ACK);
  }

  /**
   * The fds of the extra rx queues (q >= 1) of system ports among the
   * queues this PMD polls (`queues[0..nQueues)`, rx queue indices), by rx
   * queue index (-1 for none), with their receive batches made anew where
   * the fd changed.
   */
  private refreshQueues(want: Int32Array, queues: Int32Array, nQueues: number): Int32Array {
    const sh = this.shared;
    const wantQ = new Int32Array(MAX_PORTS * MAX_RXQ).fill(-1);
    for (let j = 0; j < nQueues; j++) {
      const r = queues[j], i = (r / MAX_RXQ) | 0;
      if (r % MAX_RXQ === 0 || want[i] < 0) continue;
      wantQ[r] = Atomics.load(sh.rxqFd, r) - 1;
    }
    for (let r = 0; r < wantQ.length; r++) {
      if (wantQ[r] === this.qfd[r]) continue;
      this.qfd[r] = wantQ[r];
      const vnet = Atomics.load(sh.portI32, sh.portI((r / MAX_RXQ) | 0, P_VNET)) !== 0;
      this.qrx[r] = wantQ[r] < 0 ? undefined : new PacketRxBatch(SOCKET_BURST, RX_FRAME_MAX, vnet);
    }
    return wantQ;
  }

  /**
   * Copies frame k of `b`'s last receive into `pkt` (whose word view is
   * `dst32`), VLAN tag put back and offload facts set; false when the
   * frame cannot be used.
   */
  load(b: FrameRxBatch, k: number, pkt: PacketBuffer, dst32: Uint32Array): boolean {
    let len = b.frameLength(k);
    if (len < 14) return false;
    let gso = VNET_GSO_NONE, ecn = 0, gsoSize = 0, flags = 0;
    if (b.hdrLen) {
      const h = b.header, o = k * 16;
      flags = h[o];
      gso = h[o + 1] & ~VNET_GSO_ECN;
      ecn = h[o + 1] & VNET_GSO_ECN;
      gsoSize = h[o + 4] | (h[o + 5] << 8);
      if (gso !== VNET_GSO_NONE && gso !== VNET_GSO_TCPV4 && gso !== VNET_GSO_TCPV6) return false;
    }
    const tag = b.vlanTag(k);
    const src = b.data32, dst = pkt.data;
    const at = b.offset(k) >> 2;
    if (tag < 0) {
      for (let w = 0, nw = (len + 3) >> 2; w < nw; w++) dst32[w] = src[at + w];
    } else {
      // MACs, then the tag, then the rest of the frame one word further on.
      dst32[0] = src[at];
      dst32[1] = src[at + 1];
      dst32[2] = src[at + 2];
      dst[12] = tag >>> 24;
      dst[13] = (tag >>> 16) & 0xff;
      dst[14] = (tag >>> 8) & 0xff;
      dst[15] = tag & 0xff;
      for (let w = 3, nw = (len + 3) >> 2; w < nw; w++) dst32[w + 1] = src[at + w];
      len += 4;
    }
    pkt.len = len;
    pkt.olFlags = flags & VNET_F_NEEDS_CSUM ? OL_L4_CSUM_PARTIAL : 0;
    pkt.gsoType = gso === VNET_GSO_NONE ? gso : gso | ecn;
    pkt.gsoSize = gso === VNET_GSO_NONE ? 0 : gsoSize;
    return true;
  }

  /**
   * Whether this round should call recvmmsg on port i's socket: unless
   * the round follows a poll that found the socket quiet (the call would
   * only say EAGAIN).
   */
  shouldReceive(i: number): boolean {
    return !this.polled || this.poller.ready(this.pollSlot[i]);
  }

  /** shouldReceive for the socket of rx queue index `r` (a queue >= 1). */
  shouldReceiveQueue(r: number): boolean {
    return !this.polled || this.poller.ready(this.qPollSlot[r]);
  }

  /** Ends a round's receives: the next round receives on every socket unless it follows a poll. */
  receivesDone(): void {
    this.polled = false;
  }

  /**
   * Sleeps in poll(2) until a port's socket or the eventfd is readable, or
   * `timeoutMs` passes, unless the doorbell moved on from `bell`.
   */
  sleep(bell: number, timeoutMs: number): void {
    const ctl = this.pmd.ctl;
    Atomics.store(ctl, PC_SLEEPING, SLEEP_POLL);
    if (Atomics.load(ctl, PC_DOORBELL) === bell) {
      // The eventfd is the poller's first fd.
      const n = this.poller.poll(timeoutMs);
      // A failed poll (EINTR) says nothing about the sockets: receive on all.
      this.polled = n >= 0;
      if (n > 0 && this.poller.readable(0)) eventfdDrain(this.wakeFd);
    }
    Atomics.store(ctl, PC_SLEEPING, SLEEP_NONE);
  }
}

/**
 * The PMD's transmit side, after OVS's per-port output batches
 * (dp_netdev_pmd_flush_output_packets): `send` queues a packet for a port
 * and counts it; `flush`, once per poll round, hands the queued packets
 * over and adds the round's counts to the shared port and datapath stats,
 * so that shared memory is not written per packet. A "send" in OVS's
 * netdev_sent sense is one port's share of one batch: `batch` is bumped by
 * the PMD for each batch (every rx burst, every dpif execute).
 *
 * A ring port's packets go on its tx ring (when its netdev wants them). A
 * system port's go into its send batch (_pmd_system.ts), written to the
 * socket with sendmmsg when the batch is full or the round ends; with a
 * vnet header the packet keeps its offloads (the kernel completes the
 * checksum and segments, as netdev_linux_prepend_vnet_hdr asks it to),
 * with csum_start found afresh so VLAN pushes and pops are accounted for.
 * Anywhere else a packet with offloads is finished in software first
 * (_pmd_offload.ts): a super-frame leaves as its segments.
 *
 * Thread-safety: owned by one Pmd, used only on its thread. Nothing here
 * allocates after construction.
 */
import { coverageCounter, RingProducer } from "../lib/mod.ts";
import { type FrameTxBatch, VNET_F_NEEDS_CSUM, VNET_GSO_NONE } from "../netdev/mod.ts";
import {
  GSO_NONE,
  HDR_L4,
  locateHeaders,
  OL_L4_CSUM_PARTIAL,
  type PacketBuffer,
  setPartialL4Checksum,
  tcpHeadersLength,
} from "../packet/mod.ts";
import { SoftwareOffload } from "./_pmd_offload.ts";
import type { PmdSockets } from "./_pmd_system.ts";
import {
  DatapathShared,
  MAX_PORTS,
  P_ACTIVE,
  P_RECORD_TX,
  PF_TX_BYTES,
  PF_TX_DROPPED,
  PF_TX_PACKETS,
  type PmdShared,
  ST_SENT_BATCHES,
  ST_SENT_PKTS,
  ST_TX_DROPPED,
} from "./_shared.ts";

/*
 * OVS counts netdev_sent per send call (one port's share of one batch) and
 * datapath_drop_invalid_port per packet sent to a port the datapath does
 * not have.
 */
const covSent = coverageCounter("netdev_sent");
const covInvalidPort = coverageCounter("datapath_drop_invalid_port");

export class PmdOutput {
  /** The current batch, and the batch each port last got a send in. */
  batch = 1;
  private readonly sendBatch = new Uint32Array(MAX_PORTS);
  private readonly tx: RingProducer[];
  private readonly txDirty = new Uint8Array(MAX_PORTS);
  private readonly txPackets = new Float64Array(MAX_PORTS);
  private readonly txBytes = new Float64Array(MAX_PORTS);
  private readonly txDropped = new Float64Array(MAX_PORTS);
  /** Ports with tx frames or counts pending this round. */
  private readonly txDirtyList = new Int32Array(MAX_PORTS);
  private nTxDirty = 0;
  private nSends = 0;
  private nInvalidPort = 0;
  private readonly soft = new SoftwareOffload();

  /**
   * `pkt` is the PMD's packet buffer and `frame` its word view; `sockets`
   * the PMD's system ports; `pmd` the PMD whose tx rings (one per port)
   * these are.
   */
  constructor(
    private readonly shared: DatapathShared,
    private readonly pmd: PmdShared,
    private readonly pkt: PacketBuffer,
    private readonly frame: Uint32Array,
    private readonly sockets: PmdSockets,
  ) {
    this.tx = Array.from(
      { length: MAX_PORTS },
      (_, i) => new RingProducer(shared.tx[shared.txqIndex(i, pmd.index)]),
    );
  }

  /** Queues the first `len` bytes of the packet for `odpPort`. */
  send(odpPort: number, len: number): void {
    const sh = this.shared;
    const i = odpPort < 65536 ? sh.odpToIndex[odpPort] : -1;
    if (i < 0 || sh.portI32[sh.portI(i, P_ACTIVE)] === 0) {
      this.pmd.stats[ST_TX_DROPPED]++;
      this.nInvalidPort++;
      return;
    }
    if (this.sendBatch[i] !== this.batch) {
      this.sendBatch[i] = this.batch;
      this.nSends++;
    }
    if (this.txPackets[i] === 0 && this.txDropped[i] === 0) this.txDirtyList[this.nTxDirty++] = i;
    const pkt = this.pkt;
    const sock = this.sockets.tx[i];
    if (!pkt.hasOffloads) this.queue(i, sock, this.frame, len);
    else if (sock && sock.hdrLen) this.queueOffloaded(i, sock, len);
    else this.queueSoftware(i, sock, len);
  }

  /** Finishes offloads in software and queues the packet, or its segments. */
  private queueSoftware(i: number, sock: FrameTxBatch | undefined, len: number): void {
    const pkt = this.pkt, soft = this.soft;
    const n = soft.prepare(pkt, len);
    if (n === 0) {
      this.txDropped[i]++;
      return;
    }
    if (pkt.gsoType === GSO_NONE) {
      this.queue(i, sock, this.frame, len);
      return;
    }
    const sh = this.shared;
    if (!sock && sh.portI32[sh.portI(i, P_RECORD_TX)] === 0) {
      // Nobody takes this ring port's frames: count the segments unbuilt.
      this.txPackets[i] += n;
      this.txBytes[i] += len + (n - 1) * soft.headersLen;
      return;
    }
    for (let s = 0; s < n; s++) this.queue(i, sock, soft.seg32, soft.segment(pkt, len, s));
  }

  /** Queues a plain frame (`src` words, `len` bytes) on port i's socket batch or tx ring. */
  private queue(i: number, sock: FrameTxBatch | undefined, src: Uint32Array, len: number): void {
    if (sock) {
      const d32 = sock.data32, at = sock.nextOffset() >> 2;
      if (sock.hdrLen) sock.header.fill(0, sock.count * 16, sock.count * 16 + sock.hdrLen);
      for (let w = 0, nw = (len + 3) >> 2; w < nw; w++) d32[at + w] = src[w];
      this.push(i, sock, len);
      return;
    }
    const sh = this.shared;
    if (sh.portI32[sh.portI(i, P_RECORD_TX)] !== 0) {
      const r = this.tx[i];
      const at = r.reserve(1 + ((len + 3) >> 2));
      if (at < 0) {
        this.txDropped[i]++;
        return;
      }
      const u32 = r.view.u32;
      u32[at] = len;
      for (let w = 0, nw = (len + 3) >> 2; w < nw; w++) u32[at + 1 + w] = src[w];
      this.txDirty[i] = 1;
    }
    this.txPackets[i]++;
    this.txBytes[i] += len;
  }

  /** Queues the packet with a virtio_net_hdr that leaves checksum and segmentation to the kernel. */
  private queueOffloaded(i: number, sock: FrameTxBatch, len: number): void {
    const pkt = this.pkt, hdr = this.soft.hdr, p = pkt.data;
    locateHeaders(p, len, hdr);
    const csumOff = setPartialL4Checksum(p, len, hdr);
    const gso = pkt.gsoType;
    const headersLen = gso === GSO_NONE ? 0 : tcpHeadersLength(p, len, hdr);
    if (csumOff < 0 || headersLen < 0) {
      // Not TCP/UDP after all (rewritten, or cut short): nothing to offload.
      if (gso !== GSO_NONE) {
        this.txDropped[i]++;
        return;
      }
      pkt.olFlags &= ~OL_L4_CSUM_PARTIAL;
      this.queue(i, sock, this.frame, len);
      return;
    }
    const h = sock.header, o = sock.count * 16, l4 = hdr[HDR_L4];
    h[o] = VNET_F_NEEDS_CSUM;
    h[o + 1] = gso === GSO_NONE ? VNET_GSO_NONE : gso;
    h[o + 2] = headersLen & 0xff;
    h[o + 3] = headersLen >> 8;
    const gsoSize = gso === GSO_NONE ? 0 : pkt.gsoSize;
    h[o + 4] = gsoSize & 0xff;
    h[o + 5] = gsoSize >> 8;
    h[o + 6] = l4 & 0xff;
    h[o + 7] = l4 >> 8;
    h[o + 8] = csumOff;
    h[o + 9] = 0;
    const d32 = sock.data32, at = sock.nextOffset() >> 2, src = this.frame;
    for (let w = 0, nw = (len + 3) >> 2; w < nw; w++) d32[at + w] = src[w];
    this.push(i, sock, len);
  }

  private push(i: number, sock: FrameTxBatch, len: number): void {
    sock.push(len);
    this.txPackets[i]++;
    this.txBytes[i] += len;
    if (sock.full) this.flushSocket(i, sock);
  }

  private flushSocket(i: number, sock: FrameTxBatch): void {
    const n = sock.count;
    const sent = sock.flush(this.sockets.fd[i]);
    if (sent < n) {
      this.txPackets[i] -= n - sent;
      this.txDropped[i] += n - sent;
    }
  }

  /** Sends the round's socket batches, publishes its tx rings; adds its counts to `st` (ST_* slots) and the ports. */
  flush(st: Float64Array): void {
    const sh = this.shared;
    st[ST_SENT_BATCHES] += this.nTxDirty;
    for (let j = 0; j < this.nTxDirty; j++) {
      const i = this.txDirtyList[j];
      const sock = this.sockets.tx[i];
      if (sock && sock.count) this.flushSocket(i, sock);
      st[ST_SENT_PKTS] += this.txPackets[i];
      this.pmd.portF64[sh.portF(i, PF_TX_PACKETS)] += this.txPackets[i];
      this.pmd.portF64[sh.portF(i, PF_TX_BYTES)] += this.txBytes[i];
      if (this.txDropped[i]) this.pmd.portF64[sh.portF(i, PF_TX_DROPPED)] += this.txDropped[i];
      this.txPackets[i] = 0;
      this.txBytes[i] = 0;
      this.txDropped[i] = 0;
      if (this.txDirty[i]) {
        this.txDirty[i] = 0;
        this.tx[i].publish();
      }
    }
    this.nTxDirty = 0;
    if (this.nSends) covSent.add(this.nSends);
    if (this.nInvalidPort) covInvalidPort.add(this.nInvalidPort);
    this.nSends = 0;
    this.nInvalidPort = 0;
  }
}

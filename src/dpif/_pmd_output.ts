/**
 * The PMD's transmit side, after OVS's per-port output batches
 * (dp_netdev_pmd_flush_output_packets): `send` queues a packet on the
 * port's tx ring and counts it; `flush`, once per poll round, publishes the
 * rings and adds the round's counts to the shared port and datapath stats,
 * so that shared memory is not written per packet. A "send" in OVS's
 * netdev_sent sense is one port's share of one batch: `batch` is bumped by
 * the PMD for each batch (every received packet, every dpif execute).
 *
 * Thread-safety: owned by one Pmd, used only on its thread. Nothing here
 * allocates after construction.
 */
import { coverageCounter, RingProducer } from "../lib/mod.ts";
import {
  DatapathShared,
  MAX_PORTS,
  P_ACTIVE,
  P_RECORD_TX,
  PF_TX_BYTES,
  PF_TX_DROPPED,
  PF_TX_PACKETS,
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
  /** Ports with tx frames or counts pending this round. */
  private readonly txDirtyList = new Int32Array(MAX_PORTS);
  private nTxDirty = 0;
  private nSends = 0;
  private nInvalidPort = 0;

  /** `frame` is the word view of the buffer the PMD keeps its packet in. */
  constructor(private readonly shared: DatapathShared, private readonly frame: Uint32Array) {
    this.tx = shared.tx.map((v) => new RingProducer(v));
  }

  /** Queues the first `len` bytes of the packet on `odpPort`'s tx ring. */
  send(odpPort: number, len: number): void {
    const sh = this.shared;
    const i = odpPort < 65536 ? sh.odpToIndex[odpPort] : -1;
    if (i < 0 || sh.portI32[sh.portI(i, P_ACTIVE)] === 0) {
      sh.stats[ST_TX_DROPPED]++;
      this.nInvalidPort++;
      return;
    }
    if (this.sendBatch[i] !== this.batch) {
      this.sendBatch[i] = this.batch;
      this.nSends++;
    }
    if (sh.portI32[sh.portI(i, P_RECORD_TX)] !== 0) {
      const r = this.tx[i];
      const at = r.reserve(1 + ((len + 3) >> 2));
      if (at < 0) {
        sh.portF64[sh.portF(i, PF_TX_DROPPED)]++;
        return;
      }
      const u32 = r.view.u32, b32 = this.frame;
      u32[at] = len;
      for (let w = 0, nw = (len + 3) >> 2; w < nw; w++) u32[at + 1 + w] = b32[w];
      this.txDirty[i] = 1;
    }
    if (this.txPackets[i] === 0) this.txDirtyList[this.nTxDirty++] = i;
    this.txPackets[i]++;
    this.txBytes[i] += len;
  }

  /** Publishes the round's tx rings; adds its counts to `st` (ST_* slots) and the ports. */
  flush(st: Float64Array): void {
    const sh = this.shared;
    st[ST_SENT_BATCHES] += this.nTxDirty;
    for (let j = 0; j < this.nTxDirty; j++) {
      const i = this.txDirtyList[j];
      st[ST_SENT_PKTS] += this.txPackets[i];
      sh.portF64[sh.portF(i, PF_TX_PACKETS)] += this.txPackets[i];
      sh.portF64[sh.portF(i, PF_TX_BYTES)] += this.txBytes[i];
      this.txPackets[i] = 0;
      this.txBytes[i] = 0;
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

/**
 * A netdev as the datapath sees it: a named device with one rx ring per
 * rx queue (`nRxq`, OVS's options:n_rxq) that it fills and one tx ring per
 * PMD that the PMDs fill. `attach` is called when the device becomes a
 * datapath port; from then on the netdev's producer ends of `rx` and
 * consumer ends of `tx` belong to the thread that owns the netdev (the
 * main thread), the other ends to the PMDs.
 */
import { RingConsumer, RingProducer, type RingView } from "../lib/mod.ts";

export interface NetdevPortLink {
  /** The rx queues' rings (at least `nRxq` of them). */
  rx: RingView[];
  /** One tx ring per PMD. */
  tx: RingView[];
  /** Wakes the PMD after new frames are published. */
  wake: () => void;
  /** Turns recording of transmitted frames on the tx ring on or off. */
  setRecordTx: (on: boolean) => void;
  /**
   * Has every port of the datapath hand its transmitted frames on
   * (`pollTx`); without it a netdev can only poll its own tx ring.
   */
  pollTx?: () => void;
  /**
   * Hands the PMD a socket it receives and sends on itself (system
   * ports) or a tap fd it reads and writes (`kind` "tap"), or takes it
   * back (fd -1; returns once the PMD no longer uses the old fd, so it
   * may be closed); `vnetHdr` says whether its frames carry a
   * virtio_net_hdr.
   */
  setSocket?: (fd: number, vnetHdr: boolean, kind?: "packet" | "tap") => void;
  /**
   * Hands the PMDs `fd` (-1: takes it back, returning once no PMD uses
   * it) as the socket of rx queue q >= 1 (a system port with several rx
   * queues: sockets of one PACKET_FANOUT group, receive only).
   */
  setQueueSocket?: (q: number, fd: number) => void;
}

export abstract class Netdev {
  private rxps: RingProducer[] = [];
  protected txcs: RingConsumer[] = [];
  protected link?: NetdevPortLink;
  /** Frames refused because the rx ring was full. */
  rxDropped = 0;
  /** Rx queues (options:n_rxq), fixed while the netdev is a port. */
  nRxq = 1;

  constructor(readonly name: string, readonly type: string) {}

  attach(link: NetdevPortLink): void {
    this.link = link;
    this.rxps = link.rx.slice(0, this.nRxq).map((v) => new RingProducer(v));
    this.txcs = link.tx.map((v) => new RingConsumer(v));
    link.setRecordTx(this.wantsTx());
  }

  detach(): void {
    this.link = undefined;
    this.rxps = [];
    this.txcs = [];
  }

  get attached(): boolean {
    return this.link !== undefined;
  }

  /** Whether transmitted frames should be handed back (pcap, socket). */
  protected wantsTx(): boolean {
    return false;
  }

  /**
   * Queues one frame for the datapath on rx queue `qid`; false (and
   * counted in rxDropped) when the rx ring is full or the netdev is not a
   * port.
   */
  enqueueRx(frame: Uint8Array, len = frame.length, qid = 0): boolean {
    const p = this.rxps[qid];
    if (!p) return false;
    const at = p.reserve(1 + ((len + 3) >> 2));
    if (at < 0) {
      this.rxDropped++;
      return false;
    }
    p.view.u32[at] = len;
    p.view.u8.set(len === frame.length ? frame : frame.subarray(0, len), (at + 1) * 4);
    return true;
  }

  /** Publishes queued frames without waking the PMD (it will poll them). */
  publishRx(): void {
    for (const p of this.rxps) p.publish();
  }

  /** Publishes queued frames and wakes the PMDs. */
  flushRx(): void {
    if (!this.link) return;
    this.publishRx();
    this.link.wake();
  }

  /** True when every frame handed to the datapath has been taken. */
  rxDrained(): boolean {
    return this.rxps.every((p) => p.drained());
  }

  /**
   * Hands transmitted frames to the netdev's consumers; a netdev with none
   * has nothing recorded on its tx ring (`wantsTx`).
   */
  pollTx(): number {
    return 0;
  }

  /**
   * Polls the tx ring of every port of the datapath, not only this one's:
   * the PMD may have output a frame received here to any port, and all
   * tx rings are consumed on this thread.
   */
  pollDatapathTx(): void {
    if (this.link?.pollTx) this.link.pollTx();
    else this.pollTx();
  }

  /** Takes frames the datapath transmitted, calling `sink` for each. */
  drainTx(sink: (frame: Uint8Array) => void): number {
    let n = 0;
    for (const c of this.txcs) {
      let m = 0;
      for (let at = c.next(); at >= 0; at = c.next()) {
        const len = c.view.u32[at];
        sink(c.view.u8.slice((at + 1) * 4, (at + 1) * 4 + len));
        m++;
      }
      if (m) c.release();
      n += m;
    }
    return n;
  }

  close(): void {
    this.detach();
  }
}

/**
 * A netdev as the datapath sees it: a named device with an rx ring it
 * fills and a tx ring the PMD fills. `attach` is called when the device
 * becomes a datapath port; from then on the netdev's producer end of
 * `rx` and consumer end of `tx` belong to the thread that owns the
 * netdev (the main thread), the other ends to the PMD.
 */
import { RingConsumer, RingProducer, type RingView } from "../lib/mod.ts";

export interface NetdevPortLink {
  rx: RingView;
  tx: RingView;
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
}

export abstract class Netdev {
  protected rxp?: RingProducer;
  protected txc?: RingConsumer;
  protected link?: NetdevPortLink;
  /** Frames refused because the rx ring was full. */
  rxDropped = 0;

  constructor(readonly name: string, readonly type: string) {}

  attach(link: NetdevPortLink): void {
    this.link = link;
    this.rxp = new RingProducer(link.rx);
    this.txc = new RingConsumer(link.tx);
    link.setRecordTx(this.wantsTx());
  }

  detach(): void {
    this.link = undefined;
    this.rxp = undefined;
    this.txc = undefined;
  }

  get attached(): boolean {
    return this.link !== undefined;
  }

  /** Whether transmitted frames should be handed back (pcap, socket). */
  protected wantsTx(): boolean {
    return false;
  }

  /**
   * Queues one frame for the datapath; false (and counted in rxDropped)
   * when the rx ring is full or the netdev is not a port.
   */
  enqueueRx(frame: Uint8Array, len = frame.length): boolean {
    const p = this.rxp;
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
    this.rxp?.publish();
  }

  /** Publishes queued frames and wakes the PMD. */
  flushRx(): void {
    if (!this.rxp || !this.link) return;
    this.rxp.publish();
    this.link.wake();
  }

  /** True when every frame handed to the datapath has been taken. */
  rxDrained(): boolean {
    return this.rxp ? this.rxp.drained() : true;
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
    const c = this.txc;
    if (!c) return 0;
    let n = 0;
    for (let at = c.next(); at >= 0; at = c.next()) {
      const len = c.view.u32[at];
      sink(c.view.u8.slice((at + 1) * 4, (at + 1) * 4 + len));
      n++;
    }
    if (n) c.release();
    return n;
  }

  close(): void {
    this.detach();
  }
}

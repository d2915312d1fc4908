/**
 * The dummy netdev: frames arrive by `receive` (what
 * `netdev-dummy/receive PORT PACKET...` does once the packets are parsed
 * into frames) and leave by being counted, and optionally recorded to a
 * `tx_pcap` file or handed to a callback (the stream socket uses that).
 */
import { Netdev } from "./netdev.ts";

export class DummyNetdev extends Netdev {
  /** Frames transmitted by the datapath and collected by `pollTx`. */
  readonly txFrames: Uint8Array[] = [];
  private txSinks: ((frame: Uint8Array) => void)[] = [];
  recordTx: boolean;

  constructor(name: string, type = "dummy", opts: { recordTx?: boolean } = {}) {
    super(name, type);
    this.recordTx = opts.recordTx ?? false;
  }

  protected override wantsTx(): boolean {
    return this.recordTx || this.txSinks.length > 0;
  }

  /** Adds a consumer of transmitted frames (pcap writer, socket). */
  onTx(sink: (frame: Uint8Array) => void): void {
    this.txSinks.push(sink);
    this.link?.setRecordTx(true);
  }

  /** Queues frames for the datapath; returns how many were accepted. */
  receive(frames: readonly Uint8Array[]): number {
    let n = 0;
    for (const f of frames) if (this.enqueueRx(f)) n++;
    this.flushRx();
    return n;
  }

  private pumping = false;

  /**
   * Keeps collecting transmitted frames as the PMD publishes them (an
   * async loop on the tx ring's head word), until `stopTxPump`.
   */
  startTxPump(): void {
    if (this.pumping) return;
    this.pumping = true;
    (async () => {
      while (this.pumping && this.txc) {
        this.pollTx();
        const w = this.txc.waitWord();
        const r = Atomics.waitAsync(w.array, w.index, w.value, 1000);
        if (r.async) await r.value;
      }
    })();
  }

  stopTxPump(): void {
    this.pumping = false;
  }

  override close(): void {
    this.stopTxPump();
    super.close();
  }

  /** Moves transmitted frames to `txFrames` (if recording) and the sinks. */
  override pollTx(): number {
    return this.drainTx((f) => {
      if (this.recordTx) this.txFrames.push(f);
      for (const s of this.txSinks) s(f);
    });
  }
}

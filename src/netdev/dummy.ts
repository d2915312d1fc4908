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

  /** Queues frames for the datapath on rx queue `qid`; returns how many were accepted. */
  receive(frames: readonly Uint8Array[], qid = 0): number {
    let n = 0;
    for (const f of frames) if (this.enqueueRx(f, f.length, qid)) n++;
    this.flushRx();
    return n;
  }

  private pumping = false;

  /**
   * Keeps collecting transmitted frames as the PMDs publish them (an
   * async loop on the first PMD's tx ring's head word, and a 10 ms look
   * at the others' when there are more), until `stopTxPump`.
   */
  startTxPump(): void {
    if (this.pumping) return;
    this.pumping = true;
    (async () => {
      while (this.pumping && this.txcs.length) {
        this.pollTx();
        const w = this.txcs[0].waitWord();
        const r = Atomics.waitAsync(w.array, w.index, w.value, this.txcs.length > 1 ? 10 : 1000);
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

/**
 * pcap on dummy netdevs: replaying a capture into a port (`rx_pcap`), as
 * fast as the datapath takes it or at a fixed packet rate, and recording
 * what the datapath sends out of a port (`tx_pcap`).
 *
 * Replay is lossless: when the port's rx ring is full it waits for the
 * PMD to make room instead of dropping, so a capture of any size arrives
 * whole, in order.
 */
import {
  PCAP_HEADER_LEN,
  PCAP_RECORD_HEADER_LEN,
  readPcapPrefix,
  writePcapHeader,
  writePcapRecord,
} from "../packet/mod.ts";
import type { DummyNetdev } from "./dummy.ts";

export interface ReplayOptions {
  /** Packets per second; 0 or absent: as fast as the datapath takes them. */
  rate?: number;
  /** Stops the replay early. */
  signal?: AbortSignal;
}

const yieldTurn = () => new Promise((r) => setTimeout(r, 0));

/**
 * Feeds `frames` to `netdev` in order; resolves with how many were
 * queued (all of them unless aborted).
 */
export async function replayFrames(
  netdev: DummyNetdev,
  frames: readonly Uint8Array[],
  opts: ReplayOptions = {},
): Promise<number> {
  const rate = opts.rate ?? 0;
  const start = performance.now();
  let n = 0;
  while (n < frames.length) {
    if (opts.signal?.aborted) break;
    let due = frames.length;
    if (rate > 0) {
      due = Math.min(frames.length, Math.floor(((performance.now() - start) / 1000) * rate) + 1);
      if (due <= n) {
        await new Promise((r) =>
          setTimeout(r, Math.max(1, ((n + 1) / rate) * 1000 - (performance.now() - start)))
        );
        continue;
      }
    }
    const before = n;
    while (n < due && netdev.enqueueRx(frames[n])) n++;
    netdev.flushRx();
    if (n === before) {
      // Ring full: the failed attempt is back-pressure, not a drop.
      netdev.rxDropped--;
      await yieldTurn();
    } else if (n < due) {
      netdev.rxDropped--;
      await yieldTurn();
    }
  }
  return n;
}

/** Reads a pcap file's frames; throws naming the file on failure. */
export async function readPcapFrames(path: string): Promise<Uint8Array[]> {
  const { frames, error } = await readPcapFramesPrefix(path);
  if (error) throw error;
  return frames;
}

/**
 * Reads a pcap file's whole records up to the first bad one (rx_pcap, as
 * netdev-dummy replays a capture until ovs_pcap_read fails): `error`
 * names the file and the bad record's offset. Throws naming the file when
 * it cannot be read or is no pcap file at all.
 */
export async function readPcapFramesPrefix(
  path: string,
): Promise<{ frames: Uint8Array[]; error?: Error }> {
  let bytes: Uint8Array;
  try {
    bytes = await Deno.readFile(path);
  } catch (e) {
    throw new Error(`${path}: ${(e as Error).message}`);
  }
  let read;
  try {
    read = readPcapPrefix(bytes);
  } catch (e) {
    throw new Error(`${path}: ${(e as Error).message}`);
  }
  const frames = read.packets.map((p) => p.data);
  return read.error ? { frames, error: new Error(`${path}: ${read.error.message}`) } : { frames };
}

/** Appends frames to a pcap file (tx_pcap), buffered, flushed on `flush`/`close`. */
export class PcapWriter {
  private pending: Uint8Array[] = [];
  private pendingBytes = 0;

  private constructor(private readonly file: Deno.FsFile) {}

  static async create(path: string): Promise<PcapWriter> {
    const file = await Deno.open(path, { write: true, create: true, truncate: true });
    const header = new Uint8Array(PCAP_HEADER_LEN);
    writePcapHeader(header);
    file.writeSync(header);
    return new PcapWriter(file);
  }

  /** Records one frame with the wall-clock time `nowMs`. */
  write(frame: Uint8Array, nowMs: number): void {
    const rec = new Uint8Array(PCAP_RECORD_HEADER_LEN + frame.length);
    writePcapRecord(rec, 0, frame, frame.length, Math.floor(nowMs / 1000), (nowMs % 1000) * 1000);
    this.pending.push(rec);
    this.pendingBytes += rec.length;
    if (this.pendingBytes >= 1 << 16) this.flush();
  }

  flush(): void {
    if (this.pending.length === 0) return;
    const all = new Uint8Array(this.pendingBytes);
    let o = 0;
    for (const r of this.pending) all.set(r, o), o += r.length;
    for (let off = 0; off < all.length;) off += this.file.writeSync(all.subarray(off));
    this.pending = [];
    this.pendingBytes = 0;
  }

  close(): void {
    this.flush();
    this.file.close();
  }
}

/** Records every frame `netdev` transmits into `writer`. */
export function recordTx(netdev: DummyNetdev, writer: PcapWriter, now: () => number): void {
  netdev.onTx((frame) => writer.write(frame, now()));
}

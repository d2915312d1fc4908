/**
 * Packet streams on dummy netdevs, as OVS's netdev-dummy offers them with
 * `options:stream=unix:PATH` (connect) and `options:pstream=punix:PATH`
 * (listen): each frame travels as a 2-byte big-endian length followed by
 * the Ethernet frame. Frames read from a connection go to the netdev's
 * rx ring; frames the datapath sends out of the port are written to every
 * connection. Reading waits for room in the rx ring instead of dropping,
 * so a fast sender is slowed down, never silently truncated.
 *
 * Like netdev-dummy's main loop, which alternates one frame in and one
 * frame out per stream, a connection hands the datapath at most one read
 * (or one rx ring) of frames, then waits until the datapath has taken them
 * and drains the datapath's tx rings before handing more: a sender's burst
 * can then never outrun the tx ring of the port it goes out on (the PMD
 * drops what does not fit there), however late a tx pump gets to run.
 *
 * Each connection has its own bounded output queue, written as fast as
 * its peer reads; when it is full the frame is dropped for that connection
 * only and counted in `txDropped`, so a peer that never reads (an
 * injector) neither stalls the port nor the other connections, nor grows
 * memory without bound. OVS bounds the queue the same way (100 frames)
 * but drops without counting.
 *
 * A peer that breaks the framing (a length shorter than an Ethernet
 * header) or closes mid-frame gets one warning naming the port and the
 * byte offset in its stream, and only its connection is closed: the
 * listener keeps accepting and other connections keep forwarding, as
 * netdev-dummy closes one stream on EPROTO.
 */
import { coverageCounter, getLogger } from "../lib/mod.ts";
import { ETH_HEADER_LEN } from "../packet/mod.ts";
import type { DummyNetdev } from "./dummy.ts";

const log = getLogger("netdev_dummy");
const covStreamError = coverageCounter("netdev_dummy_stream_error");

/** Bytes of framed output a connection may have queued beyond the write in flight. */
export const STREAM_TX_QUEUE_BYTES = 1 << 20;

/** Parses `unix:PATH` / `punix:PATH`; throws on anything else. */
export function streamPath(spec: string, passive: boolean): string {
  const prefix = passive ? "punix:" : "unix:";
  if (!spec.startsWith(prefix) || spec.length === prefix.length) {
    throw new RangeError(`${spec}: expected ${prefix}PATH`);
  }
  return spec.slice(prefix.length);
}

/** One connection's output: framed bytes queued while a write is in flight. */
interface StreamTx {
  queue: Uint8Array;
  queued: number;
  /** The buffer being written; swapped with `queue` for the next write. */
  spare: Uint8Array;
  writing: boolean;
}

export class DummyStream {
  private readonly conns = new Map<Deno.Conn, StreamTx>();
  private listener?: Deno.Listener;
  private closed = false;
  /** Frames received from connections and queued for the datapath. */
  rxFrames = 0;
  /** Frames not queued on a connection because its output queue was full. */
  txDropped = 0;

  constructor(readonly netdev: DummyNetdev) {
    netdev.onTx((frame) => this.send(frame));
  }

  /** `pstream=punix:PATH`: accepts connections until closed. */
  async listen(path: string): Promise<void> {
    try {
      Deno.removeSync(path);
    } catch {
      // No stale socket to remove.
    }
    this.listener = Deno.listen({ transport: "unix", path });
    (async () => {
      for await (const conn of this.listener!) {
        if (this.closed) break;
        this.serve(conn);
      }
    })().catch(() => {});
    await Promise.resolve();
  }

  /** `stream=unix:PATH`: connects once. */
  async connect(path: string): Promise<void> {
    this.serve(await Deno.connect({ transport: "unix", path }));
  }

  /** Connections currently open. */
  get connections(): number {
    return this.conns.size;
  }

  private serve(conn: Deno.Conn): void {
    this.conns.set(conn, {
      queue: new Uint8Array(1 << 12),
      queued: 0,
      spare: new Uint8Array(1 << 12),
      writing: false,
    });
    this.readLoop(conn).finally(() => this.drop(conn));
  }

  private drop(conn: Deno.Conn): void {
    this.conns.delete(conn);
    try {
      conn.close();
    } catch {
      // Already closed.
    }
  }

  private async readLoop(conn: Deno.Conn): Promise<void> {
    // Room for the largest frame and its length, so every frame completes.
    const buf = new Uint8Array(2 + 0xffff);
    let have = 0;
    // Bytes of the connection before buf[0], so errors name a stream offset.
    let consumed = 0;
    for (;;) {
      let n: number | null;
      try {
        n = await conn.read(buf.subarray(have));
      } catch (e) {
        if (!this.closed) {
          log.warn(`${this.netdev.name}: stream read failed at offset ${consumed + have}: ${e}`);
        }
        return;
      }
      if (n === null) {
        if (have > 0) {
          covStreamError.inc();
          log.warn(
            `${this.netdev.name}: stream closed mid-frame at offset ${consumed} ` +
              `(${have} bytes of a frame), closing connection`,
          );
        }
        return;
      }
      have += n;
      let off = 0;
      let queued = 0;
      let broken = false;
      while (have - off >= 2) {
        const len = (buf[off] << 8) | buf[off + 1];
        if (len < ETH_HEADER_LEN) {
          // netdev-dummy's EPROTO: no Ethernet frame is that short. The
          // frames before it still go in; then the connection closes.
          covStreamError.inc();
          log.warn(
            `${this.netdev.name}: stream frame length ${len} shorter than an Ethernet ` +
              `header at offset ${consumed + off}, closing connection`,
          );
          broken = true;
          break;
        }
        if (have - off < 2 + len) break;
        const frame = buf.subarray(off + 2, off + 2 + len);
        let taken = this.netdev.enqueueRx(frame);
        while (!taken && !this.netdev.rxDrained()) {
          // Full: wait for room instead of dropping (undo enqueueRx's count).
          this.netdev.rxDropped--;
          this.netdev.flushRx();
          if (!await this.settle()) return;
          taken = this.netdev.enqueueRx(frame);
        }
        // Refused by an empty ring: the frame can never fit, or the netdev
        // is no port; it is dropped.
        if (taken) queued++;
        off += 2 + len;
      }
      if (queued) {
        this.rxFrames += queued;
        this.netdev.flushRx();
        if (!await this.settle()) return;
      }
      if (broken) return;
      buf.copyWithin(0, off, have);
      have -= off;
      consumed += off;
    }
  }

  /**
   * Waits until the datapath has taken every frame handed to it, then
   * has every port send what it transmitted meanwhile; false once closed.
   */
  private async settle(): Promise<boolean> {
    while (!this.netdev.rxDrained()) {
      await new Promise((r) => setTimeout(r, 0));
      if (this.closed) return false;
    }
    this.netdev.pollDatapathTx();
    return true;
  }

  private send(frame: Uint8Array): void {
    const need = frame.length + 2;
    for (const [c, tx] of this.conns) {
      if (tx.queued + need > STREAM_TX_QUEUE_BYTES) {
        this.txDropped++;
        continue;
      }
      if (tx.queued + need > tx.queue.length) {
        let size = tx.queue.length * 2;
        while (size < tx.queued + need) size *= 2;
        const grown = new Uint8Array(size);
        grown.set(tx.queue.subarray(0, tx.queued));
        tx.queue = grown;
      }
      const q = tx.queue, at = tx.queued;
      q[at] = frame.length >> 8;
      q[at + 1] = frame.length & 0xff;
      q.set(frame, at + 2);
      tx.queued += need;
      if (!tx.writing) this.writeLoop(c, tx);
    }
  }

  /**
   * Writes a connection's queue until it is empty. A connection whose
   * writes fail gets no more frames, but is read until its peer's frames
   * are all in: a sender that closes without reading what came back
   * fails the writes before its last frames are read.
   */
  private async writeLoop(c: Deno.Conn, tx: StreamTx): Promise<void> {
    tx.writing = true;
    try {
      while (tx.queued > 0) {
        const full = tx.queue, out = full.subarray(0, tx.queued);
        tx.queue = tx.spare;
        tx.spare = full;
        tx.queued = 0;
        await writeAll(c, out);
      }
    } catch {
      this.conns.delete(c);
    } finally {
      tx.writing = false;
    }
  }

  close(): void {
    this.closed = true;
    this.listener?.close();
    for (const c of this.conns.keys()) {
      try {
        c.close();
      } catch {
        // Already closed.
      }
    }
    this.conns.clear();
  }
}

async function writeAll(c: Deno.Conn, b: Uint8Array): Promise<void> {
  for (let off = 0; off < b.length;) off += await c.write(b.subarray(off));
}

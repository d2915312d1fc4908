/**
 * Packet streams on dummy netdevs, as OVS's netdev-dummy offers them with
 * `options:stream=unix:PATH` (connect) and `options:pstream=punix:PATH`
 * (listen): each frame travels as a 2-byte big-endian length followed by
 * the Ethernet frame. Frames read from a connection go to the netdev's
 * rx ring; frames the datapath sends out of the port are written to every
 * connection. Reading waits for room in the rx ring instead of dropping,
 * so a fast sender is slowed down, never silently truncated.
 */
import type { DummyNetdev } from "./dummy.ts";

/** Parses `unix:PATH` / `punix:PATH`; throws on anything else. */
export function streamPath(spec: string, passive: boolean): string {
  const prefix = passive ? "punix:" : "unix:";
  if (!spec.startsWith(prefix) || spec.length === prefix.length) {
    throw new RangeError(`${spec}: expected ${prefix}PATH`);
  }
  return spec.slice(prefix.length);
}

export class DummyStream {
  private readonly conns = new Map<Deno.Conn, Promise<void>>();
  private listener?: Deno.Listener;
  private closed = false;
  /** Frames received from connections and queued for the datapath. */
  rxFrames = 0;

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
    this.conns.set(conn, Promise.resolve());
    this.readLoop(conn).finally(() => {
      this.conns.delete(conn);
      try {
        conn.close();
      } catch {
        // Already closed.
      }
    });
  }

  private async readLoop(conn: Deno.Conn): Promise<void> {
    const buf = new Uint8Array(1 << 16);
    let have = 0;
    for (;;) {
      const n = await conn.read(buf.subarray(have)).catch(() => null);
      if (n === null) return;
      have += n;
      let off = 0;
      let queued = 0;
      while (have - off >= 2) {
        const len = (buf[off] << 8) | buf[off + 1];
        if (have - off < 2 + len) break;
        const frame = buf.subarray(off + 2, off + 2 + len);
        while (!this.netdev.enqueueRx(frame)) {
          this.netdev.rxDropped--;
          this.netdev.flushRx();
          await new Promise((r) => setTimeout(r, 0));
          if (this.closed) return;
        }
        queued++;
        off += 2 + len;
      }
      if (queued) {
        this.rxFrames += queued;
        this.netdev.flushRx();
      }
      buf.copyWithin(0, off, have);
      have -= off;
    }
  }

  private send(frame: Uint8Array): void {
    if (this.conns.size === 0) return;
    const out = new Uint8Array(frame.length + 2);
    out[0] = frame.length >> 8;
    out[1] = frame.length & 0xff;
    out.set(frame, 2);
    // Writes to one connection stay in order; a failed connection is dropped.
    for (const [c, last] of this.conns) {
      this.conns.set(c, last.then(() => writeAll(c, out)).catch(() => void this.conns.delete(c)));
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

/**
 * Test side of the dummy netdev's packet stream (`stream=` / `pstream=`):
 * framing frames the way a peer writes them and reading them back. Every
 * read has a deadline (tests/poll.ts) and fails naming what it waited for,
 * so a lost frame fails a test instead of hanging it.
 */
import { POLL_TIMEOUT_MS } from "./poll.ts";

/** Frames as a peer writes them: a 2-byte big-endian length, then the frame. */
export function framed(frames: readonly Uint8Array[]): Uint8Array {
  const out = new Uint8Array(frames.reduce((n, f) => n + f.length + 2, 0));
  let o = 0;
  for (const f of frames) {
    out[o] = f.length >> 8, out[o + 1] = f.length & 255;
    out.set(f, o + 2);
    o += f.length + 2;
  }
  return out;
}

/** Reads framed frames from one connection, reassembling frames split across reads. */
export class FrameReader {
  private buf: Uint8Array<ArrayBuffer> = new Uint8Array(1 << 16);
  private have = 0;
  /** Bytes read so far, for failure messages. */
  bytes = 0;

  constructor(readonly conn: Deno.Conn, readonly name: string) {}

  /** The next `n` frames; fails if they are not all in within `ms` or the peer closes. */
  async read(n: number, ms = POLL_TIMEOUT_MS): Promise<Uint8Array[]> {
    const deadline = Date.now() + ms;
    const out: Uint8Array[] = [];
    for (;;) {
      let off = 0;
      while (out.length < n && this.have - off >= 2) {
        const len = (this.buf[off] << 8) | this.buf[off + 1];
        if (this.have - off < 2 + len) break;
        out.push(this.buf.slice(off + 2, off + 2 + len));
        off += 2 + len;
      }
      this.buf.copyWithin(0, off, this.have);
      this.have -= off;
      if (out.length === n) return out;
      if (this.have === this.buf.length) this.buf = grow(this.buf);
      const got = await this.readBefore(deadline);
      if (got === "timeout" || got === null) {
        throw new Error(
          `${this.name}: ${got === null ? "peer closed" : `timed out after ${ms} ms`} ` +
            `with ${out.length} of ${n} frames in (${this.bytes} bytes read)`,
        );
      }
      this.have += got;
      this.bytes += got;
    }
  }

  private async readBefore(deadline: number): Promise<number | null | "timeout"> {
    let timer: ReturnType<typeof setTimeout> | undefined;
    const late = new Promise<"timeout">((r) => {
      timer = setTimeout(() => r("timeout"), Math.max(0, deadline - Date.now()));
    });
    try {
      return await Promise.race([this.conn.read(this.buf.subarray(this.have)), late]);
    } finally {
      clearTimeout(timer);
    }
  }
}

function grow(b: Uint8Array): Uint8Array<ArrayBuffer> {
  const g = new Uint8Array(b.length * 2);
  g.set(b);
  return g;
}

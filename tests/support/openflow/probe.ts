/**
 * Sends one message to an OpenFlow switch and collects what comes back,
 * as a controller sees it: connect to the unix socket, exchange hellos in
 * `version`, send the message, then an echo request as a fence. The
 * switch answers in order, so every reply before the fence's echo reply
 * is the message's; a connection the switch closes instead says so. Used
 * by scripts/record-openflow-bad.ts against OVS and by
 * tests/interop/openflow_bad_input_test.ts against udpif.
 */
import { fromHex } from "./recorded.ts";

/** The fence's xid: no case uses it. */
const FENCE_XID = 0xfe11ce00;
const DEADLINE_MS = 10_000;

export interface ProbeCase {
  name: string;
  version: number;
  /** The message, as hex (its length field as the case wants it, right or wrong). */
  message: Uint8Array;
}

export const hex = (b: Uint8Array) =>
  Array.from(b, (x) => x.toString(16).padStart(2, "0")).join("");

/** fixtures/openflow/bad_input.txt: `NAME VERSION HEX` lines, `#` comments. */
export function parseProbeCases(text: string): ProbeCase[] {
  return text.split("\n").filter((l) => l.trim() && !l.startsWith("#")).map((l) => {
    const [name, version, h] = l.trim().split(/\s+/);
    return { name, version: parseInt(version, 16), message: fromHex(h) };
  });
}

function header(version: number, type: number, length: number, xid: number): Uint8Array {
  const b = new Uint8Array(8);
  const v = new DataView(b.buffer);
  v.setUint8(0, version);
  v.setUint8(1, type);
  v.setUint16(2, length);
  v.setUint32(4, xid);
  return b;
}

/** Reads whole messages from `conn`; null when the switch closed the connection. */
class Framer {
  #buf = new Uint8Array(0);
  constructor(private readonly conn: Deno.Conn) {}

  async next(): Promise<Uint8Array | null> {
    for (;;) {
      if (this.#buf.length >= 8) {
        const len = (this.#buf[2] << 8) | this.#buf[3];
        if (len >= 8 && this.#buf.length >= len) {
          const m = this.#buf.slice(0, len);
          this.#buf = this.#buf.slice(len);
          return m;
        }
      }
      const chunk = new Uint8Array(65536);
      let n: number | null;
      try {
        n = await this.conn.read(chunk);
      } catch {
        return null;
      }
      if (n === null) return null;
      const joined = new Uint8Array(this.#buf.length + n);
      joined.set(this.#buf);
      joined.set(chunk.subarray(0, n), this.#buf.length);
      this.#buf = joined;
    }
  }
}

async function writeAll(conn: Deno.Conn, b: Uint8Array): Promise<void> {
  for (let off = 0; off < b.length;) off += await conn.write(b.subarray(off));
}

/** A controller's connection: hellos exchanged, then one message at a time with its fence. */
export class ProbeSession {
  #framer: Framer;
  #closed = false;

  private constructor(private readonly conn: Deno.Conn, readonly version: number) {
    this.#framer = new Framer(conn);
  }

  static async open(socketPath: string, version: number): Promise<ProbeSession> {
    const conn = await Deno.connect({ transport: "unix", path: socketPath });
    const s = new ProbeSession(conn, version);
    await writeAll(conn, header(version, 0, 8, 1));
    const hello = await s.#framer.next();
    if (hello === null || hello[1] !== 0) {
      s.close();
      throw new Error("no hello from the switch");
    }
    return s;
  }

  /**
   * The switch's answer to `message`: each message it sent (hex), then
   * `closed` when it ended the connection rather than answer the fence.
   */
  async send(message: Uint8Array): Promise<string[]> {
    const out: string[] = [];
    if (this.#closed) return ["closed"];
    const timer = setTimeout(() => this.close(), DEADLINE_MS);
    try {
      // A switch that closes on the message may refuse the fence's write.
      await writeAll(this.conn, message).catch(() => {});
      await writeAll(this.conn, header(this.version, 2, 8, FENCE_XID)).catch(() => {});
      for (;;) {
        const m = await this.#framer.next();
        if (m === null) {
          out.push("closed");
          this.close();
          break;
        }
        const v = new DataView(m.buffer);
        if (m[1] === 3 && v.getUint32(4) === FENCE_XID) break;
        out.push(hex(m));
      }
    } finally {
      clearTimeout(timer);
    }
    return out;
  }

  close(): void {
    if (this.#closed) return;
    this.#closed = true;
    try {
      this.conn.close();
    } catch { /* closed */ }
  }
}

/** The switch's answer to `c` on a connection of its own (see ProbeSession.send). */
export async function probe(socketPath: string, c: ProbeCase): Promise<string[]> {
  const s = await ProbeSession.open(socketPath, c.version);
  try {
    return await s.send(c.message);
  } finally {
    s.close();
  }
}

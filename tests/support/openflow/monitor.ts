/**
 * A packet-in listener for tests: an OpenFlow connection to a bridge's
 * management socket that replays what `ovs-ofctl monitor` sent OVS 3.1
 * (fixtures/openflow/packet_in_NAME.txt), so the switch sends it
 * packet-ins, and reads framed messages from it.
 */
import { frameLength } from "../../../src/openflow/mod.ts";
import { recorded } from "./recorded.ts";

const OFPT_PACKET_IN = 10;
const OFPT_VENDOR = 4;
/** Generous: the suite runs with both cores busy. */
const READ_DEADLINE_MS = 30_000;

/** Whether `m` is a packet-in: OFPT_PACKET_IN, NXT_PACKET_IN (17) or NXT_PACKET_IN2 (30). */
export function isPacketIn(m: Uint8Array): boolean {
  if (m[1] === OFPT_PACKET_IN) return true;
  if (m[1] !== OFPT_VENDOR || m.length < 16) return false;
  const subtype = new DataView(m.buffer, m.byteOffset).getUint32(12);
  return subtype === 17 || subtype === 30;
}

/** An OpenFlow connection and the bytes read from it but not yet returned. */
export class MonitorConn {
  #buf = new Uint8Array(0);
  #closed = false;
  readonly #chunk = new Uint8Array(65536);

  private constructor(readonly conn: Deno.Conn) {}

  /**
   * Connects to `path` and sends the monitor's messages of fixture
   * `packet_in_NAME`; resolves once the switch answered their closing
   * barrier (all of them applied).
   */
  static async open(path: string, fixture: string): Promise<MonitorConn> {
    const [{ client }] = recorded(`packet_in_${fixture}`);
    const m = new MonitorConn(await Deno.connect({ transport: "unix", path }));
    try {
      for (const msg of client) await m.conn.write(msg);
      const last = client[client.length - 1];
      const lastXid = new DataView(last.buffer, last.byteOffset).getUint32(4);
      await m.readUntil((r) =>
        new DataView(r.buffer, r.byteOffset).getUint32(4) === lastXid && r[1] !== last[1]
      );
    } catch (e) {
      m.close();
      throw e;
    }
    return m;
  }

  /**
   * Reads framed messages until `until` accepts one; returns that one.
   * Gives up (closing the connection) after `deadlineMs`: a message that
   * never comes fails the test instead of hanging it.
   */
  async readUntil(
    until: (m: Uint8Array) => boolean,
    deadlineMs = READ_DEADLINE_MS,
  ): Promise<Uint8Array> {
    let expired = false;
    const timer = setTimeout(() => {
      expired = true;
      this.close();
    }, deadlineMs);
    try {
      return await this.#readUntil(until);
    } catch (e) {
      if (expired) throw new Error(`no such OpenFlow message within ${deadlineMs} ms`);
      throw e;
    } finally {
      clearTimeout(timer);
    }
  }

  async #readUntil(until: (m: Uint8Array) => boolean): Promise<Uint8Array> {
    for (;;) {
      for (let len = frameLength(this.#buf); len > 0; len = frameLength(this.#buf)) {
        const m = this.#buf.slice(0, len);
        this.#buf = this.#buf.slice(len);
        if (until(m)) return m;
      }
      const n = await this.conn.read(this.#chunk);
      if (n === null) throw new Error("the switch closed the connection");
      const joined = new Uint8Array(this.#buf.length + n);
      joined.set(this.#buf);
      joined.set(this.#chunk.subarray(0, n), this.#buf.length);
      this.#buf = joined;
    }
  }

  /** Closes the connection (once; later calls do nothing). */
  close(): void {
    if (this.#closed) return;
    this.#closed = true;
    this.conn.close();
  }
}

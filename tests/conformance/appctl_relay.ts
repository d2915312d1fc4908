/**
 * The replay's `ovs-appctl` at ovs-appctl speed. The oracle recorded OVS
 * driven by a C client that costs a few milliseconds; a udpif client
 * process costs a Deno start-up, 0.05 s on an idle machine and 0.5 s or
 * more on a busy one. OVS's revalidators run every 500 ms whatever the
 * clients do, so a slow client lets cycles in between two steps that OVS
 * never saw there, and figures that count cycles (`avg`, the dynamic flow
 * limit, the cached flow count) drift from what OVS printed.
 *
 * So the runner, already running, relays: it listens on a loopback TCP
 * port (written to the run directory's `appctl.port`), and the
 * `ovs-appctl` wrapper, with bash builtins only (`/dev/tcp`), sends
 * `["METHOD","ARG"...]` as one line and reads `STATUS\nTEXT` back, ended
 * by a NUL, which the relay fills from one unixctl call to the daemon: the
 * reply on stdout and status 0, or the error on stderr and status 2, as
 * `udpif appctl` prints them (status 1: no daemon answered).
 *
 * A socket, not FIFOs: Deno reads a FIFO on its blocking thread pool, and
 * several replays at once, each with a read parked on its FIFO, starved the
 * pool until no reply could be written (every replay hung). Socket I/O is
 * event driven and costs no thread while it waits.
 */
import { unixctlCall } from "./unixctl.ts";

export const RELAY_PORT_FILE = "appctl.port";

export class AppctlRelay {
  readonly #listener: Deno.TcpListener;
  readonly #done: Promise<void>;

  private constructor(listener: Deno.TcpListener, socket: string, timeoutMs: number) {
    this.#listener = listener;
    this.#done = this.#serve(socket, timeoutMs);
  }

  /** Listens on 127.0.0.1, writes the port to `dir/appctl.port`, and serves until `stop`. */
  static async start(dir: string, socket: string, timeoutMs: number): Promise<AppctlRelay> {
    const listener = Deno.listen({ hostname: "127.0.0.1", port: 0 });
    await Deno.writeTextFile(`${dir}/${RELAY_PORT_FILE}`, `${listener.addr.port}\n`);
    return new AppctlRelay(listener, socket, timeoutMs);
  }

  /** Stops accepting; requests already read are answered first. */
  async stop(): Promise<void> {
    this.#listener.close();
    await this.#done;
  }

  async #serve(socket: string, timeoutMs: number): Promise<void> {
    const inFlight = new Set<Promise<void>>();
    try {
      for await (const conn of this.#listener) {
        // Requests are answered concurrently, as a daemon answers clients.
        const p = answer(conn, socket, timeoutMs).finally(() => inFlight.delete(p));
        inFlight.add(p);
      }
    } catch {
      // the listener was closed by stop()
    }
    await Promise.all(inFlight);
  }
}

/** Reads one request line from `conn`. */
async function requestLine(conn: Deno.Conn): Promise<string | null> {
  const decoder = new TextDecoder();
  const buf = new Uint8Array(65536);
  let text = "";
  for (;;) {
    const nl = text.indexOf("\n");
    if (nl >= 0) return text.slice(0, nl);
    const n = await conn.read(buf);
    if (n === null) return null;
    text += decoder.decode(buf.subarray(0, n), { stream: true });
  }
}

/** One request: the status line and the text go back on the same connection. */
async function answer(conn: Deno.Conn, socket: string, timeoutMs: number): Promise<void> {
  try {
    const line = await requestLine(conn);
    let words: unknown;
    try {
      words = line === null ? null : JSON.parse(line);
    } catch {
      words = null;
    }
    if (!Array.isArray(words) || words.length === 0) return; // the wrapper reports no reply
    const [method, ...params] = words.map(String);
    let status: number, text: string;
    try {
      const r = await unixctlCall(socket, method, params, timeoutMs);
      if (r.error !== null) {
        status = 2;
        text = r.error.endsWith("\n") ? r.error : r.error + "\n";
      } else {
        status = 0;
        text = r.result ?? "";
      }
    } catch (e) {
      status = 1;
      text = `ovs-appctl (udpif replay): ${e instanceof Error ? e.message : String(e)}\n`;
    }
    const bytes = new TextEncoder().encode(`${status}\n${text}\0`);
    for (let off = 0; off < bytes.length;) off += await conn.write(bytes.subarray(off));
  } catch {
    // the wrapper is gone (killed by its time limit)
  } finally {
    conn.close();
  }
}

/**
 * The replay's `ovs-appctl` at ovs-appctl speed. The oracle recorded OVS
 * driven by a C client that costs a few milliseconds; a udpif client
 * process costs a Deno start-up, 0.05 s on an idle machine and 0.5 s or
 * more on a busy one. OVS's revalidators run every 500 ms whatever the
 * clients do, so a slow client lets cycles in between two steps that OVS
 * never saw there, and figures that count cycles (`avg`, the dynamic flow
 * limit, the cached flow count) drift from what OVS printed.
 *
 * So the runner, already running, relays: the `ovs-appctl` wrapper (bash
 * builtins, one `mkfifo`) writes `[PID,"METHOD","ARG"...]` as one line to
 * the run directory's request FIFO and reads `STATUS\nTEXT` back from
 * `appctl.reply.PID` (ended by a NUL), which the relay fills from one
 * unixctl call to the daemon: the reply on stdout and status 0, or the
 * error on stderr and status 2, as `udpif appctl` prints them (status 1:
 * no daemon answered).
 */
import { unixctlCall } from "./unixctl.ts";

export const RELAY_FIFO = "appctl.fifo";
export const RELAY_REPLY_PREFIX = "appctl.reply.";

export class AppctlRelay {
  readonly #file: Deno.FsFile;
  readonly #done: Promise<void>;
  /** Reply FIFOs an answer is blocked opening. */
  readonly #waiting = new Set<string>();

  private constructor(file: Deno.FsFile, dir: string, socket: string, timeoutMs: number) {
    this.#file = file;
    this.#done = this.#serve(dir, socket, timeoutMs);
  }

  /** Makes `dir/appctl.fifo` and serves it until `stop`. */
  static async start(dir: string, socket: string, timeoutMs: number): Promise<AppctlRelay> {
    const path = `${dir}/${RELAY_FIFO}`;
    const made = await new Deno.Command("mkfifo", { args: [path], stderr: "piped" }).output();
    if (!made.success) {
      throw new Error(`mkfifo ${path}: ${new TextDecoder().decode(made.stderr).trim()}`);
    }
    // Read and write: the FIFO then never reads as ended between two writers.
    const file = await Deno.open(path, { read: true, write: true });
    return new AppctlRelay(file, dir, socket, timeoutMs);
  }

  /** Stops serving; a reply whose wrapper is gone is abandoned. */
  async stop(): Promise<void> {
    this.#file.close();
    // An answer still waiting for its wrapper to open the reply FIFO
    // (the wrapper was killed) is let through by opening it here, read and
    // write so that this open never blocks.
    for (const reply of this.#waiting) {
      await Deno.open(reply, { read: true, write: true }).then((f) => f.close(), () => {});
    }
    await this.#done;
  }

  async #serve(dir: string, socket: string, timeoutMs: number): Promise<void> {
    const decoder = new TextDecoder();
    const buf = new Uint8Array(65536);
    let pending = "";
    const inFlight = new Set<Promise<void>>();
    for (;;) {
      let n: number | null;
      try {
        n = await this.#file.read(buf);
      } catch {
        break; // closed by stop()
      }
      if (n === null) break;
      pending += decoder.decode(buf.subarray(0, n), { stream: true });
      for (let nl = pending.indexOf("\n"); nl >= 0; nl = pending.indexOf("\n")) {
        const line = pending.slice(0, nl);
        pending = pending.slice(nl + 1);
        // Requests are answered concurrently, as a daemon answers clients.
        const p = answer(dir, socket, timeoutMs, line, this.#waiting).finally(() =>
          inFlight.delete(p)
        );
        inFlight.add(p);
      }
    }
    await Promise.all(inFlight);
  }
}

/** One request line: its reply FIFO gets the status line and the text. */
async function answer(
  dir: string,
  socket: string,
  timeoutMs: number,
  line: string,
  waiting: Set<string>,
): Promise<void> {
  let words: unknown;
  try {
    words = JSON.parse(line);
  } catch {
    return; // no pid to answer to: the wrapper's own timeout ends it
  }
  if (!Array.isArray(words) || typeof words[0] !== "number") return;
  const [pid, method, ...params] = words as [number, string, ...string[]];
  let status: number, text: string;
  try {
    const r = await unixctlCall(socket, String(method), params.map(String), timeoutMs);
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
  const reply = `${dir}/${RELAY_REPLY_PREFIX}${pid}`;
  waiting.add(reply);
  try {
    // The wrapper opened its end before asking: this blocks only if it is gone.
    const f = await Deno.open(reply, { write: true });
    waiting.delete(reply);
    try {
      const bytes = new TextEncoder().encode(`${status}\n${text}\0`);
      for (let off = 0; off < bytes.length;) off += await f.write(bytes.subarray(off));
    } finally {
      f.close();
    }
  } catch {
    // the wrapper is gone (killed by its time limit)
  } finally {
    waiting.delete(reply);
    await Deno.remove(reply).catch(() => {});
  }
}

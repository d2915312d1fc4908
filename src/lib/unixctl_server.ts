/**
 * The control socket: a Unix stream socket speaking OVS's unixctl
 * protocol, so that `udpif appctl` and Debian's `ovs-appctl -t SOCKET`
 * both drive the daemon.
 *
 * Each connection handles one request at a time, in order, as OVS does;
 * separate connections proceed independently (a long `revalidator/wait`
 * does not block `upcall/show` on another connection). Bad input never
 * escapes a connection: a message that is not valid JSON-RPC gets an
 * error reply, a stream that cannot be parsed (not JSON, bad UTF-8, over
 * `JSONRPC_MAX_MESSAGE_BYTES`) gets an error reply and is closed.
 *
 * Thread-safety: main thread only.
 */
import { coverageCounter } from "./coverage.ts";
import { getLogger } from "./log.ts";
import { type OutputFormat, runCommand, type UnixctlConn } from "./unixctl.ts";
import {
  encodeReply,
  JsonRpcStreamError,
  JsonStreamReader,
  toJsonRpcMessage,
} from "../unixctl/mod.ts";

const log = getLogger("unixctl");
const covReceived = coverageCounter("unixctl_received");
const covReplied = coverageCounter("unixctl_replied");

export interface UnixctlServerOptions {
  /** Socket file permissions; 0o600 unless given. */
  mode?: number;
  /** Largest accepted request, in bytes. */
  maxMessageBytes?: number;
  /**
   * Runs before each command, as OVS's main loop runs the switch (and
   * requests any revalidation it needs) before it serves unixctl.
   */
  beforeCommand?: () => void;
}

export class UnixctlServer {
  readonly path: string;
  readonly #listener: Deno.Listener<Deno.UnixConn, Deno.UnixAddr>;
  readonly #conns = new Set<Deno.UnixConn>();
  readonly #stopping = new AbortController();
  readonly #maxBytes: number | undefined;
  readonly #beforeCommand: () => void;
  #accepting: Promise<void>;
  #closed = false;

  private constructor(
    path: string,
    listener: Deno.Listener<Deno.UnixConn, Deno.UnixAddr>,
    max?: number,
    beforeCommand: () => void = () => {},
  ) {
    this.path = path;
    this.#listener = listener;
    this.#maxBytes = max;
    this.#beforeCommand = beforeCommand;
    this.#accepting = this.#acceptLoop();
  }

  /**
   * Listens on `path`. A stale socket file left by a daemon that died is
   * replaced; a socket another process still answers on is an error.
   */
  static async listen(path: string, options: UnixctlServerOptions = {}): Promise<UnixctlServer> {
    await removeStaleSocket(path);
    const listener = Deno.listen({ transport: "unix", path });
    try {
      await Deno.chmod(path, options.mode ?? 0o600);
    } catch (e) {
      listener.close();
      await Deno.remove(path).catch(() => {});
      throw e;
    }
    log.debug(`${path}: listening`);
    return new UnixctlServer(path, listener, options.maxMessageBytes, options.beforeCommand);
  }

  async #acceptLoop(): Promise<void> {
    for (;;) {
      let conn: Deno.UnixConn;
      try {
        conn = await this.#listener.accept();
      } catch (e) {
        if (this.#closed) return;
        log.warn(`${this.path}: accept failed: ${e instanceof Error ? e.message : e}`);
        continue;
      }
      this.#conns.add(conn);
      this.#serve(conn).finally(() => {
        this.#conns.delete(conn);
        try {
          conn.close();
        } catch {
          // Already closed by the peer or by stop().
        }
      });
    }
  }

  /**
   * Reads requests and answers them one at a time, in order. A client
   * that half-closes after its request still gets the reply; `signal`
   * aborts when the server stops or the connection fails.
   */
  async #serve(conn: Deno.UnixConn): Promise<void> {
    const reader = new JsonStreamReader(this.#maxBytes);
    const gone = new AbortController();
    const onStop = () => gone.abort();
    this.#stopping.signal.addEventListener("abort", onStop, { once: true });
    let work = Promise.resolve(true);
    const session: { format: OutputFormat } = { format: "text" };
    const buf = new Uint8Array(65536);
    try {
      for (;;) {
        const n = await conn.read(buf);
        if (n === null) break;
        let values: unknown[];
        try {
          values = reader.push(buf.subarray(0, n));
        } catch (e) {
          if (!(e instanceof JsonRpcStreamError)) throw e;
          log.warn(`${this.path}: closing connection: ${e.message}`);
          const message = e.message;
          work = work.then(async (open) => {
            if (open) await writeAll(conn, encodeReply(false, `${message}\n`, null));
            return false;
          });
          break;
        }
        for (const value of values) {
          work = work.then((open) => open && this.#handle(conn, value, session, gone.signal));
        }
      }
    } catch (e) {
      if (!gone.signal.aborted) {
        log.debug(`connection error: ${e instanceof Error ? e.message : e}`);
      }
    } finally {
      await work.catch(() => false);
      gone.abort();
      this.#stopping.signal.removeEventListener("abort", onStop);
    }
  }

  /** Handles one message; false when the connection should close. */
  async #handle(
    conn: Deno.UnixConn,
    value: unknown,
    session: { format: OutputFormat },
    signal: AbortSignal,
  ): Promise<boolean> {
    const message = toJsonRpcMessage(value);
    if (message.kind === "invalid") {
      log.warn(`${this.path}: invalid JSON-RPC message: ${message.reason}`);
      await writeAll(conn, encodeReply(false, `${message.reason}\n`, message.id));
      return true;
    }
    if (message.kind === "reply") {
      log.warn(`${this.path}: received unexpected reply message`);
      await writeAll(conn, encodeReply(false, "unexpected reply message\n", message.msg.id));
      return true;
    }
    const { method, params, id } = message.msg;
    covReceived.inc();
    log.debug(`received request ${method}${JSON.stringify(params)}, id=${JSON.stringify(id)}`);
    const after: Array<() => void | Promise<void>> = [];
    const ctx: UnixctlConn = {
      get format() {
        return session.format;
      },
      set format(f: OutputFormat) {
        session.format = f;
      },
      signal,
      afterReply: (fn) => after.push(fn),
    };
    this.#beforeCommand();
    const reply = await runCommand(method, params, ctx);
    const body = "json" in reply ? reply.json : reply.text;
    covReplied.inc();
    log.debug(
      `replying with ${reply.ok ? "success" : "error"}, id=${JSON.stringify(id)}: ${
        JSON.stringify(body)
      }`,
    );
    try {
      await writeAll(conn, encodeReply(reply.ok, body, id));
    } finally {
      for (const fn of after) await fn();
    }
    return true;
  }

  /** Stops listening, drops every connection and removes the socket file. */
  async stop(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    this.#stopping.abort();
    try {
      this.#listener.close();
    } catch {
      // Already closed.
    }
    for (const conn of this.#conns) {
      try {
        conn.close();
      } catch {
        // Already closed.
      }
    }
    await this.#accepting;
    await Deno.remove(this.path).catch(() => {});
  }
}

async function writeAll(conn: Deno.UnixConn, bytes: Uint8Array): Promise<void> {
  let off = 0;
  while (off < bytes.length) off += await conn.write(bytes.subarray(off));
}

async function removeStaleSocket(path: string): Promise<void> {
  let info: Deno.FileInfo;
  try {
    info = await Deno.lstat(path);
  } catch {
    return;
  }
  if (!info.isSocket) throw new Error(`${path}: exists and is not a socket`);
  try {
    const probe = await Deno.connect({ transport: "unix", path });
    probe.close();
  } catch {
    await Deno.remove(path);
    return;
  }
  throw new Error(`${path}: another daemon is already listening on this socket`);
}

/**
 * The client side of the control socket, as `ovs-appctl` uses it: connect,
 * send one request, wait for the reply with the same id.
 *
 * Thread-safety: any thread; each call uses its own connection.
 */
import {
  encodeRequest,
  JsonRpcStreamError,
  JsonStreamReader,
  toJsonRpcMessage,
} from "./jsonrpc.ts";

/**
 * The daemon's answer: exactly one of `result` and `error` is set.
 * `result` is text, or any JSON value when JSON output was asked for.
 */
export type UnixctlResult = { result: unknown; error?: undefined } | {
  result?: undefined;
  error: string;
};

export interface TransactOptions {
  /** "json" sends `set-options --format json` first, as `ovs-appctl --format json` does. */
  format?: "text" | "json";
}

/** Could not talk to the daemon at all (no socket, connection refused, broken reply). */
export class UnixctlConnectError extends Error {
  override name = "UnixctlConnectError";
}

/** Sends `method` with `args` to the daemon at `path` and returns its answer. */
export async function unixctlTransact(
  path: string,
  method: string,
  args: string[],
  options: TransactOptions = {},
): Promise<UnixctlResult> {
  let conn: Deno.UnixConn;
  try {
    conn = await Deno.connect({ transport: "unix", path });
  } catch (e) {
    const why = e instanceof Deno.errors.NotFound
      ? "No such file or directory"
      : e instanceof Deno.errors.ConnectionRefused
      ? "Connection refused"
      : e instanceof Deno.errors.PermissionDenied
      ? "Permission denied"
      : e instanceof Error
      ? e.message
      : String(e);
    throw new UnixctlConnectError(`cannot connect to "${path}" (${why})`);
  }
  try {
    // A reply is as long as the daemon made it (a dump of 200 000 flows is
    // ~90 MB); as ovs-appctl, the client reading its daemon sets no limit.
    // JSONRPC_MAX_MESSAGE_BYTES guards the daemon against its clients.
    const reader = new JsonStreamReader(Number.POSITIVE_INFINITY);
    const call = async (m: string, a: string[], id: number): Promise<UnixctlResult> => {
      const request = encodeRequest(m, a, id);
      let off = 0;
      while (off < request.length) off += await conn.write(request.subarray(off));
      const buf = new Uint8Array(65536);
      for (;;) {
        const n = await conn.read(buf);
        if (n === null) {
          throw new UnixctlConnectError(`${path}: connection closed before the reply`);
        }
        for (const value of reader.push(buf.subarray(0, n))) {
          const message = toJsonRpcMessage(value);
          if (message.kind !== "reply" || message.msg.id !== id) continue;
          const { result, error } = message.msg;
          if (error !== null) {
            return { error: typeof error === "string" ? error : JSON.stringify(error) };
          }
          if (typeof result !== "string" && options.format !== "json") {
            throw new UnixctlConnectError(`${path}: unexpected result type in reply`);
          }
          return { result };
        }
      }
    };
    if (options.format === "json") {
      const set = await call("set-options", ["--format", "json"], 0);
      if (set.error !== undefined) return set;
    }
    return await call(method, args, 1);
  } catch (e) {
    if (e instanceof JsonRpcStreamError) throw new UnixctlConnectError(`${path}: ${e.message}`);
    if (e instanceof UnixctlConnectError) throw e;
    throw new UnixctlConnectError(`${path}: ${e instanceof Error ? e.message : String(e)}`);
  } finally {
    try {
      conn.close();
    } catch {
      // Already closed by the daemon.
    }
  }
}

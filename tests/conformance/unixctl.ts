/**
 * A minimal client for OVS's unixctl protocol (JSON-RPC 1.0 over a Unix
 * stream socket), as `ovs-appctl` speaks it: one connection per command,
 * `{"method":M,"params":[...],"id":0}` out, one JSON object back with
 * `result` or `error`. The conformance runner uses it for its own steps
 * (packets, waits, dumps), independently of udpif's CLI; only the
 * framing (`JsonStreamReader`) is the daemon's.
 */
import { JsonStreamReader } from "../../src/unixctl/mod.ts";

/** The daemon's answer: exactly one of the two is a string. */
export interface UnixctlReply {
  result: string | null;
  error: string | null;
}

/**
 * Reads `conn` until one whole JSON message has come and returns it
 * parsed (null when the peer closes first). The framing is the daemon's
 * own reader's, which scans each byte once: a 90 MB dump is read in time
 * linear in its length, and with no size limit, as ovs-appctl reads.
 */
export async function readJsonMessage(conn: Deno.Conn): Promise<unknown> {
  const reader = new JsonStreamReader(Number.POSITIVE_INFINITY);
  const buf = new Uint8Array(65536);
  for (;;) {
    const n = await conn.read(buf);
    if (n === null) return null;
    const [value] = reader.push(buf.subarray(0, n));
    if (value !== undefined) return value;
  }
}

/** Turns a parsed JSON-RPC response into a reply, or explains why it is not one. */
export function parseReply(value: unknown): UnixctlReply {
  if (typeof value !== "object" || value === null || Array.isArray(value)) {
    throw new Error("unixctl: reply is not a JSON object");
  }
  const o = value as Record<string, unknown>;
  const error = o.error ?? null;
  const result = o.result ?? null;
  if (error !== null) {
    return { result: null, error: typeof error === "string" ? error : JSON.stringify(error) };
  }
  if (typeof result !== "string") throw new Error("unixctl: reply has neither result nor error");
  return { result, error: null };
}

/**
 * Sends one command and waits for its reply, at most `timeoutMs`.
 * Rejects when the socket cannot be reached, closes early, or times out.
 */
export async function unixctlCall(
  socketPath: string,
  method: string,
  params: string[],
  timeoutMs = 60_000,
): Promise<UnixctlReply> {
  const conn = await Deno.connect({ transport: "unix", path: socketPath });
  let timer: ReturnType<typeof setTimeout> | undefined;
  let closed = false;
  const close = () => {
    if (!closed) {
      closed = true;
      conn.close();
    }
  };
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => {
      close();
      reject(new Error(`unixctl: no reply to ${method} within ${timeoutMs} ms`));
    }, timeoutMs);
  });
  const exchange = async (): Promise<UnixctlReply> => {
    const request = JSON.stringify({ method, params, id: 0 });
    const bytes = new TextEncoder().encode(request);
    for (let off = 0; off < bytes.length;) off += await conn.write(bytes.subarray(off));
    const value = await readJsonMessage(conn);
    if (value === null) throw new Error(`unixctl: connection closed before the reply to ${method}`);
    return parseReply(value);
  };
  try {
    return await Promise.race([exchange(), timeout]);
  } finally {
    clearTimeout(timer);
    close();
  }
}

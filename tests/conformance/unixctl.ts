/**
 * A minimal client for OVS's unixctl protocol (JSON-RPC 1.0 over a Unix
 * stream socket), as `ovs-appctl` speaks it: one connection per command,
 * `{"method":M,"params":[...],"id":0}` out, one JSON object back with
 * `result` or `error`. The conformance runner uses it for its own steps
 * (packets, waits, dumps), independently of udpif's CLI.
 */

/** The daemon's answer: exactly one of the two is a string. */
export interface UnixctlReply {
  result: string | null;
  error: string | null;
}

/**
 * Length of the first complete JSON value at the start of `text`
 * (objects only, which is all JSON-RPC sends), or -1 while incomplete.
 */
export function jsonObjectEnd(text: string): number {
  let depth = 0;
  let inString = false;
  let escaped = false;
  let started = false;
  for (let i = 0; i < text.length; i++) {
    const ch = text[i];
    if (inString) {
      if (escaped) escaped = false;
      else if (ch === "\\") escaped = true;
      else if (ch === '"') inString = false;
      continue;
    }
    if (ch === '"') inString = true;
    else if (ch === "{" || ch === "[") {
      depth++;
      started = true;
    } else if (ch === "}" || ch === "]") {
      depth--;
      if (started && depth === 0) return i + 1;
    }
  }
  return -1;
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
    const decoder = new TextDecoder();
    const buf = new Uint8Array(65536);
    let text = "";
    for (;;) {
      const n = await conn.read(buf);
      if (n === null) throw new Error(`unixctl: connection closed before the reply to ${method}`);
      text += decoder.decode(buf.subarray(0, n), { stream: true });
      const end = jsonObjectEnd(text);
      if (end >= 0) return parseReply(JSON.parse(text.slice(0, end)));
    }
  };
  try {
    return await Promise.race([exchange(), timeout]);
  } finally {
    clearTimeout(timer);
    close();
  }
}

/**
 * JSON-RPC 1.0 framing as OVS's lib/jsonrpc.c has it: messages are JSON
 * objects written back to back on the stream, with no length prefix or
 * delimiter; the reader finds where each one ends by tracking brackets
 * and strings. Requests are `{"method":M,"params":[...],"id":ID}`,
 * replies `{"result":TEXT,"error":null,"id":ID}` or
 * `{"result":null,"error":TEXT,"id":ID}`.
 *
 * Thread-safety: plain per-connection objects; no shared state.
 */

/**
 * Largest message the daemon's reader accepts from a client; a longer one
 * is an error, never buffered without bound. (A client reading replies
 * from its own daemon passes no limit.)
 */
export const JSONRPC_MAX_MESSAGE_BYTES = 16 * 1024 * 1024;

export type JsonRpcRequest = { method: string; params: unknown[]; id: unknown };
export type JsonRpcReply = { result: unknown; error: unknown; id: unknown };
export type JsonRpcMessage =
  | { kind: "request"; msg: JsonRpcRequest }
  | { kind: "reply"; msg: JsonRpcReply }
  /** A message that parsed as JSON but is not a valid request or reply; `id` echoes it when possible. */
  | { kind: "invalid"; reason: string; id: unknown };

/** A framing error: the stream cannot be resynchronised and must be closed. */
export class JsonRpcStreamError extends Error {
  override name = "JsonRpcStreamError";
}

const OPEN_BRACE = 0x7b, CLOSE_BRACE = 0x7d, OPEN_BRACKET = 0x5b, CLOSE_BRACKET = 0x5d;
const QUOTE = 0x22, BACKSLASH = 0x5c;

function isSpace(b: number): boolean {
  return b === 0x20 || b === 0x09 || b === 0x0a || b === 0x0d;
}

/** Splits a byte stream into complete JSON texts (top-level objects or arrays). */
export class JsonStreamReader {
  #buf = new Uint8Array(4096);
  #len = 0;
  /** Scan position and state, kept between pushes so each byte is scanned once. */
  #pos = 0;
  #depth = 0;
  #inString = false;
  #escape = false;
  readonly #max: number;
  readonly #decoder = new TextDecoder("utf-8", { fatal: true });

  constructor(maxBytes = JSONRPC_MAX_MESSAGE_BYTES) {
    this.#max = maxBytes;
  }

  /** Bytes received but not yet part of a complete message. */
  get pending(): number {
    return this.#len;
  }

  /**
   * Adds received bytes and returns the complete JSON values now
   * available. Throws JsonRpcStreamError on bytes that cannot start a
   * message, invalid JSON or UTF-8, or a message over the size limit.
   */
  push(chunk: Uint8Array): unknown[] {
    if (this.#len + chunk.length > this.#buf.length) {
      let size = this.#buf.length;
      while (size < this.#len + chunk.length) size *= 2;
      const grown = new Uint8Array(size);
      grown.set(this.#buf.subarray(0, this.#len));
      this.#buf = grown;
    }
    this.#buf.set(chunk, this.#len);
    this.#len += chunk.length;
    const out: unknown[] = [];
    let start = 0;
    while (this.#pos < this.#len) {
      const b = this.#buf[this.#pos++];
      if (this.#depth === 0) {
        if (isSpace(b)) {
          start = this.#pos;
          continue;
        }
        if (b !== OPEN_BRACE && b !== OPEN_BRACKET) {
          throw new JsonRpcStreamError(`syntax error: message must start with '{' or '['`);
        }
        this.#depth = 1;
        continue;
      }
      if (this.#inString) {
        if (this.#escape) this.#escape = false;
        else if (b === BACKSLASH) this.#escape = true;
        else if (b === QUOTE) this.#inString = false;
        continue;
      }
      if (b === QUOTE) this.#inString = true;
      else if (b === OPEN_BRACE || b === OPEN_BRACKET) this.#depth++;
      else if (b === CLOSE_BRACE || b === CLOSE_BRACKET) {
        if (--this.#depth === 0) {
          out.push(this.#parse(start, this.#pos));
          start = this.#pos;
        }
      }
    }
    if (start > 0) {
      this.#buf.copyWithin(0, start, this.#len);
      this.#len -= start;
      this.#pos -= start;
    }
    if (this.#len > this.#max) {
      throw new JsonRpcStreamError(`message too long (over ${this.#max} bytes)`);
    }
    return out;
  }

  #parse(from: number, to: number): unknown {
    if (to - from > this.#max) {
      throw new JsonRpcStreamError(`message too long (over ${this.#max} bytes)`);
    }
    let text: string;
    try {
      text = this.#decoder.decode(this.#buf.subarray(from, to));
    } catch {
      throw new JsonRpcStreamError("invalid UTF-8 in message");
    }
    try {
      return JSON.parse(text);
    } catch (e) {
      // JSON.parse quotes the bad text, control characters and all: the
      // error stays one line.
      const why = e instanceof Error ? e.message : String(e);
      throw new JsonRpcStreamError(`syntax error: ${oneLine(why)}`);
    }
  }
}

/** `s` with control characters as JSON escapes, so that it prints on one line. */
function oneLine(s: string): string {
  let out = "";
  for (const c of s) {
    const code = c.charCodeAt(0);
    out += code < 0x20 || code === 0x7f ? `\\u${code.toString(16).padStart(4, "0")}` : c;
  }
  return out;
}

const MEMBERS = new Set(["method", "params", "result", "error", "id"]);

/** Classifies a parsed JSON value as OVS's `jsonrpc_msg_from_json` does. */
export function toJsonRpcMessage(json: unknown): JsonRpcMessage {
  if (json === null || typeof json !== "object" || Array.isArray(json)) {
    return { kind: "invalid", reason: "message is not a JSON object", id: null };
  }
  const o = json as Record<string, unknown>;
  const id = o.id ?? null;
  if (o.method !== undefined && typeof o.method !== "string") {
    return { kind: "invalid", reason: "method is not a JSON string", id };
  }
  const extra = Object.keys(o).find((k) => !MEMBERS.has(k));
  if (extra !== undefined) {
    return { kind: "invalid", reason: `message has unexpected member "${oneLine(extra)}"`, id };
  }
  const has = (k: string) => o[k] !== undefined && o[k] !== null;
  if (has("params") && !Array.isArray(o.params)) {
    return { kind: "invalid", reason: '"params" must be JSON array', id };
  }
  if (has("result") || has("error")) {
    if (has("method") || has("params") || !has("id")) {
      return { kind: "invalid", reason: 'reply must have only "result" or "error" and "id"', id };
    }
    return { kind: "reply", msg: { result: o.result ?? null, error: o.error ?? null, id: o.id } };
  }
  if (!has("id")) {
    return { kind: "invalid", reason: "notifications are not supported", id: null };
  }
  if (!has("method")) return { kind: "invalid", reason: 'request must have "method"', id };
  if (!has("params")) return { kind: "invalid", reason: 'request must have "params"', id };
  return {
    kind: "request",
    msg: { method: o.method as string, params: o.params as unknown[], id },
  };
}

const encoder = new TextEncoder();

/** A request as bytes on the wire. */
export function encodeRequest(method: string, params: string[], id: number): Uint8Array {
  return encoder.encode(JSON.stringify({ method, params, id }));
}

/** A success (`ok`) or error reply as bytes on the wire; a success result may be any JSON value. */
export function encodeReply(ok: boolean, body: unknown, id: unknown): Uint8Array {
  const msg = ok ? { id, result: body, error: null } : { id, result: null, error: body };
  return encoder.encode(JSON.stringify(msg));
}

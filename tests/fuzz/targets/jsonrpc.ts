/**
 * The unixctl JSON-RPC framing (src/unixctl/jsonrpc.ts, OVS's
 * jsonrpc_recv/json_parser_feed and jsonrpc_msg_from_json) on arbitrary
 * bytes. Properties: a bad stream fails with one JsonRpcStreamError with
 * a one-line message, nothing else, and never hangs; how the bytes are
 * split into reads changes nothing (the messages, the failure, the bytes
 * left pending); the size limit holds; every message parsed classifies
 * as a request, a reply or an invalid message without throwing.
 */
import assert from "node:assert/strict";
import { isDeepStrictEqual } from "node:util";
import {
  JsonRpcStreamError,
  JsonStreamReader,
  toJsonRpcMessage,
} from "../../../src/unixctl/mod.ts";
import { fnv1a, mutateBytes, type Rng, Rng as Prng, type Target } from "../engine.ts";

/** A small limit, so that mutated inputs reach it. */
const MAX = 512;

interface Outcome {
  messages: unknown[];
  error: string | null;
  pending: number;
}

function feed(chunks: Uint8Array[]): Outcome {
  const r = new JsonStreamReader(MAX);
  const messages: unknown[] = [];
  try {
    for (const c of chunks) messages.push(...r.push(c));
  } catch (e) {
    if (!(e instanceof JsonRpcStreamError)) throw e;
    assert.ok(!e.message.includes("\n"), `error message spans lines: ${e.message}`);
    return { messages, error: e.message, pending: -1 };
  }
  return { messages, error: null, pending: r.pending };
}

export function checkJsonRpc(stream: Uint8Array): void {
  const whole = feed([stream]);
  const rng = new Prng(fnv1a(stream));
  const chunks: Uint8Array[] = [];
  for (let o = 0; o < stream.length;) {
    const n = 1 + rng.int(rng.chance(4) ? 4 : 64);
    chunks.push(stream.subarray(o, o + n));
    o += n;
  }
  const split = feed(chunks);
  if (whole.error === null) {
    assert.equal(split.error, null, `a split read fails where one read does not: ${split.error}`);
    assert.ok(isDeepStrictEqual(split.messages, whole.messages), "a split read changes messages");
    assert.equal(split.pending, whole.pending, "a split read leaves other bytes pending");
    assert.ok(whole.pending <= MAX, "more than the limit pending");
  } else {
    assert.ok(split.error !== null, `a split read accepts what one read refuses: ${whole.error}`);
  }
  for (const m of split.messages) {
    const c = toJsonRpcMessage(m);
    if (c.kind === "request") {
      assert.ok(typeof c.msg.method === "string" && Array.isArray(c.msg.params), "bad request");
    } else if (c.kind === "invalid") {
      assert.ok(c.reason.length > 0 && !c.reason.includes("\n"), "invalid without a reason");
    }
  }
}

export const jsonRpcTarget: Target<Uint8Array> = {
  name: "jsonrpc",
  kind: "bytes",
  mutate: (rng: Rng, corpus: readonly Uint8Array[]) => mutateBytes(rng, corpus, 2 * MAX),
  run: checkJsonRpc,
};

import assert from "node:assert/strict";
import {
  encodeReply,
  encodeRequest,
  JsonRpcStreamError,
  JsonStreamReader,
  toJsonRpcMessage,
} from "./jsonrpc.ts";

const enc = new TextEncoder();

Deno.test("messages written back to back are split where each one ends", () => {
  const r = new JsonStreamReader();
  const text = '{"method":"a","params":["}{"],"id":1} \n{"method":"b","params":["\\"]"],"id":2}';
  assert.deepEqual(r.push(enc.encode(text)), [
    { method: "a", params: ["}{"], id: 1 },
    { method: "b", params: ['"]'], id: 2 },
  ]);
  assert.equal(r.pending, 0);
});

Deno.test("a message split across reads is returned once it is complete", () => {
  const r = new JsonStreamReader();
  const bytes = encodeRequest("upcall/show", ["é"], 7);
  for (let i = 0; i < bytes.length - 1; i++) assert.deepEqual(r.push(bytes.subarray(i, i + 1)), []);
  assert.deepEqual(r.push(bytes.subarray(bytes.length - 1)), [
    { method: "upcall/show", params: ["é"], id: 7 },
  ]);
});

Deno.test("bytes that cannot start a message, bad JSON and oversized messages are stream errors", () => {
  assert.throws(() => new JsonStreamReader().push(enc.encode("hello")), JsonRpcStreamError);
  assert.throws(() => new JsonStreamReader().push(enc.encode('{"a":tru}')), /syntax error/);
  assert.throws(
    () => new JsonStreamReader(100).push(enc.encode('{"x":"' + "a".repeat(200))),
    /message too long \(over 100 bytes\)/,
  );
  assert.throws(
    () => new JsonStreamReader().push(new Uint8Array([0x7b, 0x22, 0xff, 0x22, 0x3a, 0x31, 0x7d])),
    /invalid UTF-8/,
  );
});

Deno.test("requests and replies are told apart as OVS's jsonrpc does", () => {
  assert.equal(toJsonRpcMessage({ method: "m", params: [], id: 0 }).kind, "request");
  assert.equal(toJsonRpcMessage({ result: "x", error: null, id: 0 }).kind, "reply");
  assert.deepEqual(toJsonRpcMessage([1]), {
    kind: "invalid",
    reason: "message is not a JSON object",
    id: null,
  });
  assert.deepEqual(toJsonRpcMessage({ method: 3, params: [], id: 1 }), {
    kind: "invalid",
    reason: "method is not a JSON string",
    id: 1,
  });
  assert.deepEqual(toJsonRpcMessage({ method: "m", params: {}, id: 2 }), {
    kind: "invalid",
    reason: '"params" must be JSON array',
    id: 2,
  });
  assert.deepEqual(toJsonRpcMessage({ method: "m", params: [], id: 2, x: 1 }), {
    kind: "invalid",
    reason: 'message has unexpected member "x"',
    id: 2,
  });
  assert.equal(toJsonRpcMessage({ method: "m", params: [] }).kind, "invalid");
  assert.equal(toJsonRpcMessage({ method: "m", id: 4 }).kind, "invalid");
});

Deno.test("replies carry the text in result or error and echo the id", () => {
  const dec = new TextDecoder();
  assert.deepEqual(JSON.parse(dec.decode(encodeReply(true, "warped\n", 3))), {
    id: 3,
    result: "warped\n",
    error: null,
  });
  assert.deepEqual(JSON.parse(dec.decode(encodeReply(false, "No such counter\n", "x"))), {
    id: "x",
    result: null,
    error: "No such counter\n",
  });
});

// Found by the jsonrpc fuzz target (fixtures/fuzz/jsonrpc/crash-*): the
// bad text was quoted raw, newline and all, into a multi-line error.
Deno.test("stream errors and invalid-message reasons stay on one line", () => {
  const enc = new TextEncoder();
  assert.throws(
    () => new JsonStreamReader().push(enc.encode('{"":"","":\x06\n""}')),
    (e: Error) =>
      e instanceof JsonRpcStreamError && /^syntax error: /.test(e.message) &&
      !e.message.includes("\n"),
  );
  const [json] = new JsonStreamReader().push(enc.encode('{"\\n":[],"":1}'));
  assert.deepEqual(toJsonRpcMessage(json), {
    kind: "invalid",
    reason: 'message has unexpected member "\\u000a"',
    id: null,
  });
});

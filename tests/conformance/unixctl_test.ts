import assert from "node:assert/strict";
import { parseReply, readJsonMessage, unixctlCall } from "./unixctl.ts";

Deno.test("a reply carries either a result or an error", () => {
  assert.deepEqual(parseReply({ id: 0, result: "ok\n", error: null }), {
    result: "ok\n",
    error: null,
  });
  assert.deepEqual(parseReply({ id: 0, result: null, error: "bad\n" }), {
    result: null,
    error: "bad\n",
  });
  assert.throws(() => parseReply({ id: 0 }), /neither result nor error/);
  assert.throws(() => parseReply("x"), /not a JSON object/);
});

Deno.test("a call sends one JSON-RPC request and reads a reply split over several writes", async () => {
  const dir = await Deno.makeTempDir({ prefix: "unixctl-test." });
  const path = `${dir}/ctl`;
  const listener = Deno.listen({ transport: "unix", path });
  const served = (async () => {
    const conn = await listener.accept();
    const request = await readJsonMessage(conn) as { id: number; method: string; params: string[] };
    const reply = JSON.stringify({
      id: request.id,
      result: `${request.method} ${request.params.join(" ")}\n`,
      error: null,
    });
    const enc = new TextEncoder();
    await conn.write(enc.encode(reply.slice(0, 7)));
    await conn.write(enc.encode(reply.slice(7)));
    conn.close();
  })();
  try {
    const reply = await unixctlCall(path, "upcall/set-flow-limit", ["3"]);
    assert.deepEqual(reply, { result: "upcall/set-flow-limit 3\n", error: null });
  } finally {
    await served;
    listener.close();
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("a call to a socket nobody listens on rejects", async () => {
  const dir = await Deno.makeTempDir({ prefix: "unixctl-test." });
  try {
    await assert.rejects(unixctlCall(`${dir}/missing.ctl`, "upcall/show", []));
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

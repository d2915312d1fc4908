import assert from "node:assert/strict";
import { JSONRPC_MAX_MESSAGE_BYTES, JsonStreamReader } from "./jsonrpc.ts";
import { unixctlTransact } from "./client.ts";

Deno.test("a reply longer than the daemon's request limit reaches the client whole", async () => {
  const dir = await Deno.makeTempDir({ prefix: "udpif-client-" });
  const path = `${dir}/ctl`;
  const listener = Deno.listen({ transport: "unix", path });
  // A dump-flows of ~45 000 verbose flows: past the 16 MB a request may have.
  const line =
    "ufid:0, in_port(1),eth(),eth_type(0x0800), packets:0, bytes:0, used:never, actions:2\n";
  const body = line.repeat(Math.ceil((JSONRPC_MAX_MESSAGE_BYTES + 4096) / line.length));
  const served = (async () => {
    const conn = await listener.accept();
    try {
      const reader = new JsonStreamReader();
      const buf = new Uint8Array(4096);
      let request: { id: number } | undefined;
      while (!request) {
        const n = await conn.read(buf);
        if (n === null) throw new Error("client closed before its request");
        request = reader.push(buf.subarray(0, n))[0] as { id: number } | undefined;
      }
      const reply = new TextEncoder().encode(
        JSON.stringify({ id: request.id, result: body, error: null }),
      );
      for (let off = 0; off < reply.length;) off += await conn.write(reply.subarray(off));
    } finally {
      conn.close();
    }
  })();
  try {
    const got = await unixctlTransact(path, "dpctl/dump-flows", []);
    assert.equal(got.error, undefined);
    assert.equal((got.result as string).length, body.length);
    assert.ok(body.length > JSONRPC_MAX_MESSAGE_BYTES);
    await served;
  } finally {
    listener.close();
    await Deno.remove(dir, { recursive: true });
  }
});

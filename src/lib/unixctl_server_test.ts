import assert from "node:assert/strict";
import { registerCommand } from "./unixctl.ts";
import { UnixctlServer } from "./unixctl_server.ts";
import { UnixctlConnectError, unixctlTransact } from "../unixctl/mod.ts";

registerCommand({
  name: "test-server/echo",
  usage: "[arg...]",
  minArgs: 0,
  maxArgs: 10,
  handler: (args) => args.join(","),
  json: (args) => ({ args }),
});

let releaseWait: () => void = () => {};
registerCommand({
  name: "test-server/wait",
  usage: "",
  minArgs: 0,
  maxArgs: 0,
  handler: () => new Promise<string>((resolve) => (releaseWait = () => resolve("released"))),
});

async function withServer(
  fn: (server: UnixctlServer, dir: string) => Promise<void>,
  maxMessageBytes?: number,
): Promise<void> {
  const dir = await Deno.makeTempDir();
  const server = await UnixctlServer.listen(`${dir}/test.ctl`, { maxMessageBytes });
  try {
    await fn(server, dir);
  } finally {
    await server.stop();
    await Deno.remove(dir, { recursive: true });
  }
}

async function rawExchange(path: string, bytes: Uint8Array): Promise<string> {
  const conn = await Deno.connect({ transport: "unix", path });
  await conn.write(bytes);
  let text = "";
  const buf = new Uint8Array(4096);
  for (;;) {
    const n = await conn.read(buf);
    if (n === null) break;
    text += new TextDecoder().decode(buf.subarray(0, n));
    try {
      JSON.parse(text);
      break;
    } catch {
      // Not complete yet.
    }
  }
  conn.close();
  return text;
}

Deno.test("the client gets a command's reply over the socket", async () => {
  await withServer(async (server) => {
    assert.deepEqual(await unixctlTransact(server.path, "test-server/echo", ["a", "b"]), {
      result: "a,b\n",
    });
    assert.deepEqual(await unixctlTransact(server.path, "test-server/echo", []), { result: "" });
  });
});

Deno.test("the socket file is created with mode 0600 and removed on stop", async () => {
  const dir = await Deno.makeTempDir();
  const server = await UnixctlServer.listen(`${dir}/m.ctl`);
  assert.equal((await Deno.stat(server.path)).mode! & 0o777, 0o600);
  await server.stop();
  await assert.rejects(Deno.stat(server.path), Deno.errors.NotFound);
  await Deno.remove(dir, { recursive: true });
});

Deno.test("an unknown command gets an error reply and the daemon keeps serving", async () => {
  await withServer(async (server) => {
    const r = await unixctlTransact(server.path, "nosuch/cmd", []);
    assert.match(r.error!, /^"nosuch\/cmd" is not a valid command/);
    assert.equal((await unixctlTransact(server.path, "test-server/echo", ["x"])).result, "x\n");
  });
});

Deno.test("malformed JSON gets a JSON-RPC error and the connection is closed", async () => {
  await withServer(async (server) => {
    const reply = JSON.parse(await rawExchange(server.path, new TextEncoder().encode("{nope}")));
    assert.equal(reply.result, null);
    assert.match(reply.error, /^syntax error/);
    assert.equal((await unixctlTransact(server.path, "test-server/echo", ["y"])).result, "y\n");
  });
});

Deno.test("a request that is not JSON-RPC gets an error naming what is wrong", async () => {
  await withServer(async (server) => {
    const bytes = new TextEncoder().encode('{"method":"test-server/echo","params":"x","id":5}');
    const reply = JSON.parse(await rawExchange(server.path, bytes));
    assert.deepEqual(reply, { id: 5, result: null, error: '"params" must be JSON array\n' });
  });
});

Deno.test("an oversized request gets an error and the daemon keeps serving", async () => {
  await withServer(async (server) => {
    const big = `{"method":"test-server/echo","params":["${"a".repeat(5000)}"],"id":1}`;
    const reply = JSON.parse(await rawExchange(server.path, new TextEncoder().encode(big)));
    assert.match(reply.error, /message too long \(over 1024 bytes\)/);
    assert.equal((await unixctlTransact(server.path, "test-server/echo", ["z"])).result, "z\n");
  }, 1024);
});

Deno.test("a slow command on one connection does not hold up another", async () => {
  await withServer(async (server) => {
    const slow = unixctlTransact(server.path, "test-server/wait", []);
    assert.equal((await unixctlTransact(server.path, "test-server/echo", ["q"])).result, "q\n");
    releaseWait();
    assert.equal((await slow).result, "released\n");
  });
});

Deno.test("requests sent back to back on one connection are answered in order", async () => {
  await withServer(async (server) => {
    const enc = new TextEncoder();
    const conn = await Deno.connect({ transport: "unix", path: server.path });
    await conn.write(enc.encode(
      '{"method":"test-server/echo","params":["1"],"id":1}{"method":"test-server/echo","params":["2"],"id":2}',
    ));
    let text = "";
    const buf = new Uint8Array(4096);
    while (!text.includes('"id":2')) {
      const n = await conn.read(buf);
      if (n === null) break;
      text += new TextDecoder().decode(buf.subarray(0, n));
    }
    conn.close();
    assert.equal(
      text,
      '{"id":1,"result":"1\\n","error":null}{"id":2,"result":"2\\n","error":null}',
    );
  });
});

Deno.test("a stale socket file is replaced, a live one is refused", async () => {
  await withServer(async (server, dir) => {
    await assert.rejects(UnixctlServer.listen(server.path), /another daemon is already listening/);
    const stalePath = `${dir}/stale.ctl`;
    const l = Deno.listen({ transport: "unix", path: stalePath });
    l.close();
    await Deno.writeTextFile(`${dir}/plain`, "x");
    await assert.rejects(UnixctlServer.listen(`${dir}/plain`), /exists and is not a socket/);
    const second = await UnixctlServer.listen(stalePath);
    await second.stop();
  });
});

Deno.test("connecting to a missing socket is a connect error naming the path", async () => {
  await assert.rejects(
    unixctlTransact("/nonexistent/udpif.ctl", "version", []),
    (e: unknown) =>
      e instanceof UnixctlConnectError &&
      e.message === 'cannot connect to "/nonexistent/udpif.ctl" (No such file or directory)',
  );
});

Deno.test("a client asking for JSON gets the command's JSON value", async () => {
  await withServer(async (server) => {
    assert.deepEqual(
      await unixctlTransact(server.path, "test-server/echo", ["a"], { format: "json" }),
      { result: { args: ["a"] } },
    );
    assert.deepEqual(await unixctlTransact(server.path, "test-server/echo", ["a"]), {
      result: "a\n",
    });
  });
});

Deno.test("the beforeCommand hook runs before each command, so the command sees its effect", async () => {
  const dir = await Deno.makeTempDir();
  let runs = 0;
  registerCommand({
    name: "test-server/runs",
    usage: "",
    minArgs: 0,
    maxArgs: 0,
    handler: () => String(runs),
  });
  const server = await UnixctlServer.listen(`${dir}/h.ctl`, { beforeCommand: () => runs++ });
  try {
    assert.deepEqual(await unixctlTransact(server.path, "test-server/runs", []), { result: "1\n" });
    assert.deepEqual(await unixctlTransact(server.path, "test-server/runs", []), { result: "2\n" });
  } finally {
    await server.stop();
    await Deno.remove(dir, { recursive: true });
  }
});

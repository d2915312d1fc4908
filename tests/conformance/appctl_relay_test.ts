import assert from "node:assert/strict";
import { AppctlRelay } from "./appctl_relay.ts";
import { readJsonMessage } from "./unixctl.ts";
import { writeWrappers } from "./wrappers.ts";

/** A unixctl server that echoes each request's params, or errors for `fail`. */
function echoServer(path: string): { calls: string[][]; close: () => void } {
  const listener = Deno.listen({ transport: "unix", path });
  const calls: string[][] = [];
  (async () => {
    for await (const conn of listener) {
      const req = await readJsonMessage(conn) as
        | { id: number; method: string; params: string[] }
        | null;
      if (!req) {
        conn.close();
        continue;
      }
      calls.push([req.method, ...req.params]);
      const answer = req.method === "fail"
        ? { id: req.id, result: null, error: "it failed" }
        : { id: req.id, result: `got ${req.params.join("|")}\nsecond line\n`, error: null };
      await conn.write(new TextEncoder().encode(JSON.stringify(answer)));
      conn.close();
    }
  })().catch(() => {});
  return { calls, close: () => listener.close() };
}

async function sh(bin: string, command: string) {
  const out = await new Deno.Command("bash", {
    args: ["-c", command],
    env: { PATH: `${bin}:${Deno.env.get("PATH")}` },
    stdout: "piped",
    stderr: "piped",
  }).output();
  const d = new TextDecoder();
  return { code: out.code, stdout: d.decode(out.stdout), stderr: d.decode(out.stderr) };
}

Deno.test("ovs-appctl through the relay: the reply, the error and odd arguments", async () => {
  const dir = await Deno.makeTempDir({ prefix: "relay-test." });
  const server = echoServer(`${dir}/ctl`);
  const relay = await AppctlRelay.start(dir, `${dir}/ctl`, 5000);
  try {
    await Deno.mkdir(`${dir}/bin`);
    // A udpif that must not be run: the relay answers plain commands.
    await writeWrappers(`${dir}/bin`, "/nonexistent/udpif", `${dir}/ctl`, dir);
    const ok = await sh(
      `${dir}/bin`,
      `ovs-appctl -t x upcall/show 'a"b' 'c\\d' "$(printf 'e\\tf')"`,
    );
    assert.equal(ok.code, 0);
    assert.equal(ok.stdout, 'got a"b|c\\d|e\tf\nsecond line\n');
    assert.deepEqual(server.calls, [["upcall/show", 'a"b', "c\\d", "e\tf"]]);
    const bad = await sh(`${dir}/bin`, "ovs-appctl fail");
    assert.equal(bad.code, 2);
    assert.equal(bad.stdout, "");
    // ovs-appctl adds its own line after the server's error, naming the target.
    assert.equal(bad.stderr, "it failed\novs-appctl: ovs-vswitchd: server returned an error\n");
    const named = await sh(`${dir}/bin`, "ovs-appctl -t br0.ctl fail");
    assert.equal(named.stderr, "it failed\novs-appctl: br0.ctl: server returned an error\n");
    const vsctl = await sh(`${dir}/bin`, "ovs-vsctl set Open_vSwitch . other_config:flow-limit=7");
    assert.equal(vsctl.code, 0);
    assert.deepEqual(server.calls.at(-1), ["config/set", "flow-limit=7"]);
  } finally {
    await relay.stop();
    server.close();
    await Deno.remove(dir, { recursive: true });
  }
});

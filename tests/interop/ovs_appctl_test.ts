/**
 * Debian's real `ovs-appctl` against the udpif daemon: proves the control
 * socket speaks OVS's unixctl protocol. The test installs
 * openvswitch-common itself (scripts/install-test-deps.sh) when
 * ovs-appctl is missing, so it runs on a fresh machine with apt and root.
 */
import assert from "node:assert/strict";
import { TestDaemon } from "../cli/_run.ts";
import { ensureTestDeps } from "../support/veth_topology.ts";

async function ovsAppctl(socket: string, args: string[]) {
  const out = await new Deno.Command("ovs-appctl", {
    args: ["-t", socket, ...args],
    stdout: "piped",
    stderr: "piped",
  }).output();
  const dec = new TextDecoder();
  return { code: out.code, stdout: dec.decode(out.stdout), stderr: dec.decode(out.stderr) };
}

Deno.test("Debian's ovs-appctl lists commands, reads the version and gets error replies from udpif", async () => {
  await ensureTestDeps();
  const d = await TestDaemon.start();
  try {
    const list = await ovsAppctl(d.socket, ["list-commands"]);
    assert.equal(list.code, 0, list.stderr);
    const ours = await d.run(["list-commands"]);
    assert.equal(list.stdout, ours.stdout);
    assert.ok(list.stdout.startsWith("The available commands are:\n"));
    assert.ok(list.stdout.includes("  version                 \n"));

    assert.deepEqual(await ovsAppctl(d.socket, ["version"]), {
      code: 0,
      stdout: "udpif (udpif) 0.1.0\n",
      stderr: "",
    });

    const unknown = await ovsAppctl(d.socket, ["nosuch/cmd"]);
    assert.equal(unknown.code, 2);
    assert.equal(unknown.stdout, "");
    assert.equal(
      unknown.stderr,
      '"nosuch/cmd" is not a valid command (use "list-commands" to see a list of valid commands)\n' +
        `ovs-appctl: ${d.socket}: server returned an error\n`,
    );

    const few = await ovsAppctl(d.socket, ["coverage/read-counter"]);
    assert.equal(few.code, 2);
    assert.ok(
      few.stderr.startsWith('"coverage/read-counter" command requires at least 1 arguments\n'),
    );

    assert.deepEqual(await ovsAppctl(d.socket, ["time/stop"]), { code: 0, stdout: "", stderr: "" });
    assert.deepEqual(await ovsAppctl(d.socket, ["time/warp", "500"]), {
      code: 0,
      stdout: "warped\n",
      stderr: "",
    });
    const cov = await ovsAppctl(d.socket, ["coverage/show"]);
    assert.equal(cov.code, 0);
    assert.match(
      cov.stdout,
      /^Event coverage, avg rate over last: 5 seconds, last minute, last hour, {2}hash=[0-9a-f]{8}:\n/,
    );

    assert.deepEqual(await ovsAppctl(d.socket, ["exit"]), { code: 0, stdout: "", stderr: "" });
  } finally {
    await d.stop();
  }
});

/**
 * Golden tests of the client subcommands against a real daemon: what
 * each prints on success and on error, and its exit code.
 */
import assert from "node:assert/strict";
import { TestDaemon, udpif } from "./_run.ts";

Deno.test("appctl and direct subcommands print the daemon's replies", async () => {
  const d = await TestDaemon.start();
  try {
    assert.deepEqual(await d.run(["appctl", "version"]), {
      code: 0,
      stdout: "udpif (udpif) 0.1.0\n",
      stderr: "",
    });
    const list = await d.run(["list-commands"]);
    assert.equal(list.code, 0);
    assert.ok(list.stdout.startsWith("The available commands are:\n"));
    assert.ok(list.stdout.includes("  time/warp               [large_msecs] msecs\n"));
    assert.ok(list.stdout.includes("  coverage/read-counter   COUNTER\n"));
    assert.deepEqual(await d.run(["time/stop"]), { code: 0, stdout: "", stderr: "" });
    assert.deepEqual(await d.run(["time/warp", "1000", "100"]), {
      code: 0,
      stdout: "warped\n",
      stderr: "",
    });
    assert.deepEqual(
      await d.run(["appctl", "-t", d.socket, "coverage/read-counter", "unixctl_received"]),
      {
        code: 0,
        stdout: "5\n",
        stderr: "",
      },
    );
  } finally {
    await d.stop();
  }
});

Deno.test("error replies go to stderr with exit code 2", async () => {
  const d = await TestDaemon.start();
  try {
    assert.deepEqual(await d.run(["time/warp", "0"]), {
      code: 2,
      stdout: "",
      stderr: "invalid MSECS\n",
    });
    assert.deepEqual(await d.run(["appctl", "nosuch/cmd"]), {
      code: 2,
      stdout: "",
      stderr:
        '"nosuch/cmd" is not a valid command (use "list-commands" to see a list of valid commands)\n',
    });
    assert.deepEqual(await d.run(["coverage/read-counter"]), {
      code: 2,
      stdout: "",
      stderr: '"coverage/read-counter" command requires at least 1 arguments\n',
    });
    assert.deepEqual(await d.run(["coverage/read-counter", "nosuch"]), {
      code: 2,
      stdout: "",
      stderr: "No such counter\n",
    });
    assert.deepEqual(await d.run(["vlog/set", "nosuch:dbg"]), {
      code: 2,
      stdout: "",
      stderr: 'no destination, level, or module "nosuch"\n',
    });
  } finally {
    await d.stop();
  }
});

Deno.test("--format json gives structured output, and refuses commands without it", async () => {
  const d = await TestDaemon.start();
  try {
    const v = await d.run(["appctl", "--format", "json", "version"]);
    assert.equal(v.code, 0);
    assert.deepEqual(JSON.parse(v.stdout), { program: "udpif", version: "0.1.0" });
    const cov = await d.run(["coverage/show", "--format", "json"]);
    assert.equal(cov.code, 0);
    const entries = JSON.parse(cov.stdout) as Array<{ name: string; total: number }>;
    assert.ok(entries.some((e) => e.name === "unixctl_received" && e.total >= 1));
    assert.deepEqual(await d.run(["time/stop", "--format", "json"]), {
      code: 2,
      stdout: "",
      stderr: '"time/stop" command does not support output format "json"\n',
    });
    assert.deepEqual(await d.run(["appctl", "--format", "xml", "version"]), {
      code: 2,
      stdout: "",
      stderr: 'udpif: --format: unknown format "xml" (text or json)\n',
    });
  } finally {
    await d.stop();
  }
});

Deno.test("set-config and set-port change settings, and bad ones change nothing", async () => {
  const d = await TestDaemon.start(["--other-config", "max-idle=1000"]);
  try {
    assert.deepEqual(await d.run(["set-config", "flow-limit=3"]), {
      code: 0,
      stdout: "",
      stderr: "",
    });
    assert.deepEqual(await d.run(["set-config", "flow-limit=7", "flow-limt=1"]), {
      code: 2,
      stdout: "",
      stderr:
        'unknown other_config key "flow-limt" (known: flow-limit, max-idle, max-revalidator, min-revalidate-pps, n-handler-threads, n-revalidator-threads, emc-insert-inv-prob, smc-enable, ovs-compat, vlan-limit, pmd-cpu-mask, n-pmd-threads, pmd-rxq-assign, pmd-rxq-isolate)\n',
    });
    assert.deepEqual(await d.run(["config/show"]), {
      code: 0,
      stdout: "flow-limit=3\nmax-idle=1000\n",
      stderr: "",
    });
    assert.deepEqual(await d.run(["set-port", "p2", "tag=10", "vlan_mode=access"]), {
      code: 0,
      stdout: "",
      stderr: "",
    });
    assert.deepEqual(await d.run(["port/set", "p2"]), {
      code: 0,
      stdout: "p2: tag=10 trunks=[] vlan_mode=access\n",
      stderr: "",
    });
    assert.deepEqual(await d.run(["set-port", "p9", "tag=1"]), {
      code: 2,
      stdout: "",
      stderr: "br0: no port named p9\n",
    });
    assert.deepEqual(await d.run(["set-port", "p1", "tag=5000"]), {
      code: 2,
      stdout: "",
      stderr: 'tag: "5000" is not a VLAN (0 to 4095)\n',
    });
    assert.deepEqual(await d.run(["ofctl", "mod-port", "br0", "p1", "no-flood"]), {
      code: 0,
      stdout: "",
      stderr: "",
    });
    assert.deepEqual(await d.run(["ofctl", "mod-port", "br0", "p1", "sideways"]), {
      code: 2,
      stdout: "",
      stderr: "unknown mod-port command 'sideways' (flood, no-flood, up or down)\n",
    });
  } finally {
    await d.stop();
  }
});

Deno.test("exit stops the daemon and removes its socket and pidfile", async () => {
  const d = await TestDaemon.start();
  const running: string[] = [];
  for await (const e of Deno.readDir(d.dir)) running.push(e.name);
  // br0.mgmt: the bridge's OpenFlow management socket, as OVS has in its run directory.
  assert.deepEqual(running.sort(), ["br0.mgmt", "udpif.ctl", "udpif.pid"]);
  const { code, log, leftovers } = await d.stop();
  assert.equal(code, 0);
  assert.match(log, /\|vswitchd\|INFO\|stopping: exit requested over the control socket\n/);
  assert.deepEqual(leftovers, []);
});

for (const signal of ["SIGTERM", "SIGINT"] as const) {
  Deno.test(`${signal} stops the daemon cleanly: socket and pidfile removed`, async () => {
    const d = await TestDaemon.start();
    const { code, log, leftovers } = await d.stop(signal);
    assert.equal(code, 0);
    assert.match(log, new RegExp(`\\|vswitchd\\|INFO\\|stopping: ${signal} received\n`));
    assert.deepEqual(leftovers, []);
  });
}

Deno.test("start --detach returns once the daemon answers, and a second daemon is refused", async () => {
  const dir = await Deno.makeTempDir({ prefix: "udpif-detach-" });
  const env = { UDPIF_RUNDIR: `${dir}/run`, UDPIF_CTL: "" };
  try {
    // The dummy datapath: a netdev one would make a br0 tap in this namespace.
    const r = await udpif(
      ["start", "--detach", "--datapath-type", "dummy", "--pidfile", `${dir}/pid`, "--port", "p1"],
      { env },
    );
    assert.deepEqual(r, { code: 0, stdout: "", stderr: "" });
    const info = await Deno.stat(`${dir}/run`);
    assert.equal(info.mode! & 0o777, 0o700);
    assert.equal((await Deno.stat(`${dir}/run/udpif.ctl`)).mode! & 0o777, 0o600);
    assert.equal((await udpif(["appctl", "version"], { env })).stdout, "udpif (udpif) 0.1.0\n");
    const again = await udpif(
      ["start", "--detach", "--datapath-type", "dummy", "--pidfile", `${dir}/pid`],
      { env },
    );
    assert.equal(again.code, 1);
    assert.match(
      again.stderr,
      /pid: cannot write pidfile \(a daemon is already running as pid \d+\)/,
    );
    assert.deepEqual(await udpif(["exit"], { env }), { code: 0, stdout: "", stderr: "" });
  } finally {
    // A failed assertion must not leave the background daemon running.
    await udpif(["exit"], { env });
    await Deno.remove(dir, { recursive: true });
  }
});

import assert from "node:assert/strict";
import type { ConformanceCase } from "./case.ts";
import { defaultOptions } from "./case.ts";
import { processesWithMarker } from "./proc.ts";
import { replayCase } from "./replay.ts";

/**
 * The replay driven against _fake_udpif.ts, which records what it is
 * asked: the steps must come in ovs-oracle.sh's order, with its section
 * headers, and nothing may be left running or lying around afterwards.
 */
async function fakeUdpif(dir: string): Promise<string> {
  const path = `${dir}/udpif`;
  const fake = new URL("./_fake_udpif.ts", import.meta.url).pathname;
  await Deno.writeTextFile(
    path,
    `#!/usr/bin/env bash\nexec '${Deno.execPath()}' run -A '${fake}' "$@"\n`,
    { mode: 0o755 },
  );
  return path;
}

Deno.test("a replay runs the oracle's steps in order and prints its sections", async () => {
  const work = await Deno.makeTempDir({ prefix: "replay-test." });
  try {
    const udpif = await fakeUdpif(work);
    await Deno.writeTextFile(`${work}/flows.txt`, "actions=drop\n");
    const options = defaultOptions();
    options.vsctl = [["set", "Open_vSwitch", ".", "other_config:flow-limit=3"]];
    options.timeStop = true;
    options.pre = ["ovs-appctl upcall/show >/dev/null; echo pre-ran"];
    options.post = ["ovs-vsctl set port p1 tag=10"];
    const c: ConformanceCase = {
      name: "fake",
      dir: work,
      flowsFile: `${work}/flows.txt`,
      packets: [
        { kind: "packets", port: "p1", args: ["in_port(1),eth()", "--len", "64"] },
        { kind: "shell", command: "echo from-shell; exit 3" },
        { kind: "packets", port: "p2", args: ["in_port(2)"] },
      ],
      options,
      expected: "",
      racy: null,
    };
    // Keep the run directory (and the fake's call log) to look at.
    const keep = `${work}/kept`;
    const { raw } = await replayCase(c, {
      udpif,
      settleSeconds: 0,
      commandTimeoutMs: 30_000,
      caseTimeoutMs: 60_000,
      keepDir: keep,
    });
    const calls = (await Deno.readTextFile(`${keep}/fake/calls.log`)).trim().split("\n")
      .map((l) =>
        l.replace(/-t \S+/, "-t SOCK").replace(
          /\S*\/(udpif\.(ctl|pid)|ovs-vswitchd\.log|flows\.txt)/g,
          "$1",
        )
      );
    assert.deepEqual(calls, [
      "start --detach --unixctl udpif.ctl --pidfile udpif.pid --log-file ovs-vswitchd.log " +
      "--datapath-type dummy --other-config ovs-compat=3.1 --port p1:1 --port p2:2 --port p3:3 " +
      "--other-config flow-limit=3",
      "call time/stop",
      "ofctl -t SOCK add-flows br0 flows.txt",
      "call revalidator/wait",
      "call revalidator/wait",
      "call coverage/show",
      // The shell's ovs-appctl and ovs-vsctl go through the runner's relay.
      "call upcall/show",
      "call netdev-dummy/receive p1 in_port(1),eth() --len 64",
      "call netdev-dummy/receive p2 in_port(2)",
      "call revalidator/wait",
      "call revalidator/wait",
      "call port/set p1 tag=10",
      "call revalidator/wait",
      "call revalidator/wait",
      "call dpctl/dump-flows",
      "call dpctl/dump-flows -m",
      "call upcall/show",
      "ofctl -t SOCK dump-flows br0",
      "call coverage/show",
      "call exit",
    ]);
    assert.equal(
      raw,
      [
        "## pre: ovs-appctl upcall/show >/dev/null; echo pre-ran",
        "pre-ran",
        "## ! echo from-shell; exit 3",
        "from-shell",
        "(exit status 3)",
        "## post: ovs-vsctl set port p1 tag=10",
        "## ovs-appctl dpctl/dump-flows",
        "flow-dump",
        "## ovs-appctl dpctl/dump-flows -m",
        "flow-dump (verbose)",
        "## ovs-appctl upcall/show",
        "dummy@ovs-dummy:",
        "  flows         : (current 0)",
        "## ovs-ofctl dump-flows br0",
        "NXST_FLOW reply:",
        "## ovs-appctl coverage/show (upcall/revalidator/dpif/datapath counters; totals since start-up)",
        "cov-total: xlate_actions   0.0/sec 0.000/sec 0.0000/sec   total: 2",
        "## coverage delta during the scenario (after the flows were loaded -> end)",
        "xlate_actions +2",
        "",
      ].join("\n"),
    );
    const rundir = await Deno.readTextFile(`${keep}/fake/rundir.txt`);
    assert.deepEqual(await processesWithMarker(`UDPIF_RUNDIR=${rundir}`), [], "daemon stopped");
    await assert.rejects(Deno.stat(rundir), Deno.errors.NotFound, "run directory removed");
  } finally {
    await Deno.remove(work, { recursive: true });
  }
});

Deno.test("a switch that does not start fails the case with udpif's own words", async () => {
  const work = await Deno.makeTempDir({ prefix: "replay-test." });
  try {
    const udpif = `${work}/udpif`;
    await Deno.writeTextFile(
      udpif,
      "#!/usr/bin/env bash\necho 'udpif: no such port p9' >&2\nexit 2\n",
      {
        mode: 0o755,
      },
    );
    const c: ConformanceCase = {
      name: "broken",
      dir: work,
      flowsFile: null,
      packets: [],
      options: defaultOptions(),
      expected: "",
      racy: null,
    };
    await assert.rejects(
      replayCase(c, { udpif, settleSeconds: 0, commandTimeoutMs: 5000, caseTimeoutMs: 10_000 }),
      /udpif start failed \(exit status 2\): udpif: no such port p9/,
    );
  } finally {
    await Deno.remove(work, { recursive: true });
  }
});

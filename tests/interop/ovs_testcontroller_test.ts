/**
 * udpif managed by a real OpenFlow controller: Debian's ovs-testcontroller
 * (a MAC-learning switch, lib/learning-switch.c) listening on loopback in
 * the daemon's network namespace, udpif started with `--controller
 * tcp:127.0.0.1:PORT` before the controller listens (so rconn's backoff
 * and reconnect bring it up). Packets injected on the dummy ports go up
 * as packet-ins; the controller's flow-mods install rules that
 * dump-flows shows; later packets are forwarded by datapath megaflows
 * that follow those rules. Then set-controller/del-controller at run
 * time, bad targets refused without changing anything, and fail-mode
 * standalone failing open once the controller is gone. With network
 * namespaces and veths, a ping between two namespaces through udpif in
 * fail-mode secure, every forwarding decision the controller's.
 *
 * Installs openvswitch-testcontroller (scripts/install-test-deps.sh) when
 * missing and root; skipped, with the reason, when it stays unavailable.
 */
import assert from "node:assert/strict";
import { ok, TestDaemon } from "../cli/_run.ts";
import { pollUntilAsync } from "../poll.ts";
import { ensureTestDeps, vethSkipReason, VethTopology } from "../support/veth_topology.ts";

async function skipReason(): Promise<string | undefined> {
  if (Deno.build.os !== "linux") return "needs Linux network namespaces";
  if (Deno.uid() !== 0) return "needs root to run ovs-testcontroller in the daemon's namespace";
  await ensureTestDeps().catch(() => {});
  const found = await new Deno.Command("sh", {
    args: ["-c", "command -v ovs-testcontroller"],
    stdout: "null",
  }).output();
  return found.success
    ? undefined
    : "ovs-testcontroller (openvswitch-testcontroller) is not installed";
}
const SKIP = await skipReason();
if (SKIP) console.log(`ovs_testcontroller_test skipped: ${SKIP}`);

/** The daemon's namespace is its own: nothing else listens on this port there. */
const CONTROLLER_PORT = 16653;
const TARGET = `tcp:127.0.0.1:${CONTROLLER_PORT}`;

const A_TO_B =
  "in_port(1),eth(src=50:54:00:00:00:05,dst=50:54:00:00:00:07),eth_type(0x0800),ipv4(src=10.0.0.1,dst=10.0.0.2,proto=6,tos=0,ttl=64,frag=no),tcp(src=1000,dst=80)";
const B_TO_A =
  "in_port(2),eth(src=50:54:00:00:00:07,dst=50:54:00:00:00:05),eth_type(0x0800),ipv4(src=10.0.0.2,dst=10.0.0.1,proto=6,tos=0,ttl=64,frag=no),tcp(src=80,dst=1000)";

/** ovs-testcontroller in the daemon's namespace, listening on loopback. */
function startController(d: TestDaemon, version = "OpenFlow13"): Deno.ChildProcess {
  const [cmd, ...args] = d.inNetns([
    "ovs-testcontroller",
    "-O",
    version,
    `--unixctl=${d.dir}/testcontroller.ctl`,
    "-vconsole:off",
    `ptcp:${CONTROLLER_PORT}:127.0.0.1`,
  ]);
  return new Deno.Command(cmd, { args, stdin: "null", stdout: "null", stderr: "null" }).spawn();
}

async function stopController(c: Deno.ChildProcess): Promise<void> {
  try {
    c.kill("SIGTERM");
  } catch { /* already gone */ }
  await c.status;
}

function waitFor(d: TestDaemon, args: string[], re: RegExp, what: string): Promise<void> {
  return pollUntilAsync(async () => re.test(await ok(d, args)), what);
}

/**
 * The learning switch over `version`: in OpenFlow 1.3 it installs its own
 * table-miss rule; in 1.0 it counts on the switch sending misses (OVS's
 * miss rule for pre-1.3 controllers).
 */
async function learningSwitch(version: "OpenFlow10" | "OpenFlow13"): Promise<void> {
  {
    const d = await TestDaemon.start([
      "--datapath-type",
      "dummy",
      "--fail-mode",
      "secure",
      "--controller",
      TARGET,
    ]);
    let controller: Deno.ChildProcess | undefined;
    try {
      // The datapath's clock stands still: no megaflow idles out however slow
      // the machine (rconn's backoff and probes run on real time).
      await ok(d, ["time/stop"]);
      assert.equal(await ok(d, ["get-controller", "br0"]), `${TARGET}\n`);
      // Nothing listens yet: rconn fails, backs off, and connects once the controller is up.
      await waitFor(d, ["appctl", "bridge/controller-status", "br0"], /state=BACKOFF/, "a backoff");
      controller = startController(d, version);
      await waitFor(
        d,
        ["appctl", "bridge/controller-status", "br0"],
        /is_connected=true/,
        "the controller connection",
      );
      if (version === "OpenFlow13") {
        // OpenFlow 1.3: the learning switch installs its own table-miss rule.
        await waitFor(
          d,
          ["ofctl", "dump-flows", "br0"],
          /priority=0 actions=CONTROLLER:128/,
          "the controller's table-miss rule",
        );
      } else {
        // OpenFlow 1.0: it installs nothing and counts on misses coming up.
        await waitFor(d, ["appctl", "bridge/controller-status", "br0"], /ACTIVE/, "hello");
      }

      // A's first packet floods (a packet-out); B's answer teaches the
      // controller both addresses, so it installs B->A; A's next, A->B.
      await ok(d, ["netdev-dummy/receive", "p1", A_TO_B]);
      await ok(d, ["netdev-dummy/receive", "p2", B_TO_A]);
      await waitFor(d, ["ofctl", "dump-flows", "br0"], /in_port=2,.*actions=output:1/, "B->A rule");
      await ok(d, ["netdev-dummy/receive", "p1", A_TO_B]);
      await waitFor(d, ["ofctl", "dump-flows", "br0"], /in_port=1,.*actions=output:2/, "A->B rule");
      const rules = await ok(d, ["ofctl", "dump-flows", "br0"]);
      if (version === "OpenFlow13") {
        assert.match(
          rules,
          / idle_timeout=60, .*priority=1,tcp,in_port=1,vlan_tci=0x0000\/0x1fff,dl_src=50:54:00:00:00:05,dl_dst=50:54:00:00:00:07,nw_src=10.0.0.1,nw_dst=10.0.0.2,nw_tos=0,tp_src=1000,tp_dst=80 actions=output:2\n/,
        );
      }
      // Packet-ins counted on the switch side: one per packet so far.
      assert.match(await ok(d, ["coverage/show"]), /connmgr_packet_in .*total: 3\n/);

      // Now the datapath forwards A->B by itself, following the controller's rule.
      await ok(d, ["netdev-dummy/receive", "p1", A_TO_B]);
      await ok(d, ["revalidator/wait"]);
      const megaflows = await ok(d, ["dpctl/dump-flows"]);
      assert.match(
        megaflows,
        /in_port\(1\),.*eth\(src=50:54:00:00:00:05,dst=50:54:00:00:00:07\),.*tcp\(src=1000,dst=80\), packets:0, bytes:0, used:never, actions:2\n/,
      );
      assert.doesNotMatch(megaflows, /userspace/, "no packet goes up once the rule is in");
      await ok(d, ["netdev-dummy/receive", "p1", A_TO_B]);
      await waitFor(
        d,
        ["dpctl/dump-flows"],
        /tcp\(src=1000,dst=80\), packets:1, .*actions:2/,
        "a datapath hit",
      );
      assert.match(await ok(d, ["coverage/show"]), /connmgr_packet_in .*total: 3\n/);

      // A bad target changes nothing and names itself.
      const bad = await d.run(["set-controller", "br0", TARGET, "tcp:127.0.0.1:99999"]);
      assert.equal(bad.code, 2, "an error reply");
      assert.equal(
        bad.stderr.trim().split("\n").length,
        1,
        `one line: ${bad.stderr}`,
      );
      assert.match(bad.stderr, /tcp:127\.0\.0\.1:99999: bad port number "99999"/);
      assert.equal(await ok(d, ["get-controller", "br0"]), `${TARGET}\n`);
      assert.match(await ok(d, ["appctl", "bridge/controller-status", "br0"]), /is_connected=true/);
      const wrongBridge = await d.run(["get-controller", "br9"]);
      assert.notEqual(wrongBridge.code, 0);
      assert.match(wrongBridge.stderr, /no bridge named br9/);

      // del-controller: the connection goes; secure mode keeps the rules.
      await ok(d, ["del-controller", "br0"]);
      assert.equal(await ok(d, ["get-controller", "br0"]), "");
      assert.equal(await ok(d, ["appctl", "bridge/controller-status", "br0"]), "");
      assert.match(await ok(d, ["ofctl", "dump-flows", "br0"]), /actions=output:2/);
      // set-controller brings it back at run time.
      await ok(d, ["set-controller", "br0", TARGET]);
      await waitFor(
        d,
        ["appctl", "bridge/controller-status", "br0"],
        /is_connected=true/,
        "the controller again",
      );
    } finally {
      if (controller) await stopController(controller);
      await d.stop();
    }
  }
}

for (const version of ["OpenFlow13", "OpenFlow10"] as const) {
  Deno.test({
    name:
      `ovs-testcontroller (${version}) manages udpif: packet-ins, its flow-mods, megaflows that follow them`,
    ignore: SKIP !== undefined,
    fn: () => learningSwitch(version),
  });
}

Deno.test({
  name:
    "fail-mode standalone: without its controller the bridge fails open to a hidden NORMAL rule",
  ignore: SKIP !== undefined,
  async fn() {
    const d = await TestDaemon.start(["--datapath-type", "dummy", "--controller", TARGET]);
    try {
      await ok(d, ["ofctl", "add-flow", "br0", "priority=5,actions=drop"]);
      assert.equal(await ok(d, ["get-fail-mode", "br0"]), "");
      // Nobody listens: after three inactivity-probe intervals (3 x 5 s),
      // the bridge fails open; the deadline leaves room for them.
      await pollUntilAsync(
        () => Promise.resolve(/failing open/.test(d.logSoFar())),
        "fail-open",
        60_000,
      );
      // The controller's drop rule is flushed; the NORMAL rule is hidden from dump-flows.
      assert.equal(await ok(d, ["ofctl", "dump-flows", "br0"]), "NXST_FLOW reply:\n");
      await ok(d, ["netdev-dummy/receive", "p1", A_TO_B]);
      await ok(d, ["revalidator/wait"]);
      // NORMAL with nothing learned yet floods: out of p2 (and the local port).
      assert.match(await ok(d, ["dpctl/dump-flows"]), /in_port\(1\),.* actions:[0-9,]*\b2\b/);
      // A bad fail mode is refused and named.
      const bad = await d.run(["set-fail-mode", "br0", "open"]);
      assert.notEqual(bad.code, 0);
      assert.match(bad.stderr, /"open": fail mode must be standalone or secure/);
    } finally {
      await d.stop();
    }
  },
});

const VETH_SKIP = SKIP ?? vethSkipReason();

Deno.test({
  name: "ping between two namespaces through udpif on veths, managed by ovs-testcontroller",
  ignore: VETH_SKIP !== undefined,
  async fn() {
    await ensureTestDeps();
    const topo = await VethTopology.create({ offload: false, switchNamespace: true });
    let d: TestDaemon | undefined;
    let controller: Deno.ChildProcess | undefined;
    try {
      d = await TestDaemon.start(
        ["--datapath-type", "netdev", "--fail-mode", "secure", "--controller", TARGET],
        { netns: topo.switchNetns, ports: topo.ports.map((p) => `${p},type=system`) },
      );
      await ok(d, ["time/stop"]);
      controller = startController(d);
      await waitFor(
        d,
        ["appctl", "bridge/controller-status", "br0"],
        /is_connected=true/,
        "the controller connection",
      );
      // Secure mode: nothing passes but what the controller decides.
      await topo.pingUntilReply(0);
      await topo.pingUntilReply(1);
      // The learning switch installed per-flow rules between the two hosts' ports...
      const rules = await ok(d, ["ofctl", "dump-flows", "br0"]);
      assert.match(rules, /in_port=1,.*actions=output:2/);
      assert.match(rules, /in_port=2,.*actions=output:1/);
      // ...and the datapath forwards ICMP by megaflows that follow them. The
      // first echoes went up to the controller; their megaflows may have
      // gone when its rules arrived, so ping again until one is installed.
      await pollUntilAsync(async () => {
        await topo.pingUntilReply(0);
        await ok(d!, ["revalidator/wait"]);
        const megaflows = await ok(d!, ["dpctl/dump-flows"]);
        return /eth_type\(0x0800\),ipv4\(.*proto=1,.*actions:\d+\n/.test(megaflows);
      }, "ICMP megaflows that follow the controller's rules");
    } finally {
      if (controller) await stopController(controller);
      await d?.stop();
      await topo.destroy();
    }
  },
});

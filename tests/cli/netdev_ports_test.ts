/**
 * The netdev datapath's Linux ports through the real daemon, in
 * namespaces of the test's own: the daemon runs in namespace H, whose
 * veth leads to namespace P. The bridge's local port is a tap in H, and H
 * talks through it and NORMAL to P; dpctl/show -s and port/show report
 * the interfaces as OVS does; deleting the veth leaves the daemon
 * answering and the port reported, and re-creating it brings traffic
 * back. Needs root.
 */
import assert from "node:assert/strict";
import { pollUntilAsync } from "../poll.ts";
import { udpExchange } from "../support/traffic.ts";
import { mustRun, vethSkipReason, VethTopology } from "../support/veth_topology.ts";
import { TestDaemon } from "./_run.ts";

const skip = vethSkipReason();
if (skip) console.log(`netdev_ports_test: skipped: ${skip}`);

/**
 * Namespace H, the topology's switch namespace, where the daemon runs and
 * its bridge's tap appears, and namespace P (host 0, at 10.`subnet`.0.1)
 * behind a veth whose H end becomes a system port.
 */
function wiring(subnet: number): Promise<VethTopology> {
  return VethTopology.create({ hosts: 1, switchNamespace: true, subnet });
}

/** A UDP exchange from H through the bridge's tap to an echo in P; returns the reply. */
function udp(w: VethTopology, port: number): Promise<string> {
  return udpExchange(w, w.switchNetns!, 0, w.hosts[0].ip, port);
}

type Stop = () => ReturnType<TestDaemon["stop"]>;

/**
 * Runs `body` with a daemon in H: bridge `w.bridge`, the veth as a system
 * port, NORMAL. The daemon is stopped (unless `body` did, through `stop`)
 * and the namespaces removed whatever happens.
 */
async function withDaemon(
  subnet: number,
  body: (w: VethTopology, d: TestDaemon, stop: Stop) => Promise<void>,
): Promise<void> {
  const w = await wiring(subnet);
  let d: TestDaemon | undefined;
  try {
    d = await TestDaemon.start(["--bridge", w.bridge, "--port", `${w.ports[0]},type=system`], {
      netns: w.switchNetns!,
    });
    assert.equal((await d.run(["ofctl", "add-flow", w.bridge, "actions=NORMAL"])).code, 0);
    const started = d;
    await body(w, d, () => {
      d = undefined;
      return started.stop();
    });
  } finally {
    await d?.stop();
    await w.destroy();
  }
}

/** Waits until `port/show` reports no error for `name` (the port opened again). */
function waitReopened(d: TestDaemon, name: string, what: string): Promise<void> {
  return pollUntilAsync(
    async () =>
      (await d.run(["appctl", "port/show", name])).stdout.includes("\nerror               : []\n"),
    what,
  );
}

/** Asserts that the log tells of interface `name` gone, then added again as port `ofport`. */
function assertReopenedInLog(log: string, bridge: string, name: string, ofport: number): void {
  assert.match(
    log,
    new RegExp(`\\|bridge\\|WARN\\|could not open network device ${name} \\(No such device\\)\n`),
  );
  assert.match(
    log,
    new RegExp(`\\|bridge\\|INFO\\|bridge ${bridge}: added interface ${name} on port ${ofport}\n`),
  );
}

/** `ip -j link show` of one interface in namespace `ns`. */
async function link(
  ns: string,
  name: string,
): Promise<{ ifindex: number; address: string; mtu: number }> {
  return JSON.parse(await mustRun(["ip", "-j", "-n", ns, "link", "show", name]))[0];
}

Deno.test({
  name:
    "the host talks through the bridge's tap to a namespace behind a system port; ports report their interfaces",
  ignore: skip !== undefined,
  async fn() {
    await withDaemon(81, async (w, d, stop) => {
      const tap = await link(w.switchNetns!, w.bridge);
      await w.switchAddress(w.bridge);
      assert.match(await udp(w, 7001), /^hello \d+$/);

      const dpif = (await d.run(["appctl", "dpif/show"])).stdout;
      assert.match(dpif, new RegExp(`\n    ${w.bridge} 65534/1: \\(tap\\)\n`));
      assert.match(dpif, new RegExp(`\n    ${w.ports[0]} 3/4: \\(system\\)\n`));
      const show = (await d.run(["appctl", "dpctl/show", "-s"])).stdout;
      const counters = (name: string, type: string) => {
        const m = new RegExp(
          `  port \\d+: ${name}${type}\n` +
            `    RX packets:(\\d+) errors:0 dropped:\\d+ overruns:0 frame:0\n` +
            `    TX packets:(\\d+) errors:0 dropped:\\d+ aborted:0 carrier:0\n` +
            `    collisions:0\n` +
            `    RX bytes:(\\d+)( \\(\\d+\\.\\d KiB\\))?  TX bytes:(\\d+)( \\(\\d+\\.\\d KiB\\))?\n`,
        ).exec(show);
        assert.ok(m, `no counters for ${name} in:\n${show}`);
        return m.slice(1).filter((x) => x && !x.startsWith(" ")).map(Number);
      };
      // The exchange crossed both ports both ways (ARP included).
      for (const c of [counters(w.bridge, " \\(tap\\)"), counters(w.ports[0], "")]) {
        assert.ok(c.every((n) => n > 0), `${c}`);
      }
      assert.ok(show.includes("  port 0: ovs-netdev (tap)\n    RX packets:0 errors:0 dropped:0 "));

      const port = (await d.run(["appctl", "port/show", w.ports[0]])).stdout;
      const veth = await link(w.switchNetns!, w.ports[0]);
      assert.match(port, new RegExp(`^name {16}: ${w.ports[0]}\nofport {14}: 3\ntype {16}: ""\n`));
      assert.match(port, /\nadmin_state {9}: up\nlink_state {10}: up\nmtu {17}: 1500\n/);
      assert.match(
        port,
        new RegExp(`\nmac_in_use {10}: "${veth.address}"\nifindex {13}: ${veth.ifindex}\n`),
      );
      assert.match(port, /\nerror {15}: \[\]\nstatistics {10}: \{collisions=0, rx_bytes=[1-9]/);
      const local = (await d.run(["appctl", "port/show", w.bridge])).stdout;
      assert.match(local, new RegExp(`\ntype {16}: internal\n`));
      assert.match(
        local,
        new RegExp(`\nmac_in_use {10}: "${tap.address}"\nifindex {13}: ${tap.ifindex}\n`),
      );

      const { code, log } = await stop();
      assert.equal(code, 0);
      assert.doesNotMatch(log, /WARN|ERR/);
      // The tap goes with the daemon.
      await assert.rejects(link(w.switchNetns!, w.bridge), /does not exist/);
    });
  },
});

Deno.test({
  name:
    "a system port whose interface is deleted is reported, the daemon keeps running, and it works again once the interface is back",
  ignore: skip !== undefined,
  async fn() {
    await withDaemon(82, async (w, d, stop) => {
      await w.switchAddress(w.bridge);
      assert.match(await udp(w, 7002), /^hello/);
      const before = (await link(w.switchNetns!, w.ports[0])).ifindex;

      await mustRun(["ip", "-n", w.switchNetns!, "link", "del", w.ports[0]]);
      const error = `"could not open network device ${w.ports[0]} (No such device)"`;
      await pollUntilAsync(
        async () => (await d.run(["appctl", "port/show", w.ports[0]])).stdout.includes(error),
        "the port reported gone",
      );
      const gone = (await d.run(["appctl", "port/show", w.ports[0]])).stdout;
      assert.match(
        gone,
        /\nadmin_state {9}: down\nlink_state {10}: down\nmtu {17}: \[\]\nmac_in_use {10}: \[\]\nifindex {13}: 0\n/,
      );
      const show = (await d.run(["appctl", "dpctl/show", "-s"])).stdout;
      assert.match(
        show,
        new RegExp(`  port 4: ${w.ports[0]}\n, could not retrieve stats \\(No such device\\)`),
      );
      assert.match(
        (await d.run(["appctl", "dpif/show"])).stdout,
        new RegExp(`    ${w.ports[0]} 3/4: \\(system\\)\n`),
      );
      assert.equal((await d.run(["appctl", "version"])).code, 0);

      await w.addLink(0);
      await waitReopened(d, w.ports[0], "the port re-opened");
      const back = (await d.run(["appctl", "port/show", w.ports[0]])).stdout;
      const after = (await link(w.switchNetns!, w.ports[0])).ifindex;
      assert.notEqual(after, before);
      assert.match(back, new RegExp(`\nifindex {13}: ${after}\n`));
      // The host still has the old peer's MAC for the address: forget it.
      await mustRun(["ip", "-n", w.switchNetns!, "neigh", "flush", "dev", w.bridge]);
      assert.match(await udp(w, 7003), /^hello/);

      const { code, log } = await stop();
      assert.equal(code, 0);
      assertReopenedInLog(log, w.bridge, w.ports[0], 3);
    });
  },
});

Deno.test({
  name: "a deleted tap local port is made again, and the host talks through it again",
  ignore: skip !== undefined,
  async fn() {
    await withDaemon(84, async (w, d, stop) => {
      const before = (await link(w.switchNetns!, w.bridge)).ifindex;
      await mustRun(["ip", "-n", w.switchNetns!, "link", "del", w.bridge]);
      await pollUntilAsync(
        async () => {
          const r = await mustRun(["ip", "-j", "-n", w.switchNetns!, "link", "show"]);
          const tap = JSON.parse(r).find((l: { ifname: string }) => l.ifname === w.bridge);
          return tap !== undefined && tap.ifindex !== before;
        },
        "the tap made again",
      );
      await waitReopened(d, w.bridge, "the local port re-opened");
      await w.switchAddress(w.bridge);
      assert.match(await udp(w, 7004), /^hello/);
      const { code, log } = await stop();
      assert.equal(code, 0);
      assertReopenedInLog(log, w.bridge, w.bridge, 65534);
    });
  },
});

Deno.test({
  name: "a bridge whose tap name is taken stops the daemon at start with one line naming it",
  ignore: skip !== undefined,
  async fn() {
    const w = await wiring(85);
    try {
      // The veth holds the name the bridge's tap would take.
      await assert.rejects(
        TestDaemon.start(["--bridge", w.ports[0]], { netns: w.switchNetns! }),
        new RegExp(
          `cannot create tap device ${w.ports[0]}: a network device of that name exists already\n`,
        ),
      );
    } finally {
      await w.destroy();
    }
  },
});

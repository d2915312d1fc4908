/**
 * Ports added and deleted while the daemon runs (`port/add`, `port/del`,
 * as `ovs-vsctl add-port`/`del-port`): a new port takes part in NORMAL's
 * flooding at once (its frames leave through its tx pcap), a deleted one
 * leaves `dpif/show` and the flooding flows; bad requests are refused
 * with one line and change nothing; a Linux interface added as a system
 * port carries traffic, and again after it was deleted and added back.
 * Conformance case port-add-del checks the dummy steps against OVS 3.1.
 */
import assert from "node:assert/strict";
import { readPcapPrefix } from "../../src/packet/mod.ts";
import { pollUntil } from "../poll.ts";
import { udpExchange } from "../support/traffic.ts";
import { vethSkipReason, VethTopology } from "../support/veth_topology.ts";
import { ok, TestDaemon } from "./_run.ts";

const vethSkip = vethSkipReason();
if (vethSkip) console.log(`port_runtime_test: system ports skipped: ${vethSkip}`);

const BROADCAST = "in_port(1),eth(src=50:54:00:00:00:01,dst=ff:ff:ff:ff:ff:ff),eth_type(0x0800)," +
  "ipv4(src=10.0.0.1,dst=10.0.0.255,proto=17,tos=0,ttl=64,frag=no),udp(src=1000,dst=53)";

function sentCount(path: string): number {
  try {
    return readPcapPrefix(Deno.readFileSync(path)).packets.length;
  } catch (e) {
    if (e instanceof Deno.errors.NotFound) return 0;
    throw e;
  }
}

async function refused(d: TestDaemon, args: string[], stderr: string): Promise<void> {
  assert.deepEqual(await d.run(args), { code: 2, stdout: "", stderr: stderr + "\n" });
}

Deno.test("port/add and port/del change the bridge's ports at run time; bad ones change nothing", async () => {
  const dir = await Deno.makeTempDir({ prefix: "udpif-port-runtime-" });
  const d = await TestDaemon.start(["--datapath-type", "dummy"]);
  try {
    await ok(d, ["ofctl", "add-flow", "br0", "actions=NORMAL"]);
    assert.equal(await ok(d, ["port/add", "br0", `p3,tx_pcap=${dir}/p3.pcap`]), "");
    assert.match(await ok(d, ["dpif/show"]), /\n {4}p3 3\/3: \(dummy\)\n/);
    await ok(d, ["netdev-dummy/receive", "p1", BROADCAST]);
    await pollUntil(() => sentCount(`${dir}/p3.pcap`) === 1, "the broadcast out of p3");
    assert.match(await ok(d, ["dpctl/dump-flows"]), /actions:2,3,100\n/);

    await refused(
      d,
      ["port/add", "br0", "p3"],
      "port/add p3: a port or bridge is already named p3",
    );
    await refused(d, ["port/add", "br0", "p4:1"], "port/add p4:1: OpenFlow port 1 is taken");
    await refused(
      d,
      ["port/add", "br0", "p4,type=patch,peer=p5"],
      "port/add p4,type=patch,peer=p5: bonds and patch ports are made at start",
    );
    await refused(d, ["port/add", "br9", "p4"], "br9 is not a bridge or a socket");
    await refused(
      d,
      ["port/add", "br0", "p4,colour=red"],
      'port/add p4,colour=red: unknown option "colour" (bridge, type, rx_pcap, tx_pcap, pstream, stream, offloads, n_rxq, peer)',
    );

    assert.equal(await ok(d, ["port/del", "p3"]), "");
    assert.doesNotMatch(await ok(d, ["dpif/show"]), /p3/);
    await ok(d, ["revalidator/wait"]);
    await ok(d, ["revalidator/wait"]);
    assert.match(await ok(d, ["dpctl/dump-flows"]), /actions:2,100\n/);
    await refused(d, ["port/del", "p3"], "no port named p3");
    await refused(d, ["port/del", "br0"], "br0: the bridge's own port goes with the bridge");
    await refused(d, ["port/del", "br0", "p9"], "bridge br0 does not have a port p9");
    // The log lines come through the daemon's stderr, which may trail its replies.
    for (const what of ["added", "deleted"]) {
      const line = new RegExp(`\\|bridge\\|INFO\\|bridge br0: ${what} interface p3 on port 3\\n`);
      await pollUntil(() => line.test(d.logSoFar()), `the log line of the ${what} port`);
    }
  } finally {
    await d.stop();
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test({
  name: "a system port added at run time carries traffic, and again after port/del and port/add",
  ignore: vethSkip !== undefined,
  async fn() {
    const w = await VethTopology.create({ hosts: 1, switchNamespace: true, subnet: 86 });
    let d: TestDaemon | undefined;
    try {
      d = await TestDaemon.start(["--bridge", w.bridge], { netns: w.switchNetns!, ports: [] });
      await ok(d, ["ofctl", "add-flow", w.bridge, "actions=NORMAL"]);
      await w.switchAddress(w.bridge);
      const veth = w.ports[0];
      const udp = (port: number) => udpExchange(w, w.switchNetns!, 0, w.hosts[0].ip, port);
      await ok(d, ["port/add", w.bridge, `${veth},type=system`]);
      assert.match(
        await ok(d, ["dpif/show"]),
        new RegExp(`\\n {4}${veth} 1/\\d+: \\(system\\)\\n`),
      );
      assert.match(await udp(7101), /^hello/);
      await ok(d, ["port/del", veth]);
      assert.doesNotMatch(await ok(d, ["dpif/show"]), new RegExp(veth));
      await ok(d, ["port/add", w.bridge, `${veth},type=system`]);
      assert.match(await udp(7102), /^hello/);
      const { code, log } = await d.stop();
      d = undefined;
      assert.equal(code, 0);
      assert.doesNotMatch(log, /WARN|ERR/);
    } finally {
      await d?.stop();
      await w.destroy();
    }
  },
});

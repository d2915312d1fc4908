/**
 * Several bridges in one daemon, joined by patch ports, driven from the
 * command line: each bridge has its own ports, rules, MAC table and
 * management socket; the datapath and its flows are shared; a packet
 * crosses the patch in one datapath flow, and revalidation credits the
 * rules of both bridges. Expected text is OVS 3.1's for the same setup
 * (tests/conformance/cases/patch-* have the recorded outputs).
 */
import assert from "node:assert/strict";
import { ok, TestDaemon } from "./_run.ts";

const P1_TO_P3 =
  "in_port(1),eth(src=50:54:00:00:00:01,dst=50:54:00:00:00:03),eth_type(0x0800),ipv4(src=10.0.0.1,dst=10.0.0.3,proto=6,tos=0,ttl=64,frag=no),tcp(src=1000,dst=80)";

const BRIDGES = [
  "--datapath-type",
  "dummy",
  "--bridge",
  "br0",
  "--bridge",
  "br1",
];
const PORTS = [
  "p1",
  "p2",
  "patch-br1:4,type=patch,peer=patch-br0",
  "p3:1,bridge=br1",
  "patch-br0:2,bridge=br1,type=patch,peer=patch-br1",
];

/** ofctl dump-flows without the reply header and the ages. */
async function rules(d: TestDaemon, br: string): Promise<string[]> {
  return (await ok(d, ["ofctl", "dump-flows", br])).split("\n").slice(1).filter((l) => l)
    .map((l) => l.replace(/ duration=[^,]*,/, "").replace(/ idle_age=[^,]*,/, "").trim());
}

Deno.test("two bridges share one datapath; a packet crosses their patch ports in one flow", async () => {
  const d = await TestDaemon.start(BRIDGES, { ports: PORTS });
  try {
    assert.equal(
      (await ok(d, ["dpif/show"])).replace(/hit:\d+ missed:\d+/, "hit:N missed:N"),
      "dummy@ovs-dummy: hit:N missed:N\n" +
        "  br0:\n" +
        "    br0 65534/100: (dummy-internal)\n" +
        "    p1 1/1: (dummy)\n" +
        "    p2 2/2: (dummy)\n" +
        "    patch-br1 4/none: (patch: peer=patch-br0)\n" +
        "  br1:\n" +
        "    br1 65534/101: (dummy-internal)\n" +
        "    p3 1/3: (dummy)\n" +
        "    patch-br0 2/none: (patch: peer=patch-br1)\n",
    );
    await ok(d, ["ofctl", "add-flow", "br0", "in_port=1,actions=output:4"]);
    await ok(d, ["ofctl", "add-flow", "br1", "in_port=2,tcp,tp_dst=80,actions=output:1"]);
    assert.deepEqual(await rules(d, "br0"), [
      "cookie=0x0, table=0, n_packets=0, n_bytes=0, in_port=1 actions=output:4",
    ]);
    const bad = await d.run(["ofctl", "dump-flows", "br9"]);
    assert.equal(bad.code, 2);
    assert.match(bad.stderr, /br9 is not a bridge or a socket/);

    const trace = await ok(d, ["ofproto/trace", "br0", "in_port=1,tcp,tp_dst=80"]);
    assert.match(trace, /bridge\("br0"\)\n-------------\n 0\. in_port=1, priority 32768\n/);
    assert.match(trace, /bridge\("br1"\)\n-------------\n 0\. tcp,in_port=2,tp_dst=80/);
    assert.match(trace, /Datapath actions: 3\n/);

    await ok(d, ["netdev-dummy/receive", "p1", P1_TO_P3]);
    await ok(d, ["revalidator/wait"]);
    await ok(d, ["revalidator/wait"]);
    const flows = (await ok(d, ["dpctl/dump-flows"])).split("\n").filter((l) =>
      l.includes("in_port")
    );
    assert.deepEqual(flows.map((l) => l.replace(/used:[^,]*/, "used:X")), [
      "recirc_id(0),in_port(1),packet_type(ns=0,id=0),eth_type(0x0800),ipv4(proto=6,frag=no),tcp(dst=80), packets:0, bytes:0, used:X, actions:3",
    ]);
    // A second packet hits the megaflow: only revalidation can credit it to both bridges' rules.
    await ok(d, ["netdev-dummy/receive", "p1", P1_TO_P3]);
    await ok(d, ["revalidator/wait"]);
    await ok(d, ["revalidator/wait"]);
    assert.deepEqual(await rules(d, "br0"), [
      "cookie=0x0, table=0, n_packets=2, n_bytes=236, in_port=1 actions=output:4",
    ]);
    assert.deepEqual(await rules(d, "br1"), [
      "cookie=0x0, table=0, n_packets=2, n_bytes=236, tcp,in_port=2,tp_dst=80 actions=output:1",
    ]);
    // Each bridge has its own OpenFlow management socket.
    for (const br of ["br0", "br1"]) assert.ok((await Deno.stat(`${d.dir}/${br}.mgmt`)).isSocket);
  } finally {
    await d.stop();
  }
});

Deno.test("NORMAL learns in both bridges' MAC tables across the patch", async () => {
  const d = await TestDaemon.start(BRIDGES, { ports: PORTS });
  try {
    await ok(d, ["ofctl", "add-flow", "br0", "actions=NORMAL"]);
    await ok(d, ["ofctl", "add-flow", "br1", "actions=NORMAL"]);
    await ok(d, ["netdev-dummy/receive", "p1", P1_TO_P3]);
    await ok(d, ["revalidator/wait"]);
    const fdb = async (br: string) =>
      (await ok(d, ["fdb/show", br])).split("\n").slice(1).filter((l) => l).map((l) =>
        l.trim().split(/\s+/).slice(0, 3).join(" ")
      );
    assert.deepEqual(await fdb("br0"), ["1 0 50:54:00:00:00:01"]);
    assert.deepEqual(await fdb("br1"), ["2 0 50:54:00:00:00:01"]);
    const flows = await ok(d, ["dpctl/dump-flows"]);
    // Flooded in br0 (p2, br0, the patch) and on in br1 (p3, br1): one datapath flow.
    const outs = /actions:([0-9,]+)\n/.exec(flows)?.[1].split(",").map(Number).sort((a, b) =>
      a - b
    );
    assert.deepEqual(outs, [2, 3, 100, 101], flows);
  } finally {
    await d.stop();
  }
});

Deno.test("mod-port on a patch port: no-flood keeps floods out of the peer bridge, down changes nothing (as OVS)", async () => {
  const d = await TestDaemon.start(BRIDGES, { ports: PORTS });
  try {
    await ok(d, ["ofctl", "add-flow", "br0", "actions=NORMAL"]);
    await ok(d, ["ofctl", "add-flow", "br1", "actions=NORMAL"]);
    const flooded = async () => {
      await ok(d, ["revalidator/wait"]);
      const flows = await ok(d, ["dpctl/dump-flows"]);
      return /actions:([0-9,]+)\n/.exec(flows)?.[1].split(",").map(Number).sort((a, b) => a - b);
    };
    // OVS's patch netdev cannot go down: the port keeps forwarding.
    await ok(d, ["ofctl", "mod-port", "br0", "patch-br1", "down"]);
    await ok(d, ["netdev-dummy/receive", "p1", P1_TO_P3]);
    assert.deepEqual(await flooded(), [2, 3, 100, 101]);
    await ok(d, ["ofctl", "mod-port", "br0", "4", "no-flood"]);
    assert.deepEqual(await flooded(), [2, 100], "revalidation drops the patch from the flood");
    await ok(d, ["ofctl", "mod-port", "br0", "patch-br1", "flood"]);
    assert.deepEqual(await flooded(), [2, 3, 100, 101]);
    const bad = await d.run(["ofctl", "mod-port", "br0", "patch-br0", "down"]);
    assert.equal(bad.code, 2);
    assert.match(bad.stderr, /br0: no port named patch-br0/);
  } finally {
    await d.stop();
  }
});

Deno.test("a packet-out crosses a patch port into the peer bridge, counted on both patch ports", async () => {
  const d = await TestDaemon.start(BRIDGES, { ports: PORTS });
  try {
    await ok(d, ["ofctl", "add-flow", "br1", "in_port=2,actions=output:1"]);
    const frame = "505400000003505400000001080045000028000000004006" +
      "00000a0000010a00000303e80050000000000000000050020000" + "00000000";
    await ok(d, ["ofctl", "packet-out", "br0", `in_port=1 packet=${frame} actions=output:4`]);
    const stats = async (br: string, port: string) =>
      (await ok(d, ["ofctl", "dump-ports", br, port])).split("\n").slice(1, 3)
        .map((l) => /(rx|tx) pkts=(\d+), bytes=(\d+)/.exec(l)!.slice(1).join(" "));
    assert.deepEqual(await stats("br0", "4"), ["rx 0 0", "tx 1 54"]);
    assert.deepEqual(await stats("br1", "patch-br0"), ["rx 1 54", "tx 0 0"]);
    assert.deepEqual(await stats("br1", "1"), ["rx 0 0", "tx 1 54"], "it left by p3");
    assert.deepEqual(await rules(d, "br1"), [
      "cookie=0x0, table=0, n_packets=1, n_bytes=54, in_port=2 actions=output:1",
    ]);
  } finally {
    await d.stop();
  }
});

Deno.test("port/show covers every bridge's ports, patch ports included", async () => {
  const d = await TestDaemon.start(BRIDGES, { ports: PORTS });
  try {
    const names = (text: string) => [...text.matchAll(/^name +: (\S+)$/gm)].map((m) => m[1]);
    assert.deepEqual(names(await ok(d, ["port/show"])), [
      "br0",
      "br1",
      "p1",
      "p2",
      "p3",
      "patch-br0",
      "patch-br1",
    ]);
    assert.match(await ok(d, ["port/show", "patch-br0"]), /^ofport +: 2\ntype +: patch\n/m);
    const p3 = await ok(d, ["port/show", "p3"]);
    assert.deepEqual(names(p3), ["p3"]);
    assert.match(p3, /^ofport +: 1$/m, "br1's OpenFlow number");
    const bad = await d.run(["port/show", "p9"]);
    assert.equal(bad.code, 2);
    assert.match(bad.stderr, /br0: no port named p9/);
  } finally {
    await d.stop();
  }
});

/**
 * The whole switch driven from the command line, as the README's
 * walkthrough does it: rules in, packets in, megaflows and counters out,
 * rules changed, ports changed, flows flushed. Expected text is what OVS
 * 3.1 prints for the same steps (oracle samples a, c, f and h).
 */
import assert from "node:assert/strict";
import { ok, TestDaemon } from "./_run.ts";
import { parseReceivePackets } from "../../src/netdev/mod.ts";
import { encodePcap } from "../../src/packet/mod.ts";

const P1_TO_P2_TCP80 =
  "in_port(1),eth(src=50:54:00:00:00:05,dst=50:54:00:00:00:07),eth_type(0x0800),ipv4(src=10.0.0.1,dst=10.0.0.2,proto=6,tos=0,ttl=64,frag=no),tcp(src=1000,dst=80)";
const P1_TO_P2_TCP22 = P1_TO_P2_TCP80.replace("dst=80)", "dst=22)");
const P1_05_TO_07 =
  "in_port(1),eth(src=50:54:00:00:00:05,dst=50:54:00:00:00:07),eth_type(0x0800),ipv4(src=192.168.0.1,dst=192.168.0.2,proto=6,tos=0,ttl=64,frag=no),tcp(src=8,dst=9)";
const P2_07_TO_05 =
  "in_port(2),eth(src=50:54:00:00:00:07,dst=50:54:00:00:00:05),eth_type(0x0800),ipv4(src=192.168.0.2,dst=192.168.0.1,proto=6,tos=0,ttl=64,frag=no),tcp(src=9,dst=8)";

/** dpctl/dump-flows lines, sorted, with `used:` normalised as the oracle does. */
async function flows(d: TestDaemon): Promise<string[]> {
  const r = await d.run(["dpctl/dump-flows"]);
  assert.equal(r.code, 0, r.stderr);
  return r.stdout.split("\n").filter((l) => l && !l.startsWith("flow-dump from")).map((l) =>
    l.replace(/used:[0-9.]+s/, "used:0.0s")
  ).sort();
}

async function settle(d: TestDaemon): Promise<void> {
  await ok(d, ["revalidator/wait"]);
  await ok(d, ["revalidator/wait"]);
}

Deno.test("a packet that misses installs the megaflow OVS installs and credits the rule", async () => {
  const d = await TestDaemon.start(["--datapath-type", "dummy", "--port", "p3"]);
  try {
    await ok(d, ["ofctl", "add-flows", "br0", "-"], "tcp,tp_dst=80,actions=output:2\n");
    await ok(d, ["netdev-dummy/receive", "p1", P1_TO_P2_TCP80]);
    await ok(d, ["netdev-dummy/receive", "p1", P1_TO_P2_TCP22]);
    await settle(d);
    assert.deepEqual(await flows(d), [
      "recirc_id(0),in_port(1),packet_type(ns=0,id=0),eth_type(0x0800),ipv4(proto=6,frag=no),tcp(dst=22/0xffc0), packets:0, bytes:0, used:never, actions:drop",
      "recirc_id(0),in_port(1),packet_type(ns=0,id=0),eth_type(0x0800),ipv4(proto=6,frag=no),tcp(dst=80), packets:0, bytes:0, used:never, actions:2",
    ]);
    // As the oracle's normaliser does: rule ages depend on when the test runs.
    const dump = (await ok(d, ["ofctl", "dump-flows", "br0"]))
      .replace(/duration=[0-9.]+s, /g, "").replace(/idle_age=\d+, /g, "");
    assert.equal(
      dump,
      "NXST_FLOW reply:\n cookie=0x0, table=0, n_packets=1, n_bytes=118, tcp,tp_dst=80 actions=output:2\n",
    );
    const json = JSON.parse(await ok(d, ["dpctl/dump-flows", "--format", "json"]));
    assert.deepEqual(json.map((f: { actions: string }) => f.actions).sort(), ["2", "drop"]);
    const up = JSON.parse(await ok(d, ["upcall/show", "--format", "json"]));
    assert.equal(up[0].name, "dummy@ovs-dummy");
    assert.equal(up[0].flows.current, 2);
    const dps = JSON.parse(await ok(d, ["dpctl/show", "--format", "json"]));
    assert.deepEqual(dps.lookups, { hit: 0, missed: 2, lost: 0 });
    const trace = await ok(d, ["ofproto/trace", "br0", "in_port=1,tcp,tp_dst=80"]);
    assert.match(
      trace,
      /\nMegaflow: recirc_id=0,eth,tcp,in_port=1,nw_frag=no,tp_dst=80\nDatapath actions: 2\n$/,
    );
    const show = await ok(d, ["upcall/show"]);
    assert.match(show, /^dummy@ovs-dummy:\n {2}flows {9}: \(current 2\) /);

    // mod-flows changes the installed actions in place (oracle sample f).
    await ok(d, ["ofctl", "mod-flows", "br0", "tcp,tp_dst=80,actions=output:3"]);
    await settle(d);
    assert.ok(
      (await flows(d)).some((l) =>
        l.endsWith("tcp(dst=80), packets:0, bytes:0, used:never, actions:3")
      ),
    );

    // del-flows empties the datapath but the ukeys stay; --purge drops them (sample h).
    await ok(d, ["flush"]);
    assert.deepEqual(await flows(d), []);
    await ok(d, ["flush", "--purge"]);
    await ok(d, ["netdev-dummy/receive", "p1", P1_TO_P2_TCP80]);
    await settle(d);
    assert.equal((await flows(d)).length, 1);
  } finally {
    await d.stop();
  }
});

Deno.test("NORMAL learns MACs and the revalidator narrows the flooding megaflow", async () => {
  const d = await TestDaemon.start(["--datapath-type", "dummy", "--port", "p3"]);
  try {
    await ok(d, ["ofctl", "add-flow", "br0", "actions=normal"]);
    await ok(d, ["netdev-dummy/receive", "p1", P1_05_TO_07]);
    await settle(d);
    assert.deepEqual(await flows(d), [
      "recirc_id(0),in_port(1),packet_type(ns=0,id=0),eth(src=50:54:00:00:00:05,dst=50:54:00:00:00:07),eth_type(0x0800),ipv4(frag=no), packets:0, bytes:0, used:never, actions:2,3,100",
    ]);
    await ok(d, ["netdev-dummy/receive", "p2", P2_07_TO_05]);
    await settle(d);
    assert.deepEqual(await flows(d), [
      "recirc_id(0),in_port(1),packet_type(ns=0,id=0),eth(src=50:54:00:00:00:05,dst=50:54:00:00:00:07),eth_type(0x0800),ipv4(frag=no), packets:0, bytes:0, used:never, actions:2",
      "recirc_id(0),in_port(2),packet_type(ns=0,id=0),eth(src=50:54:00:00:00:07,dst=50:54:00:00:00:05),eth_type(0x0800),ipv4(frag=no), packets:0, bytes:0, used:never, actions:1",
    ]);
    // filter= takes an exact flow in ovs-ofctl syntax (oracle replies).
    const filtered = async (f: string) =>
      (await ok(d, ["dpctl/dump-flows", `filter=${f}`])).split("\n").filter((l) =>
        l.startsWith("recirc_id")
      ).map((l) => l.replace(/^recirc_id\(0\),(in_port\(\d\)).*(actions:\d)$/, "$1 $2")).sort();
    assert.deepEqual(await filtered("in_port=1"), ["in_port(1) actions:2"]);
    assert.deepEqual(await filtered("in_port=p2,tcp"), ["in_port(2) actions:1"]);
    assert.deepEqual(await filtered("dl_src=50:54:00:00:00:05"), ["in_port(1) actions:2"]);
    assert.deepEqual(await filtered("tcp,tp_dst=8"), [
      "in_port(1) actions:2",
      "in_port(2) actions:1",
    ]);
    const bad = await d.run(["dpctl/dump-flows", "filter=garbage"]);
    assert.equal(bad.code, 2);
    assert.match(bad.stderr, /Failed to parse filter \(garbage: unknown field garbage\)/);
    const fdb = (await ok(d, ["fdb/show", "br0"])).split("\n");
    assert.equal(fdb[0], " port  VLAN  MAC                Age");
    assert.match(fdb[1], /^ {4}1 {5}0 {2}50:54:00:00:00:05 +\d+$/);
    assert.match(fdb[2], /^ {4}2 {5}0 {2}50:54:00:00:00:07 +\d+$/);
  } finally {
    await d.stop();
  }
});

Deno.test("learned MACs age out after 300 s of the daemon's clock and the flows flood again", async () => {
  // As the oracle shows with time/stop and max-idle beyond the warp: the
  // revalidators retranslate the kept flows once the entries expire.
  const d = await TestDaemon.start([
    "--datapath-type",
    "dummy",
    "--port",
    "p3",
    "--other-config",
    "max-idle=1000000",
  ]);
  try {
    await ok(d, ["time/stop"]);
    await ok(d, ["ofctl", "add-flow", "br0", "actions=normal"]);
    await ok(d, ["netdev-dummy/receive", "p1", P1_05_TO_07]);
    await ok(d, ["netdev-dummy/receive", "p2", P2_07_TO_05]);
    await settle(d);
    const actions = async () => (await flows(d)).map((l) => l.replace(/^.*actions:/, ""));
    assert.deepEqual(await actions(), ["2", "1"]);
    await ok(d, ["time/warp", "299000"]);
    await settle(d);
    assert.equal((await ok(d, ["fdb/show", "br0"])).split("\n").length, 4, "not yet expired");
    await ok(d, ["time/warp", "2000"]);
    await settle(d);
    assert.equal(await ok(d, ["fdb/show", "br0"]), " port  VLAN  MAC                Age\n");
    assert.deepEqual(await actions(), ["2,3,100", "1,3,100"]);
  } finally {
    await d.stop();
  }
});

Deno.test("other_config:vlan-limit decides how many VLAN headers the megaflow sees, as in OVS", async () => {
  const qinq =
    "in_port(1),eth(src=50:54:00:00:00:05,dst=50:54:00:00:00:07),eth_type(0x88a8),vlan(vid=100,pcp=0)," +
    "encap(eth_type(0x8100),vlan(vid=200,pcp=0),encap(eth_type(0x0800),ipv4(src=10.0.0.1," +
    "dst=10.0.0.2,proto=17,tos=0,ttl=64,frag=no),udp(src=1,dst=2)))";
  // The oracle's megaflows for this packet with vlan-limit 1 (default) and 2.
  const outer = "recirc_id(0),in_port(1),packet_type(ns=0,id=0),eth_type(0x88a8),vlan(vid=100)," +
    "encap(eth_type(0x8100)), packets:0, bytes:0, used:never, actions:2";
  const both = "recirc_id(0),in_port(1),packet_type(ns=0,id=0),eth_type(0x88a8),vlan(vid=100)," +
    "encap(eth_type(0x8100),encap(eth_type(0x0800),ipv4(frag=no))), packets:0, bytes:0, " +
    "used:never, actions:2";
  for (const [extra, expected] of [[[], outer], [["--other-config", "vlan-limit=2"], both]]) {
    const d = await TestDaemon.start(["--datapath-type", "dummy", ...extra as string[]]);
    try {
      await ok(d, ["ofctl", "add-flow", "br0", "actions=output:2"]);
      await ok(d, ["netdev-dummy/receive", "p1", qinq]);
      await settle(d);
      assert.deepEqual(await flows(d), [expected]);
    } finally {
      await d.stop();
    }
  }
});

Deno.test("a no-flood port is left out of NORMAL's flooding", async () => {
  const d = await TestDaemon.start(["--datapath-type", "dummy", "--port", "p3"]);
  try {
    await ok(d, ["ofctl", "add-flow", "br0", "actions=normal"]);
    await ok(d, ["ofctl", "mod-port", "br0", "p3", "no-flood"]);
    await ok(d, ["netdev-dummy/receive", "p1", P1_05_TO_07]);
    await settle(d);
    const [line] = await flows(d);
    assert.ok(line.endsWith("actions:2,100"), line);
  } finally {
    await d.stop();
  }
});

Deno.test("packets sent out of a port with tx_pcap land in the pcap file", async () => {
  const dir = await Deno.makeTempDir({ prefix: "udpif-pcap-" });
  const d = await TestDaemon.start([
    "--datapath-type",
    "dummy",
    "--port",
    `p3,tx_pcap=${dir}/p3.pcap`,
  ]);
  try {
    await ok(d, ["ofctl", "add-flow", "br0", "actions=output:3"]);
    await ok(d, ["netdev-dummy/receive", "p1", P1_TO_P2_TCP80]);
    await settle(d);
  } finally {
    await d.stop();
  }
  const bytes = await Deno.readFile(`${dir}/p3.pcap`);
  await Deno.remove(dir, { recursive: true });
  // Global header (24 bytes), one record header (16) and the 118-byte frame.
  assert.equal(bytes.length, 24 + 16 + 118);
  assert.deepEqual([...bytes.subarray(0, 4)], [0xd4, 0xc3, 0xb2, 0xa1]);
});

Deno.test("rules with a bad line change nothing and the error names the line", async () => {
  const d = await TestDaemon.start(["--datapath-type", "dummy"]);
  try {
    const r = await d.run(
      ["ofctl", "add-flows", "br0", "-"],
      "priority=20,udp,actions=output:1\npriority=21,udp,actions=frobnicate\n",
    );
    assert.equal(r.code, 2);
    assert.match(r.stderr, /^line 2: .*frobnicate.*\n$/);
    assert.equal(await ok(d, ["ofctl", "dump-flows", "br0"]), "NXST_FLOW reply:\n");
    await ok(d, ["ofctl", "add-flows", "br0", "-"], "priority=20,udp,actions=output:1\n");
    const mod = await d.run(
      ["ofctl", "mod-flows", "br0", "-"],
      "udp,actions=output:2\nudp,actions=explode\n",
    );
    assert.equal(mod.code, 2);
    assert.match(mod.stderr, /^line 2: .*explode.*\n$/);
    assert.match(await ok(d, ["ofctl", "dump-flows", "br0"]), /udp actions=output:1\n$/);
    await ok(d, ["ofctl", "del-flows", "br0"]);
    assert.equal(await ok(d, ["ofctl", "dump-flows", "br0"]), "NXST_FLOW reply:\n");
    const bad = await d.run(["netdev-dummy/receive", "p1", "garbage("]);
    assert.deepEqual([bad.code, bad.stdout], [2, ""]);
    assert.match(bad.stderr, /garbage\(/);
    assert.deepEqual(await d.run(["netdev-dummy/receive", "nosuch", P1_TO_P2_TCP80]), {
      code: 2,
      stdout: "",
      stderr: "no such dummy netdev\n",
    });
  } finally {
    await d.stop();
  }
});

Deno.test("ofctl dump-flows prints rule ages as ovs-ofctl does, and OpenFlow 1.3's form with -O", async () => {
  const d = await TestDaemon.start(["--datapath-type", "dummy"]);
  try {
    await ok(d, ["ofctl", "add-flow", "br0", "priority=10,tcp,tp_dst=80,actions=output:2"]);
    assert.match(
      await ok(d, ["ofctl", "dump-flows", "br0"]),
      /^NXST_FLOW reply:\n cookie=0x0, duration=[0-9.]+s, table=0, n_packets=0, n_bytes=0, idle_age=\d+, priority=10,tcp,tp_dst=80 actions=output:2\n$/,
    );
    assert.match(
      await ok(d, ["ofctl", "-O", "OpenFlow13", "dump-flows", "br0"]),
      /^OFPST_FLOW reply \(OF1\.3\):\n cookie=0x0, duration=[0-9.]+s, table=0, n_packets=0, n_bytes=0, reset_counts priority=10,tcp,tp_dst=80 actions=output:2\n$/,
    );
  } finally {
    await d.stop();
  }
});

Deno.test("set-port VLAN settings are honoured by NORMAL: other VLANs are not flooded", async () => {
  const d = await TestDaemon.start(["--datapath-type", "dummy", "--port", "p3", "--port", "p4"]);
  try {
    await ok(d, ["ofctl", "add-flow", "br0", "actions=normal"]);
    await ok(d, ["set-port", "p1", "tag=10"]);
    await ok(d, ["set-port", "p2", "tag=10"]);
    await ok(d, ["set-port", "p3", "tag=20"]);
    await ok(d, ["netdev-dummy/receive", "p1", P1_05_TO_07]);
    await settle(d);
    const [line] = await flows(d);
    const actions = line.slice(line.indexOf("actions:") + 8).split(",");
    // p2 shares VLAN 10 (untagged), p4 and br0 are trunks (tagged 10), p3 is in VLAN 20.
    assert.ok(actions.includes("2"), line);
    assert.ok(actions.includes("push_vlan(vid=10"), line);
    assert.ok(actions.includes("4") && actions.includes("100"), line);
    assert.ok(!actions.includes("3"), line);
  } finally {
    await d.stop();
  }
});

Deno.test("frames in an rx_pcap file are received on the port at start-up", async () => {
  const dir = await Deno.makeTempDir({ prefix: "udpif-rxpcap-" });
  const frames = parseReceivePackets([P1_TO_P2_TCP80, P1_TO_P2_TCP22, P1_TO_P2_TCP80]);
  await Deno.writeFile(`${dir}/in.pcap`, encodePcap(frames.map((data) => ({ data }))));
  await Deno.writeTextFile(`${dir}/rules.txt`, "tcp,tp_dst=80,actions=output:2\n");
  const d = await TestDaemon.start([
    "--datapath-type",
    "dummy",
    "--port",
    `p3,rx_pcap=${dir}/in.pcap`,
    "--flows",
    `${dir}/rules.txt`,
  ]);
  try {
    await settle(d);
    const show = JSON.parse(await ok(d, ["dpctl/show", "--format", "json"]));
    const p3 = show.ports.find((p: { name: string }) => p.name === "p3");
    assert.equal(p3.rxPackets, 3);
    assert.equal(show.lookups.hit + show.lookups.missed, 3);
  } finally {
    await d.stop();
    await Deno.remove(dir, { recursive: true });
  }
});

/**
 * Debian's real `ovs-ofctl` against udpif over the bridge's management
 * socket (`OVS_RUNDIR=RUNDIR ovs-ofctl CMD br0`), as against ovs-vswitchd:
 * the steps of fixtures/openflow/steps.txt, recorded against OVS 3.1 by
 * scripts/capture-openflow.sh, must print what they printed there (ages,
 * durations, port addresses and the datapath id normalised). Rules added
 * over the wire must also change the datapath exactly as rules added with
 * `udpif ofctl`. Installs openvswitch-common when ovs-ofctl is missing.
 */
import assert from "node:assert/strict";
import { ok, TestDaemon, udpif } from "../cli/_run.ts";
import { readPcapFrames } from "../../src/netdev/mod.ts";
import { POLL_TIMEOUT_MS, pollUntil } from "../poll.ts";
import { ensureTestDeps } from "../support/veth_topology.ts";
import { ofctlMonitor } from "./_monitor.ts";

const FIXTURES = new URL("../../fixtures/openflow/", import.meta.url);

/** Runs ovs-ofctl as capture-openflow.sh records it: stdout, `## stderr`, `## exit N`. */
async function ovsOfctl(d: TestDaemon, args: string[]): Promise<string> {
  // In the daemon's network namespace, where its `--listen ptcp:` listens.
  const [cmd, ...argv] = d.inNetns(["ovs-ofctl", ...args]);
  const out = await new Deno.Command(cmd, {
    args: argv,
    env: { OVS_RUNDIR: d.dir },
    stdout: "piped",
    stderr: "piped",
  }).output();
  const dec = new TextDecoder();
  const err = dec.decode(out.stderr);
  return dec.decode(out.stdout) + (err ? `## stderr\n${err}` : "") + `## exit ${out.code}\n`;
}

/** What differs between two switches with the same rules: times, addresses, dpid, names. */
function normalize(text: string): string {
  return text
    .replace(/duration=[0-9.]+s/g, "duration=Xs")
    .replace(/ idle_age=\d+,/g, "")
    .replace(/ hard_age=\d+,/g, "")
    .replace(/addr:[0-9a-f:]{17}/g, "addr:X")
    .replace(/dpid:[0-9a-f]{16}/g, "dpid:X")
    // The switch named in ovs-ofctl's errors: the oracle's socket path, or br0.
    .replace(/^ovs-ofctl: [^ ]+: /gm, "ovs-ofctl: SWITCH: ");
}

function steps(): { name: string; args: string[] }[] {
  const text = Deno.readTextFileSync(new URL("steps.txt", FIXTURES));
  const flows = new URL("add_flows.flows", FIXTURES).pathname;
  return text.split("\n").filter((l) => l.trim() && !l.startsWith("#")).map((l) => {
    const [name, ...rest] = l.trim().split(/\s+/);
    return {
      name,
      args: rest.map((a) => (a === "BRIDGE" ? "br0" : a === "FLOWS" ? flows : a)),
    };
  });
}

Deno.test("ovs-ofctl prints for udpif what it prints for OVS: add, mod, del, dumps, tables, ports", async () => {
  await ensureTestDeps();
  const d = await TestDaemon.start(["--port", "p3"]);
  try {
    for (const { name, args } of steps()) {
      const expected = Deno.readTextFileSync(new URL(`${name}.out`, FIXTURES));
      assert.equal(normalize(await ovsOfctl(d, args)), normalize(expected), `step ${name}`);
    }
  } finally {
    await d.stop();
  }
});

const P1_TO_P2_TCP80 =
  "in_port(1),eth(src=50:54:00:00:00:05,dst=50:54:00:00:00:07),eth_type(0x0800),ipv4(src=10.0.0.1,dst=10.0.0.2,proto=6,tos=0,ttl=64,frag=no),tcp(src=1000,dst=80)";
const P1_TO_P2_TCP22 = P1_TO_P2_TCP80.replace("dst=80)", "dst=22)");

/** The datapath flows, sorted, `used:` normalised. */
async function megaflows(d: TestDaemon): Promise<string[]> {
  await ok(d, ["revalidator/wait"]);
  await ok(d, ["revalidator/wait"]);
  return (await ok(d, ["dpctl/dump-flows"])).split("\n")
    .filter((l) => l && !l.startsWith("flow-dump from"))
    .map((l) => l.replace(/used:[0-9.]+s/, "used:0.0s")).sort();
}

/**
 * Adds a rule, sends two packets, modifies the rule: the megaflows after
 * each step, changing the tables with `change(args)`.
 */
async function scenario(change: (d: TestDaemon, args: string[]) => Promise<void>) {
  const d = await TestDaemon.start(["--datapath-type", "dummy", "--port", "p3"]);
  try {
    await change(d, ["add-flow", "br0", "tcp,tp_dst=80,actions=output:2"]);
    await ok(d, ["netdev-dummy/receive", "p1", P1_TO_P2_TCP80]);
    await ok(d, ["netdev-dummy/receive", "p1", P1_TO_P2_TCP22]);
    const added = await megaflows(d);
    await change(d, ["mod-flows", "br0", "tcp,tp_dst=80,actions=output:3"]);
    const modified = await megaflows(d);
    const rules = (await ok(d, ["ofctl", "dump-flows", "br0"]))
      .replace(/duration=[0-9.]+s, /g, "").replace(/(idle|hard)_age=\d+, /g, "");
    return { added, modified, rules };
  } finally {
    await d.stop();
  }
}

Deno.test("rules from ovs-ofctl change the datapath exactly as rules from udpif ofctl", async () => {
  await ensureTestDeps();
  const overWire = await scenario(async (d, args) => {
    const out = await ovsOfctl(d, args);
    assert.equal(out, "## exit 0\n", args.join(" "));
  });
  const overUnixctl = await scenario(async (d, args) => {
    await ok(d, ["ofctl", ...args]);
  });
  assert.deepEqual(overWire.added, [
    "recirc_id(0),in_port(1),packet_type(ns=0,id=0),eth_type(0x0800),ipv4(proto=6,frag=no),tcp(dst=22/0xffc0), packets:0, bytes:0, used:never, actions:drop",
    "recirc_id(0),in_port(1),packet_type(ns=0,id=0),eth_type(0x0800),ipv4(proto=6,frag=no),tcp(dst=80), packets:0, bytes:0, used:never, actions:2",
  ]);
  // Revalidation after the wire's flow-mod re-translated the megaflow.
  assert.ok(overWire.modified.some((l) => l.includes("tcp(dst=80)") && l.endsWith("actions:3")));
  assert.deepEqual(overWire, overUnixctl);
  assert.equal(
    overWire.rules,
    "NXST_FLOW reply:\n cookie=0x0, table=0, n_packets=1, n_bytes=118, tcp,tp_dst=80 actions=output:3\n",
  );
});

/** A loopback TCP port free right now (the daemon binds it next). */
function freePort(): number {
  const l = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const { port } = l.addr as Deno.NetAddr;
  l.close();
  return port;
}

Deno.test("--listen ptcp: ovs-ofctl manages udpif over TCP on loopback, the same tables as br0.mgmt", async () => {
  await ensureTestDeps();
  const port = freePort();
  const d = await TestDaemon.start(["--listen", `ptcp:${port}:127.0.0.1`]);
  try {
    const target = `tcp:127.0.0.1:${port}`;
    assert.equal(
      await ovsOfctl(d, ["add-flow", target, "priority=9,udp,actions=output:2"]),
      "## exit 0\n",
    );
    const overTcp = normalize(await ovsOfctl(d, ["-O", "OpenFlow13", "dump-flows", target]));
    assert.equal(
      overTcp,
      "OFPST_FLOW reply (OF1.3) (xid=0x2):\n" +
        " cookie=0x0, duration=Xs, table=0, n_packets=0, n_bytes=0, reset_counts priority=9,udp actions=output:2\n" +
        "## exit 0\n",
    );
    const overMgmt = normalize(await ovsOfctl(d, ["-O", "OpenFlow13", "dump-flows", "br0"]));
    assert.equal(overMgmt, overTcp);
    // A controller connection (ptcp) gets OVS's miss_send_len for controllers.
    assert.match(await ovsOfctl(d, ["show", target]), /miss_send_len=128\n/);
    assert.match(await ovsOfctl(d, ["show", "br0"]), /miss_send_len=0\n/);
  } finally {
    await d.stop();
  }
});

Deno.test("--listen with a bad target stops start-up with a one-line error", async () => {
  const dir = await Deno.makeTempDir({ prefix: "udpif-listen-" });
  try {
    const r = await udpif(["start", "--port", "p1", "--listen", "tcp:1.2.3.4:6653"], {
      env: { UDPIF_RUNDIR: dir, UDPIF_CTL: "" },
    });
    assert.equal(r.code, 2);
    assert.match(r.stderr, /--listen tcp:1\.2\.3\.4:6653: not a passive OpenFlow target/);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

const hex = (b: Uint8Array) => Array.from(b, (x) => x.toString(16).padStart(2, "0")).join("");
/** A TCP packet 50:54:00:00:00:05 -> 50:54:00:00:00:07, 10.0.0.1 -> 10.0.0.2 port 80. */
const PACKET =
  "505400000007505400000005080045000028000000004006f9570a0000010a00000203e800500000000000000000500200000000000000000000";

Deno.test("ovs-ofctl packet-out: the packet leaves by the actions' port, rewritten as they say", async () => {
  await ensureTestDeps();
  const dir = await Deno.makeTempDir({ prefix: "udpif-packet-out-" });
  const d = await TestDaemon.start([
    "--datapath-type",
    "dummy",
    "--port",
    `p3,tx_pcap=${dir}/p3.pcap`,
  ]);
  try {
    await d.run(["ofctl", "add-flow", "br0", "table=1,actions=mod_nw_ttl:9,output:3"]);
    for (
      const args of [
        ["packet-out", "br0", `in_port=1 packet=${PACKET} actions=output:3`],
        [
          "-O",
          "OpenFlow13",
          "packet-out",
          "br0",
          `in_port=controller packet=${PACKET} actions=set_field:00:00:00:00:00:09->eth_src,output:3`,
        ],
        // Through the tables: resubmit to table 1's rule.
        ["packet-out", "br0", `in_port=2 packet=${PACKET} actions=resubmit(,1)`],
      ]
    ) {
      assert.equal(await ovsOfctl(d, args), "## exit 0\n", args.join(" "));
    }
    const bad = await ovsOfctl(d, [
      "packet-out",
      "br0",
      `in_port=1 packet=${PACKET} actions=output:3`,
      "extra",
    ]);
    assert.notEqual(bad, "## exit 0\n");
    assert.equal((await d.run(["coverage/read-counter", "ofproto_packet_out"])).stdout, "3\n");
    // The datapath's port counters, through OFPST_PORT.
    assert.equal(
      normalize(await ovsOfctl(d, ["-O", "OpenFlow13", "dump-ports", "br0", "3"])),
      "OFPST_PORT reply (OF1.3) (xid=0x2): 1 ports\n" +
        "  port  3: rx pkts=0, bytes=0, drop=?, errs=?, frame=?, over=?, crc=?\n" +
        "           tx pkts=3, bytes=174, drop=?, errs=?, coll=?\n" +
        "           duration=Xs\n## exit 0\n",
    );
  } finally {
    await d.stop();
  }
  const frames = (await readPcapFrames(`${dir}/p3.pcap`)).map(hex);
  await Deno.remove(dir, { recursive: true });
  // TTL 64 -> 9, the IPv4 checksum updated (0xf957 -> 0x3058).
  const ttl9 = PACKET.slice(0, 44) + "09" + PACKET.slice(46, 48) + "3058" + PACKET.slice(52);
  assert.deepEqual(frames, [
    PACKET,
    PACKET.slice(0, 12) + "000000000009" + PACKET.slice(24),
    ttl9,
  ]);
});

/**
 * `ovs-ofctl [-O VERSION] monitor` against udpif: what OVS prints for
 * flow-removed messages (OpenFlow 1.5's carry the table and OXS stats).
 */
async function monitorFlowRemoved(
  options: string[],
  head: string,
  table: string,
  /** OpenFlow 1.1+ carries the hard timeout, which ovs-ofctl prints. */
  hard: string,
) {
  await ensureTestDeps();
  const d = await TestDaemon.start();
  const monitor = ofctlMonitor(d, options);
  const ofctl = async (...args: string[]) => assert.equal(await ovsOfctl(d, args), "## exit 0\n");
  try {
    // The monitor asks for async messages once connected: until then a
    // delete goes unseen, so delete until one is seen.
    const deadline = performance.now() + POLL_TIMEOUT_MS;
    while (!monitor.seen().includes("reason=delete")) {
      if (performance.now() > deadline) throw new Error("the monitor saw no flow-removed");
      await ofctl("add-flow", "br0", "send_flow_rem,priority=5,udp,actions=output:2");
      await ofctl("del-flows", "br0", "udp");
    }
    await ofctl("add-flow", "br0", "priority=7,arp,actions=output:2");
    await ofctl("del-flows", "br0", "arp");
    await d.run(["time/stop"]);
    await ofctl("add-flow", "br0", "send_flow_rem,hard_timeout=1,priority=6,tcp,actions=output:2");
    await d.run(["time/warp", "1500"]);
    await pollUntil(
      () => monitor.seen().includes("reason=hard"),
      "the hard timeout's flow-removed",
    );
    const lines = monitor.seen().trim().split("\n");
    assert.match(
      lines[0],
      new RegExp(
        `^${
          head.replace(/[()]/g, "\\$&")
        } priority=5,udp reason=delete${table} duration[0-9.]+s idle0 pkts0 bytes0$`,
      ),
    );
    assert.equal(
      lines.at(-1),
      `${head} priority=6,tcp reason=hard${table} duration1.500s idle0${hard} pkts0 bytes0`,
    );
    // The rule without send_flow_rem left silently.
    assert.ok(!monitor.seen().includes("arp"));
  } finally {
    await monitor.stop();
    await d.stop();
  }
}

Deno.test("ovs-ofctl monitor gets OVS's flow-removed lines: deletes and hard timeouts of send_flow_rem rules only", async () => {
  await monitorFlowRemoved([], "OFPT_FLOW_REMOVED (xid=0x0):", "", "");
});

Deno.test("ovs-ofctl -O OpenFlow15 monitor gets OpenFlow 1.5's flow-removed (table, OXS stats)", async () => {
  await monitorFlowRemoved(
    ["-O", "OpenFlow15"],
    "OFPT_FLOW_REMOVED (OF1.5) (xid=0x0):",
    " table_id=0",
    " hard1",
  );
});

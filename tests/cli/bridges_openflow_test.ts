/**
 * Several bridges' OpenFlow side: packet-ins go to the controllers of
 * the bridge whose rule sent them (OVS reads the bridge from the
 * controller cookie's ofproto UUID), also when the packet came in on
 * another bridge and crossed a patch port.
 */
import assert from "node:assert/strict";
import { ok, TestDaemon } from "./_run.ts";
import { isPacketIn, MonitorConn } from "../support/openflow/monitor.ts";

const BRIDGES = ["--datapath-type", "dummy", "--bridge", "br0", "--bridge", "br1"];
const PORTS = [
  "p1",
  "p2",
  "patch-br1:4,type=patch,peer=patch-br0",
  "p3:1,bridge=br1",
  "patch-br0:2,bridge=br1,type=patch,peer=patch-br1",
];
const P1_TO_P3 =
  "in_port(1),eth(src=50:54:00:00:00:01,dst=50:54:00:00:00:03),eth_type(0x0800),ipv4(src=10.0.0.1,dst=10.0.0.3,proto=6,tos=0,ttl=64,frag=no),tcp(src=1000,dst=80)";

/** An OpenFlow 1.0 packet-in's in_port and reason (ofp_packet_in). */
function of10PacketIn(m: Uint8Array): { inPort: number; reason: number } {
  const v = new DataView(m.buffer, m.byteOffset, m.byteLength);
  return { inPort: v.getUint16(14), reason: m[16] };
}

Deno.test("a packet-in from a peer bridge's rule goes to that bridge's connections", async () => {
  const d = await TestDaemon.start(BRIDGES, { ports: PORTS });
  const conns: MonitorConn[] = [];
  try {
    await ok(d, ["ofctl", "add-flow", "br0", "in_port=1,actions=output:4"]);
    await ok(d, ["ofctl", "add-flow", "br0", "in_port=2,actions=controller"]);
    await ok(d, ["ofctl", "add-flow", "br1", "in_port=2,actions=controller"]);
    const br0 = await MonitorConn.open(`${d.dir}/br0.mgmt`, "of10_standard");
    conns.push(br0);
    const br1 = await MonitorConn.open(`${d.dir}/br1.mgmt`, "of10_standard");
    conns.push(br1);
    await ok(d, ["netdev-dummy/receive", "p1", P1_TO_P3]);
    // In br1 the packet came in on patch-br0, OpenFlow port 2; OFPR_ACTION is 1.
    assert.deepEqual(of10PacketIn(await br1.readUntil(isPacketIn)), { inPort: 2, reason: 1 });
    // br0's connection gets br0's own packet-ins only: its first is from p2 (in_port 2).
    await ok(d, ["netdev-dummy/receive", "p2", P1_TO_P3.replace("in_port(1)", "in_port(2)")]);
    assert.deepEqual(of10PacketIn(await br0.readUntil(isPacketIn)), { inPort: 2, reason: 1 });
    const flows = await ok(d, ["dpctl/dump-flows"]);
    assert.match(flows, /in_port\(1\),.*actions:userspace\(pid=0,controller\(reason=1,/);
  } finally {
    for (const c of conns) c.close();
    await d.stop();
  }
});

Deno.test("--flows, --listen, --controller and --fail-mode name their bridge with bridge=", async () => {
  const work = await Deno.makeTempDir({ prefix: "udpif-br-opts-" });
  let d: TestDaemon | undefined;
  let conn: MonitorConn | undefined;
  try {
    await Deno.writeTextFile(`${work}/br0.txt`, "priority=5,actions=drop\n");
    await Deno.writeTextFile(`${work}/br1.txt`, "in_port=2,actions=controller\n");
    d = await TestDaemon.start([
      ...BRIDGES,
      ...["--flows", `${work}/br0.txt`, "--flows", `${work}/br1.txt,bridge=br1`],
      ...["--listen", `punix:${work}/br1.listen,bridge=br1`],
      ...["--controller", "tcp:127.0.0.1:9,bridge=br1", "--fail-mode", "secure,bridge=br1"],
    ], { ports: PORTS });
    const rules = async (br: string) =>
      (await ok(d!, ["ofctl", "dump-flows", br])).split("\n").slice(1).filter((l) => l)
        .map((l) => l.replace(/.* (priority=|in_port=)/, "$1"));
    assert.deepEqual(await rules("br0"), ["priority=5 actions=drop"]);
    assert.deepEqual(await rules("br1"), ["in_port=2 actions=CONTROLLER:65535"]);
    assert.equal(await ok(d, ["bridge/get-controller", "br1"]), "tcp:127.0.0.1:9\n");
    assert.equal(await ok(d, ["bridge/get-controller", "br0"]), "");
    assert.equal(await ok(d, ["bridge/get-fail-mode", "br1"]), "secure\n");
    assert.equal(await ok(d, ["bridge/get-fail-mode", "br0"]), "");
    // At run time too, each bridge's controllers are its own.
    await ok(d, ["bridge/set-controller", "br0", "tcp:127.0.0.1:10"]);
    assert.equal(await ok(d, ["bridge/get-controller", "br1"]), "tcp:127.0.0.1:9\n");
    const bad = await d.run(["bridge/get-controller", "br9"]);
    assert.match(bad.stderr, /get-controller: no bridge named br9/);
    // br1's --listen endpoint is br1's: its packet-ins are br1's.
    conn = await MonitorConn.open(`${work}/br1.listen`, "of10_standard");
    await ok(d, ["ofctl", "add-flow", "br0", "in_port=1,actions=output:4"]);
    await ok(d, ["netdev-dummy/receive", "p1", P1_TO_P3]);
    assert.deepEqual(of10PacketIn(await conn.readUntil(isPacketIn)), { inPort: 2, reason: 1 });
  } finally {
    conn?.close();
    await d?.stop();
    await Deno.remove(work, { recursive: true });
  }
});

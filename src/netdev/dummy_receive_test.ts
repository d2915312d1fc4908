import assert from "node:assert/strict";
import { DummyNetdev } from "./dummy.ts";
import { ethFromHex } from "../packet/mod.ts";
import { DummyReceiveError, netdevDummyReceive, parseReceivePackets } from "./dummy_receive.ts";

const HEX = "50540000000750540000000508004500001c0001000040117ac50a0000010a0000020400005000080000";
const FLOW = "in_port(1),eth(src=50:54:00:00:00:05,dst=50:54:00:00:00:07),eth_type(0x0800)," +
  "ipv4(src=10.0.0.1,dst=10.0.0.2,proto=6,tos=0,ttl=64,frag=no),tcp(src=1000,dst=80)";

Deno.test("hex packets become frames byte for byte", () => {
  const f = ethFromHex(HEX) as Uint8Array;
  assert.equal(f.length, HEX.length / 2);
  assert.equal(f[12], 0x08);
  assert.equal(ethFromHex("5054"), "Packet data too short for Ethernet");
  assert.equal(ethFromHex(HEX + "z"), "Trailing garbage in packet data");
});

Deno.test("a flow spec becomes the packet OVS composes: 118 bytes for a TCP flow", () => {
  const [f] = parseReceivePackets([FLOW]);
  // The oracle's dpctl/show -s counts 236 RX bytes for two such packets.
  assert.equal(f.length, 118);
  const [g] = parseReceivePackets([FLOW, "--len", "200"]);
  assert.equal(g.length, 200);
});

Deno.test("bad receive arguments fail with OVS's messages and queue nothing", () => {
  const p1 = new DummyNetdev("p1");
  const lookup = (n: string) => (n === "p1" ? p1 : undefined);
  assert.throws(
    () => netdevDummyReceive(["nosuchport", FLOW], lookup),
    /^Error: no such dummy netdev$/,
  );
  assert.throws(() => netdevDummyReceive(["p1", "garbage("], lookup), DummyReceiveError);
  assert.throws(
    () => netdevDummyReceive(["p1", FLOW, "--len", "20"], lookup),
    /too small packet len/,
  );
  assert.throws(() => netdevDummyReceive(["p1", "--qid", "3", FLOW], lookup), /bad rx queue id\./);
  assert.throws(
    () => netdevDummyReceive(["p1", HEX, "garbage("], lookup),
    /syntax error at garbage\(/,
  );
});

Deno.test("a bad flow key is reported with the rest of the text from the bad attribute on, as OVS words it", () => {
  // Replies of the real OVS 3.1 (oracle) to the same arguments.
  const p1 = new DummyNetdev("p1");
  const lookup = (n: string) => (n === "p1" ? p1 : undefined);
  assert.throws(
    () => netdevDummyReceive(["p1", "bogus(2),eth_type(0x0800)"], lookup),
    (e: Error) => e.message === "syntax error at bogus(2),eth_type(0x0800)",
  );
  assert.throws(
    () => netdevDummyReceive(["p1", "in_port(1),eth_type(0x0800),bogus(2)"], lookup),
    (e: Error) => e.message === "syntax error at bogus(2)",
  );
  assert.throws(
    () => netdevDummyReceive(["p1", "0000"], lookup),
    (e: Error) => e.message === "syntax error at 0000",
  );
});

Deno.test("a key OVS finds in error is refused with its message; unread attributes are ignored", () => {
  const eth = "in_port(1),eth(src=50:54:00:00:00:05,dst=50:54:00:00:00:07)";
  // Both replies are ovs-appctl netdev-dummy/receive's on OVS 3.1.
  for (
    const [key, reply] of [
      [`${eth},eth_type(0x0100)`, "invalid Ethertype 256 in flow key"],
      [
        `${eth},eth_type(0x8100),vlan(vid=5,pcp=0,cfi=0),encap(eth_type(0x0800))`,
        "OVS_KEY_ATTR_VLAN 0x0005 is nonzero but CFI bit is not set",
      ],
    ]
  ) {
    assert.throws(
      () => parseReceivePackets([key]),
      (e: Error) =>
        e instanceof DummyReceiveError &&
        e.message === `${reply}; the flow key in error is: ${key}`,
    );
  }
  // tcp() under proto=17 is not read: OVS sends UDP with ports 0.
  const [frame] = parseReceivePackets([
    `${eth},eth_type(0x0800),ipv4(src=1.1.1.1,dst=2.2.2.2,proto=17,tos=0,ttl=64,frag=no),tcp(src=1,dst=2)`,
  ]);
  assert.equal(frame[14 + 9], 17);
  assert.deepEqual([...frame.subarray(34, 38)], [0, 0, 0, 0]);
});

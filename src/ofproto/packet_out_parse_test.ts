import assert from "node:assert/strict";
import { OfctlError, OFPP_CONTROLLER, parsePacketOut } from "./mod.ts";

const PACKET = "505400000005505400000007" + "0800";

Deno.test("packet-out text: in_port, packet and actions", () => {
  const po = parsePacketOut(`in_port=1 packet=${PACKET} actions=output:2`);
  assert.equal(po.inPort, 1);
  assert.equal(po.packet.length, 14);
  assert.equal(po.packet[13], 0x00);
  assert.deepEqual(po.actions.map((a) => a.type), ["output"]);
  assert.equal(parsePacketOut(`packet=${PACKET}`).inPort, OFPP_CONTROLLER);
  assert.equal(parsePacketOut(`in_port=p2 packet=${PACKET}`, new Map([["p2", 2]])).inPort, 2);
});

// Each message as ovs-ofctl 3.1 printed it for the same text (after "ovs-ofctl: ").
const BAD: [string, string][] = [
  ["in_port=1 packet=zz actions=drop", "packet: Trailing garbage in packet data"],
  ["in_port=1 packet=0102 actions=drop", "packet: Packet data too short for Ethernet"],
  ["in_port=1 actions=drop", "must specify packet"],
  [`in_port=65300 packet=${PACKET}`, "65300 is not a valid OpenFlow port for PACKET_OUT"],
  [`in_port=foo packet=${PACKET}`, "foo is not a valid OpenFlow port"],
  [
    `in_port=1 nw_src=1.2.3.4 packet=${PACKET}`,
    "nw_src is not a valid pipeline field for PACKET_OUT",
  ],
  [`in_port=1 bogus=3 packet=${PACKET}`, "unknown keyword bogus"],
  [`in_port= packet=${PACKET}`, "field in_port missing value"],
  [`in_port=1 packet=${PACKET} actions=output:99999`, "99999: output to unknown port"],
];

Deno.test("packet-out text: OVS's errors", () => {
  for (const [text, message] of BAD) {
    assert.throws(
      () => parsePacketOut(text),
      (e) => e instanceof OfctlError && e.message === message,
      text,
    );
  }
});

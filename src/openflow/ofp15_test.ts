/**
 * OpenFlow 1.4/1.5 encodings against the bytes OVS 3.1 sent ovs-ofctl
 * (fixtures/openflow/*.txt): the aggregate reply with OXS stats and port
 * descriptions with the Ethernet property, built from the same values,
 * must be byte-identical.
 */
import assert from "node:assert/strict";
import type { Rule } from "../ofproto/mod.ts";
import { serverMessages } from "../../tests/support/openflow/recorded.ts";
import { putAggregate, StatsReplyBuilder } from "./flow_stats.ts";
import { type PortDesc, putPortDescs } from "./switch.ts";
import { OFP14_VERSION, OFP15_VERSION, OFPST_AGGREGATE, OFPST_PORT_DESC } from "./types.ts";

const xidOf = (m: Uint8Array) => new DataView(m.buffer, m.byteOffset).getUint32(4);

/** The one reply of multipart type `statsType` OVS sent in step `name`. */
function recordedReply(name: string, statsType: number): Uint8Array {
  const m = serverMessages(name).find((m) => m[1] === 19 && ((m[8] << 8) | m[9]) === statsType);
  assert.ok(m, `${name}: no reply of stats type ${statsType}`);
  return m;
}

Deno.test("OpenFlow 1.5 aggregate reply: counters as OXS stats, as OVS sends them", () => {
  const ovs = recordedReply("dump_aggregate15", OFPST_AGGREGATE);
  const rule = { nPackets: 0, nBytes: 0 } as Rule;
  const b = new StatsReplyBuilder(OFP15_VERSION, xidOf(ovs), OFPST_AGGREGATE);
  b.add((w) => putAggregate(w, [rule], OFP15_VERSION));
  assert.deepEqual(b.finish(), [ovs]);
});

Deno.test("OpenFlow 1.4 and 1.5 port descriptions: ofp14_port with the Ethernet property", () => {
  // OVS's dummy ports in that recording: LOCAL, then p1..p3 with its addresses.
  const ports: PortDesc[] = [
    { portNo: 0xfffe, name: "br0", hwAddr: 0xaa55aa550000n, config: 0, linkDown: false },
    { portNo: 1, name: "p1", hwAddr: 0xaa55aa550003n, config: 0, linkDown: false },
    { portNo: 2, name: "p2", hwAddr: 0xaa55aa550001n, config: 0, linkDown: false },
    { portNo: 3, name: "p3", hwAddr: 0xaa55aa550002n, config: 0, linkDown: false },
  ];
  for (
    const [name, version] of [["ports_desc14", OFP14_VERSION], ["ports_desc15", OFP15_VERSION]]
  ) {
    const ovs = recordedReply(name as string, OFPST_PORT_DESC);
    const b = new StatsReplyBuilder(version as number, xidOf(ovs), OFPST_PORT_DESC);
    putPortDescs(b, ports, version as number);
    assert.deepEqual(b.finish(), [ovs], name as string);
  }
});

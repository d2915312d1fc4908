/**
 * Packet-ins byte for byte as Open vSwitch 3.1 sends them: for each
 * version and packet-in format, fixtures/openflow/packet_in_NAME.txt
 * holds what `ovs-ofctl monitor` sent the real OVS and the packet-in it
 * got back for one packet through the same two rules (recorded by
 * scripts/record-packet-in.sh). A minimal OpenFlow client here replays
 * the monitor's messages to udpif's br0.mgmt, the same packet is
 * injected, and the packet-in that comes back must be the recorded one.
 */
import assert from "node:assert/strict";
import { TestDaemon } from "../cli/_run.ts";
import { recorded } from "../support/openflow/recorded.ts";
import { isPacketIn, MonitorConn } from "../support/openflow/monitor.ts";

const FIXTURES = new URL("../../fixtures/openflow/", import.meta.url);
const RULES = [
  "table=0,in_port=1,actions=load:0x2a->NXM_NX_REG3[],write_metadata:0x1234,goto_table:3",
  "table=3,cookie=0x77,actions=controller",
];
const hex = (b: Uint8Array) => Array.from(b, (x) => x.toString(16).padStart(2, "0")).join("");

for (
  const name of ["of10_standard", "of10_nxt_packet_in", "of13_standard", "of13_nxt_packet_in2"]
) {
  Deno.test(`packet-in ${name}: the bytes OVS 3.1 sends for the same rules and packet`, async () => {
    const file = `packet_in_${name}`;
    const text = Deno.readTextFileSync(new URL(`${file}.txt`, FIXTURES));
    const packet = /^# packet (.*)$/m.exec(text)![1];
    const [{ server }] = recorded(file);
    const expected = server.find(isPacketIn);
    assert.ok(expected, `${file} has a packet-in`);
    const d = await TestDaemon.start(["--datapath-type", "dummy"]);
    let conn: MonitorConn | undefined;
    try {
      for (const rule of RULES) {
        const r = await d.run(["ofctl", "add-flow", "br0", rule]);
        assert.equal(r.code, 0, r.stderr);
      }
      conn = await MonitorConn.open(`${d.dir}/br0.mgmt`, name);
      const r = await d.run(["netdev-dummy/receive", "p1", packet]);
      assert.equal(r.code, 0, r.stderr);
      const got = await conn.readUntil(isPacketIn);
      assert.equal(hex(got), hex(expected));
    } finally {
      conn?.close();
      await d.stop();
    }
  });
}

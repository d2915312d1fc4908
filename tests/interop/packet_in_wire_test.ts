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
import { frameLength } from "../../src/openflow/mod.ts";

const FIXTURES = new URL("../../fixtures/openflow/", import.meta.url);
const RULES = [
  "table=0,in_port=1,actions=load:0x2a->NXM_NX_REG3[],write_metadata:0x1234,goto_table:3",
  "table=3,cookie=0x77,actions=controller",
];
const OFPT_PACKET_IN = 10;
const OFPT_VENDOR = 4;

/** Whether `m` is a packet-in: OFPT_PACKET_IN, NXT_PACKET_IN (17) or NXT_PACKET_IN2 (30). */
function isPacketIn(m: Uint8Array): boolean {
  if (m[1] === OFPT_PACKET_IN) return true;
  if (m[1] !== OFPT_VENDOR || m.length < 16) return false;
  const subtype = new DataView(m.buffer, m.byteOffset).getUint32(12);
  return subtype === 17 || subtype === 30;
}

const hex = (b: Uint8Array) => Array.from(b, (x) => x.toString(16).padStart(2, "0")).join("");

/** Reads framed messages from `conn` until `until` accepts one; returns that one. */
async function readUntil(
  conn: Deno.Conn,
  state: { buf: Uint8Array },
  until: (m: Uint8Array) => boolean,
): Promise<Uint8Array> {
  const chunk = new Uint8Array(65536);
  for (;;) {
    for (let len = frameLength(state.buf); len > 0; len = frameLength(state.buf)) {
      const m = state.buf.slice(0, len);
      state.buf = state.buf.slice(len);
      if (until(m)) return m;
    }
    const n = await conn.read(chunk);
    if (n === null) throw new Error("the switch closed the connection");
    const joined = new Uint8Array(state.buf.length + n);
    joined.set(state.buf);
    joined.set(chunk.subarray(0, n), state.buf.length);
    state.buf = joined;
  }
}

for (
  const name of ["of10_standard", "of10_nxt_packet_in", "of13_standard", "of13_nxt_packet_in2"]
) {
  Deno.test(`packet-in ${name}: the bytes OVS 3.1 sends for the same rules and packet`, async () => {
    const file = `packet_in_${name}`;
    const text = Deno.readTextFileSync(new URL(`${file}.txt`, FIXTURES));
    const packet = /^# packet (.*)$/m.exec(text)![1];
    const [{ client, server }] = recorded(file);
    const expected = server.find(isPacketIn);
    assert.ok(expected, `${file} has a packet-in`);
    const d = await TestDaemon.start(["--datapath-type", "dummy"]);
    let conn: Deno.Conn | undefined;
    try {
      for (const rule of RULES) {
        const r = await d.run(["ofctl", "add-flow", "br0", rule]);
        assert.equal(r.code, 0, r.stderr);
      }
      conn = await Deno.connect({ transport: "unix", path: `${d.dir}/br0.mgmt` });
      const state = { buf: new Uint8Array(0) };
      for (const m of client) await conn.write(m);
      // The monitor's last message is a barrier: its reply means all were applied.
      const last = client[client.length - 1];
      const lastXid = new DataView(last.buffer, last.byteOffset).getUint32(4);
      await readUntil(
        conn,
        state,
        (m) => new DataView(m.buffer, m.byteOffset).getUint32(4) === lastXid && m[1] !== last[1],
      );
      const r = await d.run(["netdev-dummy/receive", "p1", packet]);
      assert.equal(r.code, 0, r.stderr);
      const got = await readUntil(conn, state, isPacketIn);
      assert.equal(hex(got), hex(expected));
    } finally {
      conn?.close();
      await d.stop();
    }
  });
}

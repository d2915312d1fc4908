import assert from "node:assert/strict";
import { OfTables } from "../ofproto/mod.ts";
import { recorded, serverMessage } from "../../tests/support/openflow/recorded.ts";
import { encodeFlowRemoved } from "./flow_removed.ts";
import { decodeHeader } from "./header.ts";
import { StatsReplyBuilder } from "./flow_stats.ts";
import {
  decodeSetConfig,
  encodeGetConfigReply,
  type PortDesc,
  putPortDescs,
  putTableStats,
} from "./switch.ts";

/** The oracle's ports: dummy netdevs numbered as OVS happened to create them. */
const PORTS: PortDesc[] = [
  { portNo: 1, name: "p1", hwAddr: 0xaa55aa550003n, config: 0, linkDown: false },
  { portNo: 2, name: "p2", hwAddr: 0xaa55aa550001n, config: 0, linkDown: false },
  { portNo: 3, name: "p3", hwAddr: 0xaa55aa550002n, config: 0, linkDown: false },
  { portNo: 0xfffe, name: "br0", hwAddr: 0xaa55aa550000n, config: 0, linkDown: false },
];

for (
  const [step, version, type] of [["dump_ports_desc", 1, 17], ["dump_ports_desc13", 4, 19]] as const
) {
  Deno.test(`port desc: ${step} byte for byte as OVS sends it`, () => {
    const theirs = serverMessage(step, type);
    const b = new StatsReplyBuilder(version, decodeHeader(theirs).xid, 13);
    // OVS lists LOCAL first.
    putPortDescs(b, [PORTS[3], ...PORTS.slice(0, 3)], version);
    assert.deepEqual(b.finish(), [theirs]);
  });
}

for (const [step, version, type] of [["dump_tables", 1, 17], ["dump_tables13", 4, 19]] as const) {
  Deno.test(`table stats: ${step} byte for byte as OVS sends it`, () => {
    const theirs = serverMessage(step, type);
    const b = new StatsReplyBuilder(version, decodeHeader(theirs).xid, 3);
    const active = [3, 1, 1, 1];
    for (let t = 0; t < 254; t++) {
      b.add((w) =>
        putTableStats(w, {
          tableId: t,
          activeCount: active[t] ?? 0,
          lookupCount: 0n,
          matchedCount: 0n,
        }, version)
      );
    }
    assert.deepEqual(b.finish(), [theirs]);
  });
}

Deno.test("switch config: get-config reply as OVS's, set-config read back", () => {
  const theirs = serverMessage("show", 8);
  const { xid } = decodeHeader(theirs);
  assert.deepEqual(encodeGetConfigReply({ flags: 0, missSendLen: 0 }, 1, xid), theirs);
  const set = new Uint8Array([1, 9, 0, 12, 0, 0, 0, 1, 0, 1, 0, 128]);
  assert.deepEqual(decodeSetConfig(set), { flags: 1, missSendLen: 128 });
});

Deno.test("flow removed: OpenFlow 1.0's message as OVS sent it to ovs-ofctl monitor", () => {
  const [ovsDelete, ovsHard] = recorded("monitor_flow_removed")[0].server.filter((m) =>
    m[1] === 11
  );
  const tables = new OfTables();
  tables.addFlow("send_flow_rem,priority=5,udp,actions=output:2", 0);
  tables.addFlow("send_flow_rem,hard_timeout=1,priority=6,tcp,actions=output:2", 0);
  const [udp, tcp] = [...tables.rules()];
  // Durations (bytes 60..67) depend on when OVS ran; the rest must match.
  const noDuration = (m: Uint8Array) => [...m.subarray(0, 60), ...m.subarray(68)];
  assert.deepEqual(noDuration(encodeFlowRemoved(udp, "delete", 102, 1, 0)), noDuration(ovsDelete));
  assert.deepEqual(noDuration(encodeFlowRemoved(tcp, "hard", 1264, 1, 0)), noDuration(ovsHard));
});

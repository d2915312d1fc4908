import assert from "node:assert/strict";
import { formatActions, formatMatch, OfTables } from "../ofproto/mod.ts";
import { clientMessages, recorded, serverMessages } from "../../tests/support/openflow/recorded.ts";
import { WireReader } from "./_buf.ts";
import { pullActions, pullInstructions } from "./actions.ts";
import { decodeFlowMod } from "./flow_mod.ts";
import {
  decodeFlowStatsRequest,
  NX_STATS_HEADER_LEN,
  OF13_STATS_HEADER_LEN,
  putAggregate,
  putFlowStats,
  StatsReplyBuilder,
} from "./flow_stats.ts";
import { pullNxEntries, pullOxmMatch } from "./nx_match.ts";

/** Each entry of a flow stats reply, as the dump prints its parts. */
function entries(reply: Uint8Array): string[] {
  const version = reply[0];
  const r = new WireReader(
    reply,
    "OFPBRC_BAD_LEN",
    version === 1 ? NX_STATS_HEADER_LEN : OF13_STATS_HEADER_LEN,
  );
  const out: string[] = [];
  while (r.remaining) {
    const len = (reply[r.pos] << 8) | reply[r.pos + 1];
    const e = r.sub(len);
    e.skip(2);
    const table = e.u8();
    e.skip(9);
    const priority = e.u16();
    const idle = e.u16();
    const hard = e.u16();
    let match, actions, cookie, packets;
    if (version === 1) {
      const matchLen = e.u16();
      e.skip(4);
      cookie = e.u64();
      packets = e.u64();
      e.skip(8);
      match = pullNxEntries(e, matchLen).match;
      e.skip((8 - (matchLen % 8)) % 8);
      actions = pullActions(e, e.remaining, 1);
    } else {
      e.skip(6);
      cookie = e.u64();
      packets = e.u64();
      e.skip(8);
      match = pullOxmMatch(e).match;
      actions = pullInstructions(e, e.remaining, version);
    }
    out.push(
      `table=${table} cookie=${cookie} packets=${packets} idle=${idle} hard=${hard} ` +
        `${formatMatch(match, priority)} actions=${formatActions(actions)}`,
    );
  }
  return out;
}

/** The tables after the recorded adds and modifies, as OVS had them for dump_flows. */
function tables(): OfTables {
  const t = new OfTables();
  for (const step of ["add_of10", "add_nxm", "add_of13", "add_flows", "mod_flows"]) {
    for (const { client } of recorded(step)) {
      const version = client[0][0] === 1 ? 1 : 4;
      let tableIdExtension = false;
      for (const m of client) {
        if (m[1] === 4 && m[15] === 15) tableIdExtension = m[16] !== 0;
        const nx = m[1] === 4 && m[15] === 13;
        if (m[1] !== 14 && !nx) continue;
        const fm = decodeFlowMod(m, { version, tableIdExtension }, nx);
        t.flowMods([fm], fm.strict, 0);
      }
    }
  }
  return t;
}

for (
  const [step, version, statsType] of [["dump_flows", 1, 0xffff], ["dump_flows13", 4, 1]] as const
) {
  Deno.test(`flow stats: udpif's ${step} reply carries what OVS's did`, () => {
    const request = clientMessages(step).find((m) => m[1] === (version === 1 ? 16 : 18))!;
    const filter = decodeFlowStatsRequest(request, version);
    const t = tables();
    const b = new StatsReplyBuilder(version, 2, statsType, version === 1 ? 0 : undefined);
    for (const rule of t.selectRules(filter)) b.add((w) => putFlowStats(w, rule, version, 1000));
    const [ours] = b.finish();
    const theirs = serverMessages(step).find((m) => m[1] === (version === 1 ? 17 : 19))!;
    assert.deepEqual(entries(ours), entries(theirs));
    assert.equal(entries(ours).length, 6);
  });
}

/** An OpenFlow 1.0 Nicira stats request (NXST_FLOW or NXST_AGGREGATE). */
const isNxStats = (m: Uint8Array) => m[1] === 16 && m[8] === 0xff && m[9] === 0xff;

Deno.test("flow stats: a filter on table and cookie mask, and the aggregate of what it selects", () => {
  const t = tables();
  const byTable = decodeFlowStatsRequest(
    clientMessages("dump_flows_table").find(isNxStats)!,
    1,
  );
  assert.deepEqual(t.selectRules(byTable).map((r) => r.tableId), [1]);
  const byCookie = decodeFlowStatsRequest(
    clientMessages("dump_cookie").find(isNxStats)!,
    1,
  );
  assert.equal(byCookie.cookieMask, (1n << 64n) - 1n);
  assert.deepEqual(t.selectRules(byCookie).map((r) => r.cookie), [0x77n]);
  const agg = clientMessages("dump_aggregate").find(isNxStats)!;
  const b = new StatsReplyBuilder(1, 4, 0xffff, 1);
  b.add((w) => putAggregate(w, t.selectRules(decodeFlowStatsRequest(agg, 1)), 1));
  const theirs = serverMessages("dump_aggregate").find((m) => m[1] === 17)!;
  assert.deepEqual(b.finish(), [theirs]);
});

Deno.test("flow stats: a reply too big for one message continues with the more flag", () => {
  const t = new OfTables();
  const mods = [];
  for (let i = 0; i < 1500; i++) {
    mods.push(`priority=${i},ip,nw_dst=10.0.${i >> 8}.${i & 255},actions=output:1`);
  }
  t.addFlows(mods.join("\n"), 0);
  const b = new StatsReplyBuilder(1, 9, 0xffff, 0);
  for (const rule of t.rules()) b.add((w) => putFlowStats(w, rule, 1, 0));
  const msgs = b.finish();
  assert.ok(msgs.length > 1);
  for (const [i, m] of msgs.entries()) {
    assert.equal((m[2] << 8) | m[3], m.length);
    assert.equal(m[11], i < msgs.length - 1 ? 1 : 0);
  }
  assert.equal(msgs.flatMap(entries).length, 1500);
});

/**
 * Fuzzing the OpenFlow connection: every message ovs-ofctl sent in the
 * recorded conversations, mutated (bytes flipped, bodies cut or extended
 * with the header's length kept consistent, lengths and types changed),
 * is fed to a live connection over real tables. Whatever arrives, the
 * connection answers with replies or OFPT_ERRORs and never throws, and
 * every reply is a well-framed message. Seeded, so a failure reproduces.
 */
import assert from "node:assert/strict";
import { OfTables } from "../ofproto/mod.ts";
import { decodeHeader, frameLength, OfpError, type PortMod } from "../openflow/mod.ts";
import { Ofconn } from "./ofconn.ts";
import { recorded } from "../../tests/support/openflow/recorded.ts";
import { prng } from "../../tests/support/lib/prng.ts";
import { groupModOn, groupViewsOf } from "./ofconn_groups.ts";

const STEPS = [
  "add_of10",
  "add_nxm",
  "add_of13",
  "add_flows",
  "mod_flows",
  "dump_flows",
  "dump_flows13",
  "dump_aggregate13",
  "dump_tables13",
  "del_strict",
  "mod_port_down",
  "show13",
];

const tables = new OfTables();
const sw = {
  features: () => ({ datapathId: 1n, nTables: 254, ports: sw.ports() }),
  ports: () => [{ portNo: 1, name: "p1", hwAddr: 1n, config: 0, linkDown: false }],
  desc: () => ({ manufacturer: "", hardware: "", software: "", serial: "", datapath: "" }),
  tableStats: () => [{ tableId: 0, activeCount: tables.nRules, lookupCount: 0n, matchedCount: 0n }],
  portMod: (pm: PortMod) => {
    if (pm.portNo !== 1) throw new OfpError("OFPPMFC_BAD_PORT");
  },
  packetOut: () => {},
  portStats: () => [],
  watchRemovals: () => {},
  watchPorts: () => {},
  watchPacketIns: () => () => {},
  setMissWanted: () => {},
  flowMod: (fm: Parameters<OfTables["flowMods"]>[0][0]) => void tables.flowMods([fm], fm.strict, 0),
  selectRules: (f: Parameters<OfTables["selectRules"]>[0]) => tables.selectRules(f),
  groupMod: (gm: Parameters<OfTables["groupMods"]>[0][0]) => void groupModOn(tables, gm, 0),
  groups: () => groupViewsOf(tables, 0),
  nowMs: () => 0,
};

function mutate(m: Uint8Array, rnd: () => number): Uint8Array {
  const out = m.slice();
  switch (Math.floor(rnd() * 5)) {
    case 0: // flip a few bytes past the header
      for (let i = 0; i < 1 + rnd() * 4; i++) {
        if (out.length > 8) out[8 + Math.floor(rnd() * (out.length - 8))] = Math.floor(rnd() * 256);
      }
      return out;
    case 1: { // cut the body, keeping the header's length consistent
      const cut = out.slice(0, 8 + Math.floor(rnd() * Math.max(1, out.length - 8)));
      cut[2] = cut.length >> 8;
      cut[3] = cut.length & 0xff;
      return cut;
    }
    case 2: { // extend with random bytes
      const ext = new Uint8Array(out.length + 8 * Math.floor(1 + rnd() * 4));
      ext.set(out);
      for (let i = out.length; i < ext.length; i++) ext[i] = Math.floor(rnd() * 256);
      ext[2] = ext.length >> 8;
      ext[3] = ext.length & 0xff;
      return ext;
    }
    case 3: // another message type
      out[1] = Math.floor(rnd() * 32);
      return out;
    default: // a length field inside the body (match, action, instruction) changed
      if (out.length > 16) out[16 + Math.floor(rnd() * (out.length - 16))] ^= 0x08;
      return out;
  }
}

Deno.test("fuzz: mutated ovs-ofctl messages get replies or errors, never an exception", () => {
  const rnd = prng(15);
  const messages = STEPS.flatMap((s) => recorded(s).flatMap((c) => c.client.slice(1)));
  let errors = 0;
  for (let round = 0; round < 4000; round++) {
    const original = messages[Math.floor(rnd() * messages.length)];
    const version = original[0];
    const c = new Ofconn("fuzz", sw, "service");
    c.hello();
    c.receive(new Uint8Array([version, 0, 0, 8, 0, 0, 0, 0]));
    const m = mutate(original, rnd);
    let replies: Uint8Array[] = [];
    try {
      replies = c.receive(m);
    } catch (e) {
      assert.fail(
        `round ${round}: ${Array.from(m, (b) => b.toString(16).padStart(2, "0")).join("")}: ${e}`,
      );
    }
    for (const r of replies) {
      assert.equal(frameLength(r), r.length);
      assert.equal(decodeHeader(r).version, version);
      if (r[1] === 1) errors++;
    }
  }
  // The mutations must reach the error paths, not only the happy ones.
  assert.ok(errors > 500, `only ${errors} errors`);
});

/**
 * Ofconn against real ovs-ofctl conversations recorded from OVS
 * (fixtures/openflow/*.txt, scripts/capture-openflow.sh): each request
 * ovs-ofctl sent is fed in order, over real OfTables; the replies must
 * decode (ovs-ofctl ofp-print is the check in tests/interop) and the
 * tables must end up as OVS's did.
 */
import assert from "node:assert/strict";
import { decodeHeader, errorName, OFPT_ERROR } from "../openflow/mod.ts";
import { Ofconn } from "./ofconn.ts";
import type { OfSwitch } from "./of_switch.ts";
import { RoleElection } from "./role_election.ts";
import { FIXTURE_DIR, recorded } from "../../tests/support/openflow/recorded.ts";
import { TablesSwitch } from "../../tests/support/openflow/tables_switch.ts";

const FIXTURES = FIXTURE_DIR;

/** Plays `names` conversations on fresh connections to `sw`; returns every reply. */
function play(sw: OfSwitch, ...names: string[]): Uint8Array[] {
  const out: Uint8Array[] = [];
  for (const name of names) {
    for (const { client } of recorded(name)) {
      const c = new Ofconn(name, sw, "service");
      c.hello();
      for (const m of client) out.push(...c.receive(m));
      assert.equal(c.state, "active", name);
    }
  }
  return out;
}

Deno.test("ovs-ofctl's add-flow, add-flows and mod-flows over OF1.0, NXM and OF1.3 build OVS's table", () => {
  const sw = new TablesSwitch();
  const replies = play(sw, "add_of10", "add_nxm", "add_of13", "add_flows", "mod_flows");
  assert.ok(replies.every((r) => decodeHeader(r).type !== OFPT_ERROR));
  const dump = sw.tables.dumpFlows({ noTimes: true });
  const expected = Deno.readTextFileSync(new URL("dump_flows.out", FIXTURES))
    .replace(/ \(xid=0x[0-9a-f]+\)/, "")
    .replace(/ duration=Xs,/g, "")
    .replace(/ idle_age=\d+,/g, "")
    .replace(/ hard_age=\d+,/g, "")
    .replace(/## exit 0\n$/, "");
  assert.equal(dump, expected);
});

/** An active OpenFlow 1.0 (or 1.3) connection to a fresh switch. */
function open(version = 1): Ofconn {
  const c = new Ofconn("test", new TablesSwitch(), "service");
  c.hello();
  c.receive(new Uint8Array([version, 0, 0, 8, 0, 0, 0, 1]));
  assert.equal(c.state, "active");
  return c;
}

/** The error name an OFPT_ERROR reply carries, checked against the request it echoes. */
function errorOf(replies: Uint8Array[], request: Uint8Array, version = 1): string | undefined {
  assert.equal(replies.length, 1);
  const [r] = replies;
  assert.equal(r[1], OFPT_ERROR);
  assert.deepEqual(r.subarray(12), request);
  return errorName((r[8] << 8) | r[9], (r[10] << 8) | r[11], version);
}

const msg = (...bytes: number[]) => {
  const m = new Uint8Array(bytes);
  m[3] = m.length;
  return m;
};

Deno.test("bad requests get OVS's OFPT_ERROR and the connection carries on", () => {
  const c = open();
  const cases: [Uint8Array, string][] = [
    [msg(1, 99, 0, 0, 0, 0, 0, 2), "OFPBRC_BAD_TYPE"],
    [msg(4, 5, 0, 0, 0, 0, 0, 3), "OFPBRC_BAD_VERSION"],
    [msg(1, 5, 0, 0, 0, 0, 0, 3, 0, 0, 0, 0), "OFPBRC_BAD_LEN"],
    [msg(1, 0, 0, 0, 0, 0, 0, 3), "OFPBRC_BAD_TYPE"],
    [msg(1, 4, 0, 0, 0, 0, 0, 4, 0, 0, 0x12, 0x34, 0, 0, 0, 1), "OFPBRC_BAD_VENDOR"],
    [msg(1, 4, 0, 0, 0, 0, 0, 5, 0, 0, 0x23, 0x20, 0, 0, 0, 99), "OFPBRC_BAD_SUBTYPE"],
    [msg(1, 16, 0, 0, 0, 0, 0, 6, 0, 77, 0, 0), "OFPBRC_BAD_STAT"],
    [msg(1, 14, 0, 0, 0, 0, 0, 7, 0, 0, 0, 0), "OFPBRC_BAD_LEN"],
    [msg(1, 4, 0, 0, 0, 0, 0, 8, 0, 0, 0x23, 0x20), "OFPBRC_BAD_LEN"],
    [msg(1, 4, 0, 0, 0, 0, 0, 9, 0, 0, 0x23, 0x20, 0, 0, 0, 12, 0, 0, 0, 7), "OFPBRC_EPERM"],
  ];
  for (const [request, name] of cases) {
    assert.equal(errorOf(c.receive(request), request), name, name);
    assert.equal(c.state, "active");
  }
  const echo = msg(1, 2, 0, 0, 0, 0, 0, 10, 1, 2, 3);
  assert.deepEqual(c.receive(echo)[0][1], 3);
  // An echo in another version is still answered, in its version (vconn_recv).
  assert.deepEqual(c.receive(msg(4, 2, 0, 0, 0, 0, 0, 10)), [msg(4, 3, 0, 0, 0, 0, 0, 10)]);
  const c13 = open(4);
  const setFeatures = msg(
    4,
    18,
    0,
    0,
    0,
    0,
    0,
    11,
    0,
    12,
    0,
    0,
    0,
    0,
    0,
    0,
    9,
    9,
    9,
    9,
    9,
    9,
    9,
    9,
  );
  assert.equal(errorOf(c13.receive(setFeatures), setFeatures, 4), "OFPBRC_EPERM");
});

Deno.test("a flow-mod the tables refuse is an error and changes nothing", () => {
  const sw = new TablesSwitch();
  play(sw, "add_flows");
  const before = sw.tables.dumpFlows({ noTimes: true });
  const c = new Ofconn("test", sw, "service");
  c.hello();
  for (const { client } of recorded("add_overlap")) {
    for (const m of client) {
      const replies = c.receive(m);
      if (m[1] === 14) assert.equal(errorOf(replies, m), "OFPFMFC_OVERLAP");
    }
  }
  assert.equal(sw.tables.dumpFlows({ noTimes: true }), before);
});

Deno.test("hello: a message before it, or no common version, ends the connection", () => {
  const early = new Ofconn("test", new TablesSwitch(), "service");
  early.hello();
  assert.deepEqual(early.receive(msg(1, 2, 0, 0, 0, 0, 0, 1)), []);
  assert.equal(early.state, "closed");
  const old = new Ofconn("test", new TablesSwitch(), "service");
  old.hello();
  // OpenFlow 1.1 and 1.2 only.
  const hello = msg(3, 0, 0, 0, 0, 0, 0, 1, 0, 1, 0, 8, 0, 0, 0, 0x0c);
  const [reply] = old.receive(hello);
  assert.equal(reply[1], OFPT_ERROR);
  assert.equal(
    errorName((reply[8] << 8) | reply[9], (reply[10] << 8) | reply[11], 3),
    "OFPHFC_INCOMPATIBLE",
  );
  assert.equal(old.state, "closed");
});

/** OFPT_ROLE_REQUEST (1.3): role, pad, generation id. */
function roleRequest(role: number, generation: bigint, xid = 1): Uint8Array {
  const m = new Uint8Array(24);
  m.set([4, 24, 0, 24, 0, 0, 0, xid, 0, 0, 0, role]);
  new DataView(m.buffer).setBigUint64(16, generation);
  return m;
}

/** The role and generation id a role reply carries. */
function roleReply(replies: Uint8Array[]): [number, bigint] {
  assert.equal(replies.length, 1);
  assert.equal(replies[0][1], 25);
  const v = new DataView(replies[0].buffer, replies[0].byteOffset);
  return [v.getUint32(8), v.getBigUint64(16)];
}

Deno.test("roles: a newer primary demotes the old one, which may then only read; stale ids refused", () => {
  const sw = new TablesSwitch();
  const election = new RoleElection();
  const [a, b] = [
    new Ofconn("a", sw, "primary", election),
    new Ofconn("b", sw, "primary", election),
  ];
  for (const c of [a, b]) {
    c.hello();
    c.receive(new Uint8Array([4, 0, 0, 8, 0, 0, 0, 1]));
  }
  // Nothing asked yet: equal, no election id (all-ones).
  assert.deepEqual(roleReply(a.receive(roleRequest(0, 0n))), [1, (1n << 64n) - 1n]);
  assert.deepEqual(roleReply(a.receive(roleRequest(2, 5n))), [2, 5n]);
  assert.deepEqual(roleReply(b.receive(roleRequest(2, 6n))), [2, 6n]);
  assert.equal(a.role, "secondary");
  const [flowMod] = recorded("add_of13").flatMap((c) => c.client).filter((m) => m[1] === 14);
  assert.equal(errorOf(a.receive(flowMod), flowMod, 4), "OFPBRC_IS_SLAVE");
  assert.deepEqual(b.receive(flowMod), []);
  assert.equal(sw.tables.nRules, 1);
  const stale = roleRequest(2, 4n);
  assert.equal(errorOf(a.receive(stale), stale, 4), "OFPRRFC_STALE");
  const bad = roleRequest(7, 9n);
  assert.equal(errorOf(a.receive(bad), bad, 4), "OFPRRFC_BAD_ROLE");
  // Over OpenFlow 1.0, Nicira's role request: slave (2), then a flow-mod is refused.
  const c = open();
  const nx = msg(1, 4, 0, 0, 0, 0, 0, 3, 0, 0, 0x23, 0x20, 0, 0, 0, 10, 0, 0, 0, 2);
  const [reply] = c.receive(nx);
  assert.deepEqual([...reply.subarray(8)], [0, 0, 0x23, 0x20, 0, 0, 0, 11, 0, 0, 0, 2]);
  const [of10] = recorded("add_of10").flatMap((x) => x.client).filter((m) => m[1] === 14);
  assert.equal(errorOf(c.receive(of10), of10), "OFPBRC_EPERM");
});

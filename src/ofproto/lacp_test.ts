import assert from "node:assert/strict";
import { Lacp, LACP_FAST_TIME_TX, type LacpConfig } from "./lacp.ts";
import { lacpShowText, lacpStatsText } from "./lacp_show.ts";

function config(name: string, active: boolean, id: number): LacpConfig {
  return {
    name,
    active,
    fast: true,
    sysId: Uint8Array.of(2, 0, 0, 0, 0, id),
    sysPriority: 65534,
    fallbackAb: false,
    members: [
      { name: `${name}1`, portId: 4, portPriority: 65535, key: 0 },
      { name: `${name}2`, portId: 5, portPriority: 65535, key: 0 },
    ],
  };
}

/** An Ethernet frame around a PDU, as the bridge sends it. */
const frame = (pdu: Uint8Array) => {
  const f = new Uint8Array(14 + pdu.length);
  f.set(pdu, 14);
  return f;
};

/** Runs both sides at `now`, delivering each side's PDUs to the other's same member. */
function exchange(a: Lacp, b: Lacp, now: number, up = (_side: string, _i: number) => true) {
  a.run(now, (i) => up("a", i), (i, pdu) => up("a", i) && b.processPacket(i, frame(pdu), now));
  b.run(now, (i) => up("b", i), (i, pdu) => up("b", i) && a.processPacket(i, frame(pdu), now));
}

Deno.test("an active and a passive side negotiate, attach both members and print lacp/show", () => {
  const a = new Lacp(config("a", true, 0xa)), b = new Lacp(config("b", false, 0xb));
  // A second apart: a changed state that txEqual ignores (expired) is sent with the next PDU.
  for (let t = 0; t < 5; t++) exchange(a, b, t * 1000);
  assert.ok(a.negotiated && b.negotiated);
  assert.ok(a.memberMayEnable(0) && a.memberMayEnable(1) && b.memberMayEnable(1));
  const show = lacpShowText(b.snapshot());
  assert.match(
    show,
    /^---- b ----\n {2}status: passive negotiated\n {2}sys_id: 02:00:00:00:00:0b\n/,
  );
  assert.match(show, /member: b1: current attached\n/);
  assert.match(show, /actor state: timeout aggregation synchronized collecting distributing\n/);
  assert.match(show, /partner sys_id: 02:00:00:00:00:0a\n/);
  assert.match(
    show,
    /partner state: activity timeout aggregation synchronized collecting distributing\n/,
  );
});

Deno.test("two passive sides never talk; a partner that goes silent expires, then defaults", () => {
  const p = new Lacp(config("p", false, 1)), q = new Lacp(config("q", false, 2));
  let sent = 0;
  p.run(0, () => true, () => sent++);
  q.run(0, () => true, () => sent++);
  assert.equal(sent, 0);
  assert.ok(!p.negotiated);

  const a = new Lacp(config("a", true, 0xa)), b = new Lacp(config("b", true, 0xb));
  for (let t = 0; t < 5; t++) exchange(a, b, t);
  assert.ok(b.negotiated);
  // a's first member loses its link: b hears nothing more on it.
  const down = (side: string, i: number) => !(side === "a" && i === 0);
  const rx = 3 * LACP_FAST_TIME_TX;
  exchange(a, b, 10 + rx, down);
  assert.match(lacpShowText(b.snapshot()), /member: b1: expired attached\n/);
  assert.equal(b.memberMayEnable(0), false, "an expired partner is not synchronized");
  exchange(a, b, 20 + 2 * rx, down);
  assert.match(lacpShowText(b.snapshot()), /member: b1: defaulted detached\n/);
  assert.match(lacpShowText(b.snapshot()), /member: b2: current attached\n/);
  assert.ok(b.negotiated, "the other member keeps the bond negotiated");
});

Deno.test("a bond that sees its own system id (a loop) attaches nothing", () => {
  const a = new Lacp(config("a", true, 7)), b = new Lacp(config("b", true, 7));
  for (let t = 0; t < 5; t++) exchange(a, b, t);
  assert.match(lacpShowText(a.snapshot()), /member: a1: current detached\n/);
  assert.match(lacpShowText(b.snapshot()), /member: b2: current detached\n/);
  assert.ok(!a.memberMayEnable(0) && !b.memberMayEnable(1));
});

Deno.test("a malformed LACPDU is refused and changes nothing", () => {
  const a = new Lacp(config("a", true, 0xa));
  const before = lacpShowText(a.snapshot());
  assert.equal(a.processPacket(0, new Uint8Array(60), 0), false);
  assert.equal(a.processPacket(0, new Uint8Array(20), 0), false);
  assert.equal(lacpShowText(a.snapshot()), before);
});

Deno.test("lacp/show-stats counts PDUs sent and received, bad and marker PDUs, expiries and carrier changes", () => {
  const a = new Lacp(config("a", true, 0xa)), b = new Lacp(config("b", true, 0xb));
  for (let t = 0; t < 3; t++) exchange(a, b, t * 1000);
  const marker = new Uint8Array(110);
  marker[0] = 2;
  assert.equal(b.processPacket(0, frame(marker), 3000), false);
  assert.equal(b.processPacket(0, frame(new Uint8Array(20)), 3000), false);
  // b1's link goes down for a moment: one carrier change each way.
  exchange(a, b, 3000, (side, i) => !(side === "b" && i === 0));
  exchange(a, b, 4000);
  // a stops sending to b2: it expires after 3 s, then defaults 3 s later.
  for (let t = 5; t <= 11; t++) exchange(a, b, t * 1000, (side, i) => !(side === "a" && i === 1));
  const s = b.snapshot().members;
  const [tx1, rx1] = s[0].counts;
  assert.ok(tx1 >= 4 && rx1 >= 4, `b1 sent ${tx1} and received ${rx1}`);
  assert.deepEqual(s[0].counts.slice(2), [1, 1, 0, 0, 2]);
  assert.deepEqual(s[1].counts.slice(2), [0, 0, 1, 1, 0]);
  assert.equal(
    lacpStatsText(b.snapshot()).replace(/PDUs: \d+\n/g, "PDUs: N\n"),
    "---- b statistics ----\n\nmember: b1:\n  TX PDUs: N\n  RX PDUs: N\n  RX Bad PDUs: N\n" +
      "  RX Marker Request PDUs: N\n  Link Expired: 0\n  Link Defaulted: 0\n" +
      "  Carrier Status Changed: 2\n\nmember: b2:\n  TX PDUs: N\n  RX PDUs: N\n" +
      "  RX Bad PDUs: N\n  RX Marker Request PDUs: N\n  Link Expired: 1\n  Link Defaulted: 1\n" +
      "  Carrier Status Changed: 0\n",
  );
});

import assert from "node:assert/strict";
import {
  encodeHeader,
  finishMessage,
  NX_VENDOR_ID,
  OFP10_VERSION,
  OFP13_VERSION,
  WireWriter,
} from "../openflow/mod.ts";
import {
  type AsyncPeer,
  OfconnAsync,
  OFPT13_GET_ASYNC_REQUEST,
  OFPT13_SET_ASYNC,
} from "./ofconn_async.ts";
import type { PacketIn } from "./packet_in_queue.ts";

function peer(over: Partial<AsyncPeer> = {}): AsyncPeer {
  return {
    state: "active",
    kind: "primary",
    version: OFP13_VERSION,
    flowFormat: 0,
    role: "equal",
    config: { missSendLen: 128 },
    ...over,
  };
}

function pin(reason: number, controllerId = 0): PacketIn {
  return {
    packet: new Uint8Array(60),
    reason,
    tableId: 0,
    cookie: 0n,
    controllerId,
    maxLen: 0xffff,
    inPort: 1,
    metadata: 0n,
    regs: new Uint32Array(16),
  };
}

function message(version: number, type: number, body: (w: WireWriter) => void): Uint8Array {
  const w = new WireWriter();
  encodeHeader(w, version, type, 7);
  body(w);
  return finishMessage(w);
}

Deno.test("OVS's default async config: which reasons reach which role", () => {
  const a = new OfconnAsync();
  // action (1), explicit miss (6): yes; invalid_ttl (2) and, in 1.3, implicit miss (7): no.
  assert.ok(a.packetIn(peer(), pin(1)));
  assert.ok(a.packetIn(peer(), pin(6)));
  assert.equal(a.packetIn(peer(), pin(2)), undefined);
  assert.equal(a.packetIn(peer(), pin(7)), undefined);
  // OpenFlow 1.0 connections get implicit misses (OVS's miss rule).
  assert.ok(new OfconnAsync().packetIn(peer({ version: OFP10_VERSION }), pin(7)));
  // A secondary gets no packet-ins; a service connection none until it sets miss_send_len.
  assert.equal(a.packetIn(peer({ role: "secondary" }), pin(1)), undefined);
  assert.equal(
    new OfconnAsync().packetIn(peer({ kind: "service", config: { missSendLen: 0 } }), pin(1)),
    undefined,
  );
  // Another controller id's packet-ins go elsewhere.
  assert.equal(a.packetIn(peer(), pin(1, 3)), undefined);
});

Deno.test("OFPT_SET_ASYNC changes what a 1.3 connection gets; GET_ASYNC reports it", () => {
  const a = new OfconnAsync();
  const p = peer();
  // packet-in: primary no_match only, secondary action; port-status all; flow-removed none.
  const set = message(
    OFP13_VERSION,
    OFPT13_SET_ASYNC,
    (w) => w.u32(1).u32(2).u32(7).u32(7).u32(0).u32(0),
  );
  assert.deepEqual(a.handle(p, "t", set, 7), []);
  assert.equal(a.packetIn(p, pin(1)), undefined, "action is off now");
  assert.ok(a.packetIn(p, pin(6)), "no_match covers explicit misses");
  assert.ok(a.packetIn(peer({ role: "secondary" }), pin(1)));
  const [reply] = a.handle(p, "t", message(OFP13_VERSION, OFPT13_GET_ASYNC_REQUEST, () => {}), 9)!;
  assert.deepEqual(
    [...reply.subarray(8)],
    [0, 0, 0, 1, 0, 0, 0, 2, 0, 0, 0, 7, 0, 0, 0, 7, 0, 0, 0, 0, 0, 0, 0, 0],
  );
  assert.equal(reply[1], 27);
  assert.equal(new DataView(reply.buffer).getUint32(4), 9);
});

Deno.test("NXT_SET_PACKET_IN_FORMAT and NXT_SET_CONTROLLER_ID, and a bad format refused", () => {
  const a = new OfconnAsync();
  const p = peer({ version: OFP10_VERSION });
  const nx = (subtype: number, body: (w: WireWriter) => void) =>
    message(OFP10_VERSION, 4, (w) => {
      w.u32(NX_VENDOR_ID).u32(subtype);
      body(w);
    });
  assert.deepEqual(a.handle(p, "t", nx(16, (w) => w.u32(2)), 1), []);
  assert.equal(a.packetInFormat, "nxt_packet_in2");
  assert.throws(() => a.handle(p, "t", nx(16, (w) => w.u32(3)), 1), /OFPBRC_EPERM/);
  assert.equal(a.packetInFormat, "nxt_packet_in2");
  assert.deepEqual(a.handle(p, "t", nx(20, (w) => w.zeros(6).u16(5)), 1), []);
  assert.equal(a.controllerId, 5);
  assert.ok(a.packetIn(p, pin(1, 5)));
  assert.equal(a.wantsMiss(p), false, "only controller id 0 wants misses");
  // Anything else is not the asynchronous side's.
  assert.equal(a.handle(p, "t", nx(12, (w) => w.u32(0)), 1), undefined);
});

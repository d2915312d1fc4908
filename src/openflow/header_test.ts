import assert from "node:assert/strict";
import { clientMessage, recorded, serverMessage } from "../../tests/support/openflow/recorded.ts";
import {
  decodeHeader,
  encodeBarrierReply,
  encodeEchoReply,
  encodeHello,
  frameLength,
  helloVersions,
  negotiateVersion,
} from "./header.ts";

const OURS = new Set([1, 4]);

Deno.test("hello: ovs-ofctl's OF1.3-only bitmap and OVS's bitmap-less hello negotiate as in OVS", () => {
  const [of13] = recorded("show13");
  const clientHello = of13.client[0];
  assert.deepEqual([...helloVersions(clientHello)], [4]);
  assert.equal(negotiateVersion(OURS, helloVersions(clientHello)), 4);
  // OVS's own hello (1.0 to 1.5, no bitmap) against udpif's versions.
  const ovsHello = of13.server[0];
  assert.deepEqual([...helloVersions(ovsHello)].sort(), [1, 2, 3, 4, 5, 6]);
  assert.equal(negotiateVersion(OURS, helloVersions(ovsHello)), 4);
  const [of10] = recorded("show");
  assert.equal(negotiateVersion(OURS, helloVersions(of10.client[0])), 1);
  assert.equal(negotiateVersion(OURS, new Set([2, 3])), undefined);
});

Deno.test("hello: udpif's hello carries a bitmap, since 1.0 and 1.3 are not contiguous", () => {
  const h = encodeHello(OURS, 7);
  assert.deepEqual(decodeHeader(h), { version: 4, type: 0, length: 16, xid: 7 });
  assert.deepEqual([...helloVersions(h)].sort(), [1, 4]);
  const contiguous = encodeHello(new Set([1, 2, 3, 4]), 1);
  assert.equal(contiguous.length, 8);
  assert.deepEqual([...helloVersions(contiguous)].sort(), [1, 2, 3, 4]);
});

Deno.test("framing: waits for a whole message, refuses a length below the header's", () => {
  const flowMod = clientMessage("add_of10", 14);
  assert.equal(frameLength(flowMod.subarray(0, 7)), 0);
  assert.equal(frameLength(flowMod.subarray(0, 20)), 0);
  assert.equal(frameLength(flowMod), flowMod.length);
  assert.equal(frameLength(new Uint8Array([1, 0, 0, 4, 0, 0, 0, 0])), -1);
});

Deno.test("echo and barrier replies as OVS sends them", () => {
  const echo = new Uint8Array([1, 2, 0, 12, 0, 0, 0, 9, 0xde, 0xad, 0xbe, 0xef]);
  assert.deepEqual([...encodeEchoReply(echo)], [1, 3, 0, 12, 0, 0, 0, 9, 0xde, 0xad, 0xbe, 0xef]);
  const barrierReply = serverMessage("add_of10", 19);
  assert.deepEqual(encodeBarrierReply(1, decodeHeader(barrierReply).xid), barrierReply);
  const reply13 = serverMessage("add_of13", 21);
  assert.deepEqual(encodeBarrierReply(4, decodeHeader(reply13).xid), reply13);
});

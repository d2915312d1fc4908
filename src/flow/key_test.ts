import assert from "node:assert/strict";
import { F, FLOW_BYTES, FLOW_WORDS, OVS_TUNNEL_BYTES } from "./layout.ts";
import {
  bytesOf,
  equalUnderMask,
  exactField,
  getField,
  keyUint,
  maskKey,
  newKey,
  orInto,
  setField,
} from "./key.ts";

Deno.test("the key layout is OVS's struct flow after the tunnel, 64-bit aligned", () => {
  assert.equal(FLOW_BYTES % 8, 0);
  assert.equal(FLOW_WORDS * 4, FLOW_BYTES);
  // nw_src sits at byte 512 of struct flow, tp_src at 656 (OVS 3.1, x86-64).
  assert.equal(OVS_TUNNEL_BYTES + F.nw_src.off, 512);
  assert.equal(OVS_TUNNEL_BYTES + F.tp_src.off, 656);
  assert.equal(OVS_TUNNEL_BYTES + F.dl_dst.off, 472);
});

Deno.test("fields read back as the big-endian numbers written", () => {
  const k = newKey();
  const b = bytesOf(k);
  setField(b, F.tp_dst, 8080);
  setField(b, F.nw_dst, 0xc0a80001);
  setField(b, F.nw_proto, 6);
  assert.equal(getField(b, F.tp_dst), 8080);
  assert.equal(getField(b, F.nw_dst), 0xc0a80001);
  assert.equal(getField(b, F.nw_proto), 6);
  assert.deepEqual([...b.subarray(F.tp_dst.off, F.tp_dst.off + 2)], [0x1f, 0x90]);
});

Deno.test("keyUint reads a field within one word of the key as getUint reads its bytes", () => {
  const k = newKey();
  const b = bytesOf(k);
  setField(b, F.in_port, 0x01020304);
  setField(b, F.dl_type, 0x86dd);
  setField(b, F.nw_proto, 17);
  assert.equal(keyUint(k, F.in_port.off, 4), 0x01020304);
  assert.equal(keyUint(k, F.dl_type.off, 2), 0x86dd);
  assert.equal(keyUint(k, F.nw_proto.off, 1), 17);
  assert.throws(() => keyUint(k, 3, 2), RangeError, "a field across two words");
});

Deno.test("keys compare equal under a mask that hides where they differ", () => {
  const a = newKey(), c = newKey(), m = newKey();
  setField(bytesOf(a), F.tp_dst, 80);
  setField(bytesOf(c), F.tp_dst, 81);
  setField(bytesOf(a), F.nw_dst, 1);
  setField(bytesOf(c), F.nw_dst, 1);
  exactField(bytesOf(m), F.nw_dst);
  assert.ok(equalUnderMask(a, c, m));
  exactField(bytesOf(m), F.tp_dst);
  assert.ok(!equalUnderMask(a, c, m));
  const masked = newKey();
  maskKey(masked, a, m);
  assert.equal(getField(bytesOf(masked), F.tp_dst), 80);
  const w = newKey();
  orInto(w, m);
  assert.equal(getField(bytesOf(w), F.tp_dst), 0xffff);
});

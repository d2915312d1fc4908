import assert from "node:assert/strict";
import {
  BAD_UPCALL,
  classifyCookie,
  CONTROLLER_UPCALL,
  COOKIE_BYTES,
  FLOW_SAMPLE_UPCALL,
  IPFIX_UPCALL,
  SFLOW_UPCALL,
  SLOW_PATH_UPCALL,
  slowPathCookie,
} from "./cookie.ts";

const cookie = (type: number, len = COOKIE_BYTES) => {
  const c = new Uint8Array(len);
  c[0] = type;
  return c;
};

Deno.test("an action upcall is classified by its cookie's type", () => {
  assert.equal(classifyCookie(cookie(1), COOKIE_BYTES), SFLOW_UPCALL);
  assert.equal(classifyCookie(cookie(2), COOKIE_BYTES), SLOW_PATH_UPCALL);
  assert.equal(classifyCookie(cookie(3), COOKIE_BYTES), FLOW_SAMPLE_UPCALL);
  assert.equal(classifyCookie(cookie(4), COOKIE_BYTES), IPFIX_UPCALL);
  assert.equal(classifyCookie(cookie(5), COOKIE_BYTES), CONTROLLER_UPCALL);
});

Deno.test("a cookie of the wrong size or an unknown type is a bad upcall", () => {
  assert.equal(classifyCookie(cookie(2, 40), 40), BAD_UPCALL);
  assert.equal(classifyCookie(cookie(0), COOKIE_BYTES), BAD_UPCALL);
  assert.equal(classifyCookie(cookie(9), COOKIE_BYTES), BAD_UPCALL);
  assert.equal(classifyCookie(new Uint8Array(0), 0), BAD_UPCALL);
});

Deno.test("a slow-path cookie carries in_port, bridge UUID and reasons where OVS puts them", () => {
  const uuid = Uint8Array.from({ length: 16 }, (_, i) => i + 1);
  const c = slowPathCookie(7, uuid, 1 << 5);
  const v = new DataView(c.buffer);
  assert.equal(c.length, 48);
  assert.equal(v.getUint16(0, true), 2);
  assert.equal(v.getUint32(4, true), 7);
  assert.deepEqual(c.subarray(8, 24), uuid);
  assert.equal(v.getUint32(28, true), 32);
  assert.equal(classifyCookie(c, c.length), SLOW_PATH_UPCALL);
});

import assert from "node:assert/strict";
import { csum, recalcCsum16, recalcCsum32 } from "./checksum.ts";
import { parseHexPacket } from "./hex.ts";

Deno.test("the IPv4 header checksum of an OVS-sent packet verifies", () => {
  const h = new Uint8Array(20);
  parseHexPacket("45000068000000004006668e0a0000010a000002", h);
  assert.equal(csum(h, 0, 20), 0);
  h[10] = h[11] = 0;
  assert.equal(csum(h, 0, 20), 0x668e);
});

Deno.test("incremental updates equal a full recomputation", () => {
  let seed = 99;
  const rnd = () => (seed = (seed * 1103515245 + 12345) >>> 0) >>> 16;
  const b = new Uint8Array(40);
  for (let i = 0; i < 500; i++) {
    for (let j = 0; j < b.length; j++) b[j] = rnd() & 0xff;
    b[10] = b[11] = 0;
    const c = csum(b, 0, 40);
    const at = 2 * (rnd() % 20);
    if (at === 10) continue;
    const old16 = (b[at] << 8) | b[at + 1];
    const new16 = rnd() & 0xffff;
    b[at] = new16 >>> 8;
    b[at + 1] = new16 & 0xff;
    const want = csum(b, 0, 40);
    assert.equal(recalcCsum16(c, old16, new16) % 0xffff, want % 0xffff);
  }
  assert.equal(recalcCsum32(recalcCsum32(0x1234, 1, 2), 2, 1), 0x1234);
});

Deno.test("an odd length sums its last byte as the high half of a word", () => {
  assert.equal(csum(new Uint8Array([0x01]), 0, 1), 0xfeff);
});

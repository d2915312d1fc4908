import assert from "node:assert/strict";
import { PacketBuffer } from "./buffer.ts";

Deno.test("loading a packet copies its bytes and resets the metadata", () => {
  const b = new PacketBuffer(64);
  b.pktMark = 7;
  assert.ok(b.load(new Uint8Array([1, 2, 3, 4]), 3, 5));
  assert.deepEqual([...b.bytes()], [1, 2, 3]);
  assert.equal(b.inPort, 5);
  assert.equal(b.pktMark, 0);
});

Deno.test("a packet larger than the buffer is refused and leaves it unchanged", () => {
  const b = new PacketBuffer(4);
  b.load(new Uint8Array([9, 9]));
  assert.equal(b.load(new Uint8Array(5)), false);
  assert.deepEqual([...b.bytes()], [9, 9]);
});

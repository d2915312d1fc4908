import assert from "node:assert/strict";
import { newRingBuffer, RingConsumer, RingProducer, RingView } from "./ring.ts";

function pair(words: number) {
  const sab = newRingBuffer(words);
  return {
    p: new RingProducer(new RingView(sab)),
    c: new RingConsumer(new RingView(sab)),
  };
}

Deno.test("records are invisible to the consumer until the producer publishes", () => {
  const { p, c } = pair(64);
  const at = p.reserve(3);
  p.view.u32[at] = 7;
  assert.equal(c.next(), -1);
  p.publish();
  const got = c.next();
  assert.equal(c.view.u32[got], 7);
  assert.equal(c.payloadWords(got), 3);
  assert.equal(c.next(), -1);
});

Deno.test("a full ring refuses a record until the consumer releases space", () => {
  const { p, c } = pair(16);
  let n = 0;
  while (p.reserve(3) >= 0) n++;
  assert.equal(n, 4);
  p.publish();
  c.next();
  assert.equal(p.reserve(3), -1, "not released yet");
  c.release();
  assert.ok(p.reserve(3) >= 0);
});

Deno.test("records wrap with padding and keep their order and contents", () => {
  const { p, c } = pair(64);
  let sent = 0, got = 0;
  for (let round = 0; round < 1000; round++) {
    const len = 1 + (round % 11);
    const at = p.reserve(len);
    if (at >= 0) {
      for (let i = 0; i < len; i++) p.view.u32[at + i] = sent * 100 + i;
      sent++;
      p.publish();
    }
    if (round % 3 === 0 || at < 0) {
      for (let idx = c.next(); idx >= 0; idx = c.next()) {
        const words = c.payloadWords(idx);
        assert.ok(words >= c.view.u32[idx] % 100 + 1);
        assert.equal(Math.floor(c.view.u32[idx] / 100), got);
        got++;
      }
      c.release();
    }
  }
  assert.ok(sent > 500);
  for (let idx = c.next(); idx >= 0; idx = c.next()) got++;
  assert.equal(got, sent);
});

Deno.test("wait returns at once when data is already published", () => {
  const { p, c } = pair(32);
  p.reserve(1);
  p.publish();
  assert.equal(c.wait(10_000), true);
});

Deno.test("shrinking the last reserved record gives its unused words back", () => {
  const { p, c } = pair(64);
  const a = p.reserve(29);
  p.view.u32[a] = 1;
  p.shrinkLast(a, 3);
  const b = p.reserve(29);
  assert.notEqual(b, -1);
  p.view.u32[b] = 2;
  p.shrinkLast(b, 3);
  p.publish();
  const first = c.next(), second = c.next();
  assert.deepEqual([c.view.u32[first], c.payloadWords(first)], [1, 3]);
  assert.deepEqual([c.view.u32[second], c.payloadWords(second)], [2, 3]);
  assert.equal(second - first, 4);
  assert.equal(c.next(), -1);
});

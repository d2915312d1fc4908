import assert from "node:assert/strict";
import { Barrier } from "./barrier.ts";

Deno.test("a barrier of one never blocks", () => {
  const b = Barrier.create(1);
  b.block(0);
  b.block(0);
  assert.equal(b.size, 1);
  assert.equal(b.generation, 2);
});

Deno.test("a barrier rejects a size below one", () => {
  assert.throws(() => Barrier.create(0), /integer from 1 to 31/);
});

Deno.test("no participant leaves a round before all have arrived, round after round", async () => {
  const workers = 3;
  const rounds = 50;
  const b = Barrier.create(workers + 1);
  // Each worker writes its round number, then blocks twice per round; the
  // main thread checks between the two blocks that every worker is at the
  // same round, which only holds if nobody ran ahead.
  const progress = new Int32Array(new SharedArrayBuffer(4 * workers));
  const ws = Array.from(
    { length: workers },
    () =>
      new Worker(new URL("../../tests/support/lib/barrier_test_worker.ts", import.meta.url), {
        type: "module",
      }),
  );
  ws.forEach((w, i) => w.postMessage({ barrier: b.buffer, progress: progress.buffer, i, rounds }));
  for (let r = 1; r <= rounds; r++) {
    await b.blockAsync(workers);
    for (let i = 0; i < workers; i++) assert.equal(Atomics.load(progress, i), r);
    await b.blockAsync(workers);
  }
  ws.forEach((w) => w.terminate());
});

Deno.test("an arrival made for a dead participant completes the round, once, in its round only", () => {
  const b = Barrier.create(3);
  assert.equal(b.arrive(0), 0);
  assert.equal(b.arriveFor(2, 0), true);
  assert.equal(b.arriveFor(2, 0), false, "arriving twice changes nothing");
  assert.ok(b.hasArrived(2));
  assert.equal(b.arriveFor(1, 0), true, "the last arrival ends the round");
  assert.equal(b.generation, 1);
  assert.equal(b.hasArrived(0), false, "a new round starts empty");
  assert.equal(b.arriveFor(1, 0), false, "a stale round's arrival is refused");
  assert.equal(b.hasArrived(1), false);
  assert.throws(() => b.arrive(3), /participant 3 out of range 0..2/);
});

Deno.test("a participant blocked at the barrier is released by arrivals made for the others", async () => {
  const b = Barrier.create(2);
  const waiting = b.blockAsync(0);
  b.arriveFor(1, 0);
  await waiting;
  assert.equal(b.generation, 1);
});

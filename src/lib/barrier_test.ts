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

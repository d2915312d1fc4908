import assert from "node:assert/strict";
import { Seq } from "./seq.ts";

Deno.test("a new seq starts at 1 and change bumps it by one", () => {
  const s = Seq.create();
  assert.equal(s.read(), 1);
  assert.equal(s.change(), 2);
  assert.equal(s.read(), 2);
});

Deno.test("waiting on a value the seq no longer holds returns at once", () => {
  const s = Seq.create();
  const seen = s.read();
  s.change();
  assert.equal(s.wait(seen, 0), "changed");
});

Deno.test("waiting on the current value times out when nothing changes", () => {
  const s = Seq.create();
  assert.equal(s.wait(s.read(), 0), "timed-out");
});

Deno.test("changing a seq rings its bell", () => {
  const bell = Seq.create();
  const a = Seq.create(bell);
  const b = Seq.create(bell);
  const rung = bell.read();
  a.change();
  b.change();
  assert.equal(bell.read(), rung + 2);
});

Deno.test("waitAsync resolves when a worker changes the seq", async () => {
  const s = Seq.create();
  const seen = s.read();
  const w = new Worker(new URL("../../tests/support/lib/seq_test_worker.ts", import.meta.url), {
    type: "module",
  });
  const done = s.waitAsync(seen);
  w.postMessage({ buffer: s.buffer, index: s.index });
  assert.equal(await done, "changed");
  assert.equal(s.read(), seen + 1);
  w.terminate();
});

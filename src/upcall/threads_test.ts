import assert from "node:assert/strict";
import { threadCounts } from "./threads.ts";

Deno.test("by default a quarter of the cores plus one revalidate and the rest handle", () => {
  assert.deepEqual(threadCounts(0, 0, 2), { handlers: 1, revalidators: 1 });
  assert.deepEqual(threadCounts(0, 0, 1), { handlers: 1, revalidators: 1 });
  assert.deepEqual(threadCounts(0, 0, 8), { handlers: 5, revalidators: 3 });
  assert.deepEqual(threadCounts(0, 0, 16), { handlers: 11, revalidators: 5 });
});

Deno.test("a configured handler count leaves the remaining cores to revalidators", () => {
  assert.deepEqual(threadCounts(2, 0, 8), { handlers: 2, revalidators: 6 });
  assert.deepEqual(threadCounts(8, 0, 8), { handlers: 8, revalidators: 1 });
});

Deno.test("a configured revalidator count leaves the remaining cores to handlers", () => {
  assert.deepEqual(threadCounts(0, 2, 8), { handlers: 6, revalidators: 2 });
  assert.deepEqual(threadCounts(0, 9, 8), { handlers: 1, revalidators: 9 });
  assert.deepEqual(threadCounts(3, 4, 2), { handlers: 3, revalidators: 4 });
});

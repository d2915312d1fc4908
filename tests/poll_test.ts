import assert from "node:assert/strict";
import { pollUntil } from "./poll.ts";

Deno.test("a poll resolves once its condition holds", async () => {
  let n = 0;
  const timer = setInterval(() => n++, 1);
  await pollUntil(() => n >= 3, "three ticks");
  clearInterval(timer);
  assert.ok(n >= 3);
});

Deno.test("a poll whose condition never holds fails, naming what it waited for", async () => {
  await assert.rejects(pollUntil(() => false, "nothing", 20), /waiting for nothing/);
});

import assert from "node:assert/strict";
import { flowExtract } from "../flow/mod.ts";
import {
  COVERAGE_MAX_COUNTERS,
  COVERAGE_SEEN_WORDS,
  coverageFold,
  coverageNames,
} from "../lib/mod.ts";
import { warmUpPmdSetupPath } from "./_pmd_warmup.ts";

/** Every counter's total in this process. */
function totals(): Map<string, number> {
  const sums = new Float64Array(COVERAGE_MAX_COUNTERS);
  coverageFold(sums, new Uint32Array(COVERAGE_SEEN_WORDS));
  return new Map(coverageNames().map((name, slot) => [name, sums[slot]]));
}

/** The coverage counters a PMD warm-up moves when it runs where coverage is attached. */
function countersTheWarmUpMoves(): string[] {
  const before = totals();
  warmUpPmdSetupPath(flowExtract, 64);
  const after = totals();
  return [...after].filter(([name, n]) => n !== (before.get(name) ?? 0)).map(([name]) => name);
}

Deno.test("the PMD warm-up sets up every synthetic flow and then hits it", () => {
  assert.equal(warmUpPmdSetupPath(flowExtract, 300), 300);
});

Deno.test("the PMD warm-up's counts are the ones a fresh daemon is checked for", () => {
  // tests/cli/warmup_test.ts checks that a fresh daemon's coverage/show
  // has none of these: a counter added here must be added there.
  assert.deepEqual(countersTheWarmUpMoves().sort(), ["netdev_received", "netdev_sent"]);
});

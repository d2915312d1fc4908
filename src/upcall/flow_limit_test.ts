import assert from "node:assert/strict";
import {
  initialFlowLimit,
  nextFlowLimit,
  revalidationPeriod,
  slowDumpWarning,
} from "./flow_limit.ts";

Deno.test("the dynamic limit starts at the smaller of flow-limit and 10000", () => {
  assert.equal(initialFlowLimit(200000), 10000);
  assert.equal(initialFlowLimit(5000), 5000);
});

Deno.test("a dump over 2 s divides the limit by its whole seconds", () => {
  assert.equal(nextFlowLimit(90000, 3500, 50000, 200000), 30000);
  assert.equal(nextFlowLimit(10000, 2001, 0, 200000), 5000);
});

Deno.test("a dump between 1.3 s and 2 s takes a quarter off", () => {
  assert.equal(nextFlowLimit(10000, 1500, 50000, 200000), 7500);
  assert.equal(nextFlowLimit(10001, 2000, 0, 200000), 7500);
});

Deno.test("a fast dump grows the limit by 1000 only when the flows could use it", () => {
  // 9000 flows in 500 ms: 18000 flows/s capacity > 10000 -> grow.
  assert.equal(nextFlowLimit(10000, 500, 9000, 200000), 11000);
  // 4000 flows in 500 ms: 8000 < 10000 -> stay.
  assert.equal(nextFlowLimit(10000, 500, 4000, 200000), 10000);
  // Between 1 s and 1.3 s nothing changes.
  assert.equal(nextFlowLimit(10000, 1200, 90000, 200000), 10000);
});

Deno.test("the limit is clamped to at least 1000 and at most flow-limit", () => {
  assert.equal(nextFlowLimit(1500, 5000, 0, 200000), 1000);
  assert.equal(nextFlowLimit(200000, 1, 1000000, 200000), 200000);
  assert.equal(nextFlowLimit(10000, 1200, 0, 500), 500);
});

Deno.test("a sequence of dumps tunes the limit step by step", () => {
  let l = initialFlowLimit(200000);
  for (const d of [100, 100, 100]) l = nextFlowLimit(l, d, 20000, 200000);
  assert.equal(l, 13000);
  l = nextFlowLimit(l, 1400, 20000, 200000);
  assert.equal(l, 9750);
  l = nextFlowLimit(l, 4200, 20000, 200000);
  assert.equal(l, 2437);
});

Deno.test("only a dump over 2 s is worth a warning, in OVS's words", () => {
  assert.equal(slowDumpWarning(2000), undefined);
  assert.equal(slowDumpWarning(2001), "Spent an unreasonably long 2001ms dumping flows");
});

Deno.test("the revalidation period is the smaller of max-idle and max-revalidator", () => {
  assert.equal(revalidationPeriod(10000, 500), 500);
  assert.equal(revalidationPeriod(100, 500), 100);
});

import assert from "node:assert/strict";
import { FENCED, SeatLostError, WorkerSeats } from "./worker_seats.ts";
import { WorkerLifecycle, workerTransitionAllowed } from "./worker_lifecycle.ts";
import { coverageTotal } from "../lib/mod.ts";

Deno.test("a seat is fenced only once its worker has left its section", async () => {
  const seats = WorkerSeats.create();
  seats.seat("handler", 1, 5);
  seats.enter("handler", 1, 5);
  let fenced = false;
  const fence = seats.fence("handler", 1, 5, false).then(() => (fenced = true));
  await Promise.resolve();
  assert.equal(fenced, false, "not while the worker is busy");
  seats.leave("handler", 1, 5);
  // An Atomics.waitAsync does not keep Deno's event loop alive; a daemon's
  // sockets and timers do, this interval does here.
  const keepAlive = setInterval(() => {}, 1000);
  try {
    await fence;
  } finally {
    clearInterval(keepAlive);
  }
  assert.equal(seats.active("handler", 1), FENCED);
  assert.throws(() => seats.enter("handler", 1, 5), SeatLostError);
  // The replacement's seat: the old owner can never take it back.
  seats.seat("handler", 1, 6);
  assert.throws(() => seats.enter("handler", 1, 5), SeatLostError);
  seats.enter("handler", 1, 6);
  seats.leave("handler", 1, 6);
});

Deno.test("a worker that reported its failure is fenced at once, even mid-section", async () => {
  const seats = WorkerSeats.create();
  seats.seat("revalidator", 0, 9);
  seats.enter("revalidator", 0, 9);
  await seats.fence("revalidator", 0, 9, true);
  assert.equal(seats.active("revalidator", 0), FENCED);
});

Deno.test("an injected throw comes at the next section entry, once", () => {
  const seats = WorkerSeats.create();
  seats.seat("revalidator", 2, 3);
  seats.requestThrow("revalidator", 2);
  assert.throws(() => seats.enter("revalidator", 2, 3), /fault injection: revalidator 2 throws/);
  seats.leave("revalidator", 2, 3);
  seats.enter("revalidator", 2, 3);
});

Deno.test("seat indices are checked", () => {
  const seats = WorkerSeats.create();
  assert.throws(() => seats.seat("handler", 16, 2), /handler index 16 out of range 0..15/);
  assert.throws(() => seats.journal("revalidator", 31), /out of range 0..30/);
});

Deno.test("a seat's life follows its table; a refused step is counted and changes nothing", () => {
  assert.ok(workerTransitionAllowed("running", "dead"));
  assert.ok(!workerTransitionAllowed("dead", "running"));
  const life = new WorkerLifecycle("handler", 0);
  const refused = coverageTotal("worker_transition_refused") ?? 0;
  const restarted = coverageTotal("handler_restarted") ?? 0;
  assert.equal(life.to("running"), false, "stopped -> running skips starting");
  assert.equal(life.state, "stopped");
  assert.equal(coverageTotal("worker_transition_refused"), refused + 1);
  for (const s of ["starting", "running", "dead", "restarting", "running"] as const) {
    assert.ok(life.to(s), s);
  }
  assert.equal(life.restarts, 1);
  assert.equal(coverageTotal("handler_restarted"), restarted + 1);
});

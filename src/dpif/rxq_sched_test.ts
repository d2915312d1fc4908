import assert from "node:assert/strict";
import { assignRxqs, parseRxqAffinity, planRxqs, type RxqLoad } from "./rxq_sched.ts";

/** Queues given as "port:queue:cycles". */
const queues = (...spec: string[]): RxqLoad[] =>
  spec.map((s) => {
    const [portNo, queue, cycles] = s.split(":").map(Number);
    return { portNo, queue, cycles };
  });

Deno.test("roundrobin hands queues to PMDs in turn, in port order, whatever they cost", () => {
  const q = queues("1:0:5", "1:1:900", "2:0:0", "2:1:40", "3:0:7");
  assert.deepEqual(assignRxqs(q, 2, "roundrobin"), [0, 1, 0, 1, 0]);
  assert.deepEqual(assignRxqs(q, 3, "roundrobin"), [0, 1, 2, 0, 1]);
});

Deno.test("cycles sorts the busiest first and walks the PMDs up and down", () => {
  // Sorted: 1:1 (900), 2:1 (40), 3:0 (7), 1:0 (5), 2:0 (0); PMDs 0,1,2,2,1.
  const q = queues("1:0:5", "1:1:900", "2:0:0", "2:1:40", "3:0:7");
  assert.deepEqual(assignRxqs(q, 3, "cycles"), [2, 0, 1, 1, 2]);
  // Equal cycles: by port number, then queue id (OVS's tie-break), 0,1,1,0,0,1.
  const tied = queues("2:0:0", "1:0:0", "1:1:0", "2:1:0", "2:2:0", "3:0:0");
  assert.deepEqual(assignRxqs(tied, 2, "cycles"), [1, 0, 1, 0, 0, 1]);
});

Deno.test("group gives each queue, busiest first, to the least loaded PMD", () => {
  // 900 -> 0; 40 -> 1; 7 -> 1 (47 < 900); 5 -> 1; 0 cycles: the PMD with fewest queues (0).
  const q = queues("1:0:5", "1:1:900", "2:0:0", "2:1:40", "3:0:7");
  assert.deepEqual(assignRxqs(q, 2, "group"), [1, 0, 0, 1, 1]);
});

Deno.test("a pinned queue goes to its core's PMD and isolates it; one without a PMD is reassigned", () => {
  const q = queues("1:0:0", "1:1:0", "2:0:0", "2:1:0", "2:2:0", "3:0:0");
  q[2].pinnedCore = 1; // p2 q0
  q[4].pinnedCore = 1; // p2 q2
  q[1].pinnedCore = 5; // p1 q1: no PMD on core 5
  const plan = planRxqs(q, [0, 1], "cycles");
  assert.deepEqual(plan.pmd, [0, 0, 1, 0, 1, 0]);
  assert.deepEqual(plan.isolated, [false, true]);
  assert.deepEqual(plan.notes.slice(0, 3).map((n) => n.kind), ["unpinnable", "pinned", "pinned"]);
  // Not isolating (group only): the pinned PMD takes unpinned queues too.
  assert.deepEqual(planRxqs(q, [0, 1], "group", false).pmd, [0, 0, 1, 0, 1, 1]);
  assert.deepEqual(planRxqs(q, [0, 1], "cycles", false).isolated, [false, true], "forced on");
});

Deno.test("with every PMD isolated, an unpinned queue is not polled", () => {
  const q = queues("1:0:0", "1:1:0");
  q[0].pinnedCore = 3;
  const plan = planRxqs(q, [3], "roundrobin");
  assert.deepEqual(plan.pmd, [0, -1]);
  assert.deepEqual(plan.notes.map((n) => n.kind), ["pinned", "unpolled"]);
});

Deno.test("parseRxqAffinity reads QUEUE:CORE lists and names a bad entry", () => {
  assert.deepEqual(parseRxqAffinity("0:3,1:7", 3), [3, 7, undefined]);
  assert.deepEqual(parseRxqAffinity("5:1", 2), [undefined, undefined], "past n_rxq: ignored");
  assert.deepEqual(parseRxqAffinity("", 1), [undefined]);
  assert.throws(() => parseRxqAffinity("0:3,x", 2), /bad entry "x"/);
});

import assert from "node:assert/strict";
import { assignRxqs, type RxqLoad } from "./rxq_sched.ts";

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

import assert from "node:assert/strict";
import { FLOW_WORDS } from "../flow/mod.ts";
import { Emc } from "./emc.ts";
import { FlowOps } from "./flow_ops.ts";
import { FlowTable } from "./flow_table.ts";
import { DUMP_LANES, FlowDump, newDumpBatch } from "./flow_dump.ts";
import { PUT_CREATE } from "./protocol.ts";

const KEY_AT = 4, MASK_AT = KEY_AT + FLOW_WORDS, ACT_AT = MASK_AT + FLOW_WORDS;

/** A table of `n` flows, flow i with UFID word 0 = i + 1. */
function tableOf(n: number): FlowTable {
  const table = FlowTable.create(1024, 8, 96);
  const ops = new FlowOps(table, new Emc(table));
  const src = new Uint32Array(ACT_AT + 8);
  for (let i = 0; i < n; i++) {
    src.fill(0);
    src.set([i + 1, 0, 0, 0], 0);
    src[KEY_AT + 21] = 0x08000001;
    src[KEY_AT + 40] = i;
    src[MASK_AT + 21] = 0xffffffff;
    src[MASK_AT + 40] = 0xffffffff;
    assert.ok(
      ops.put(src, new Uint8Array(src.buffer), 0, KEY_AT, MASK_AT, ACT_AT, 0, PUT_CREATE, 0) >= 0,
    );
  }
  return table;
}

/**
 * One dump by `threads` threads taking a batch each in turn, the last
 * first when `reverse` (`slow` takes one per two turns); the UFIDs each got.
 */
function dumpBy(table: FlowTable, threads: number, slow = -1, reverse = false): number[][] {
  const dump = new FlowDump(table);
  const ts = Array.from({ length: threads }, (_, i) => dump.threadCreate(i));
  const got: number[][] = ts.map(() => []);
  const batch = newDumpBatch(7);
  const done = ts.map(() => false);
  for (let turn = 0; done.includes(false); turn++) {
    for (let o = 0; o < threads; o++) {
      const i = reverse ? threads - 1 - o : o;
      if (done[i] || (i === slow && turn % 2)) continue;
      const n = ts[i].next(batch, 7, true);
      if (n === 0) done[i] = true;
      for (let j = 0; j < n; j++) got[i].push(batch[j].ufid[0]);
    }
  }
  return got;
}

Deno.test("flow dump: threads in their own lanes get every flow once, and the same flows again in the next dump", () => {
  // 10 runs of 64 slots: as many in each lane, so neither thread has to take over.
  const table = tableOf(640);
  const first = dumpBy(table, DUMP_LANES);
  const all = first.flat().sort((a, b) => a - b);
  assert.deepEqual(all, Array.from({ length: 640 }, (_, i) => i + 1), "each flow once");
  for (const got of first) assert.ok(got.length > 0, "every thread had a share");
  assert.deepEqual(dumpBy(table, DUMP_LANES, -1, true), first, "the same share each dump");
});

Deno.test("flow dump: a slow thread's lane is taken over, and more threads than lanes still see each flow once", () => {
  const table = tableOf(700);
  const slow = dumpBy(table, DUMP_LANES, 0);
  assert.deepEqual(slow.flat().sort((a, b) => a - b), Array.from({ length: 700 }, (_, i) => i + 1));
  assert.ok(slow[1].length > slow[0].length, "the fast thread took runs of the slow one's lane");
  const many = dumpBy(table, DUMP_LANES + 1);
  assert.deepEqual(many.flat().sort((a, b) => a - b), Array.from({ length: 700 }, (_, i) => i + 1));
  const one = dumpBy(table, 1);
  assert.deepEqual(
    one[0].slice().sort((a, b) => a - b),
    Array.from({ length: 700 }, (_, i) => i + 1),
  );
  // A thread of no lane (dpctl's) walks the slots in order, a lane's run after the other's.
  const t = new FlowDump(table).threadCreate(), batch = newDumpBatch(50);
  const order: number[] = [];
  for (let n; (n = t.next(batch, 50, true)) > 0;) {
    for (let j = 0; j < n; j++) order.push(batch[j].ufid[0]);
  }
  assert.deepEqual(order, Array.from({ length: 700 }, (_, i) => i + 1));
});

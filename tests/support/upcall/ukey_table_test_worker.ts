/// <reference no-default-lib="true" />
/// <reference lib="deno.worker" />
/**
 * Test helper: installs ukeys for UFIDs 0..n-1 into a shared table and
 * once every worker is done installing, removes every other one it
 * installed (while the others do the same), then reports what it saw.
 */
import { Barrier } from "../../../src/lib/mod.ts";
import { UkeyTable } from "../../../src/upcall/ukey_table.ts";

interface Job {
  table: SharedArrayBuffer;
  barrier: SharedArrayBuffer;
  n: number;
  /** This worker's seat at the barrier. */
  member: number;
}

self.onmessage = (e: MessageEvent<Job>) => {
  const t = new UkeyTable(e.data.table);
  const ufid = new Uint32Array(4);
  let installed = 0, duplicates = 0, removed = 0;
  const mine: number[] = [];
  for (let i = 0; i < e.data.n; i++) {
    ufid.set([i, i * 7, 3, 4]);
    const s = t.alloc();
    t.init(s, ufid, 0, i, 1, 0, 0);
    const r = t.install(s);
    if (r === "installed") {
      installed++;
      mine.push(s);
    } else {
      duplicates++;
      t.free(s);
    }
  }
  Barrier.attach(e.data.barrier).block(e.data.member);
  for (let j = 0; j < mine.length; j += 2) {
    const s = mine[j];
    const u = t.umapOf(s);
    t.lockUmap(u);
    t.removeLocked(s);
    t.unlockUmap(u);
    removed++;
  }
  self.postMessage({ installed, duplicates, removed });
};

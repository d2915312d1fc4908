/// <reference no-default-lib="true" />
/// <reference lib="deno.worker" />
/**
 * Test helper: a handler finishing an install. Takes the lock of a
 * VISIBLE ukey, says so, waits until told to go on, then (a little
 * later, so that the other thread is waiting by then) moves the ukey to
 * OPERATIONAL and releases it.
 */
import { setLockOwner } from "../../../src/lib/mod.ts";
import { UKEY_OPERATIONAL, UkeyTable } from "../../../src/upcall/ukey_table.ts";

interface Job {
  table: SharedArrayBuffer;
  slot: number;
  /** Word 0: set to 1 by the test when it goes to take the lock. */
  go: SharedArrayBuffer;
}

self.onmessage = (e: MessageEvent<Job>) => {
  setLockOwner(2);
  const t = new UkeyTable(e.data.table);
  const go = new Int32Array(e.data.go);
  t.lock(e.data.slot);
  self.postMessage("held");
  Atomics.wait(go, 0, 0);
  Atomics.wait(go, 1, 0, 50);
  t.transition(e.data.slot, UKEY_OPERATIONAL);
  t.unlock(e.data.slot);
  self.postMessage("released");
};

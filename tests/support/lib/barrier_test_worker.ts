/// <reference no-default-lib="true" />
/// <reference lib="deno.worker" />
/** Test helper: a barrier participant that records its round before each block. */
import { Barrier } from "../../../src/lib/barrier.ts";

interface Job {
  barrier: SharedArrayBuffer;
  progress: SharedArrayBuffer;
  i: number;
  rounds: number;
}

self.onmessage = (e: MessageEvent<Job>) => {
  const b = Barrier.attach(e.data.barrier);
  const progress = new Int32Array(e.data.progress);
  for (let r = 1; r <= e.data.rounds; r++) {
    Atomics.store(progress, e.data.i, r);
    b.block(e.data.i);
    b.block(e.data.i);
  }
};

/**
 * Flow dumps: walk a flow table's slots while the PMD keeps forwarding.
 *
 * A dump is a shared cursor (one Int32 in a SharedArrayBuffer, so any
 * worker can join with `FlowDump.attach`); each dump thread claims runs
 * of slots with Atomics.add and copies the live ones out under the
 * table's seqlock. Every slot is claimed by exactly one thread once, and a
 * flow never changes slot, so a flow that exists for the whole dump is
 * returned exactly once; flows created or deleted meanwhile may or may
 * not appear, as in OVS.
 */
import { FlowSnapshot, type FlowTable } from "./flow_table.ts";

/** Flows returned per `next()` at most (REVALIDATE_MAX_BATCH). */
export const DUMP_MAX_BATCH = 50;
const CLAIM = 64;

export class FlowDump {
  readonly cursor: Int32Array;

  constructor(readonly table: FlowTable, readonly shared = new SharedArrayBuffer(8)) {
    this.cursor = new Int32Array(shared);
  }

  /** Joins a dump created elsewhere (its `shared` buffer). */
  static attach(table: FlowTable, shared: SharedArrayBuffer): FlowDump {
    return new FlowDump(table, shared);
  }

  threadCreate(): FlowDumpThread {
    return new FlowDumpThread(this);
  }
}

export class FlowDumpThread {
  private pos = 0;
  private end = 0;

  constructor(readonly dump: FlowDump) {}

  /**
   * Fills `batch[0..]` with up to `max` (<= batch.length) flows and returns
   * how many; 0 means this thread's share of the dump is done.
   */
  next(batch: FlowSnapshot[], max = DUMP_MAX_BATCH): number {
    const t = this.dump.table;
    const limit = Math.min(max, batch.length);
    let n = 0;
    while (n < limit) {
      if (this.pos >= this.end) {
        const hwm = t.highWater();
        const start = Atomics.add(this.dump.cursor, 0, CLAIM);
        if (start >= hwm) break;
        this.pos = start;
        this.end = Math.min(start + CLAIM, hwm);
      }
      if (t.read(this.pos++, batch[n])) n++;
    }
    return n;
  }
}

/** A batch of reusable snapshots for `next()`. */
export function newDumpBatch(n = DUMP_MAX_BATCH): FlowSnapshot[] {
  return Array.from({ length: n }, () => new FlowSnapshot());
}

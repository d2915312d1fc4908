/**
 * Flow dumps: walk the PMDs' flow tables' slots while the PMDs keep
 * forwarding, PMD after PMD (as OVS's dpif_netdev_flow_dump_next walks
 * one pmd's flow table after another), each flow tagged with its PMD.
 *
 * A dump is a shared cursor per table (Int32s in a SharedArrayBuffer, so
 * any worker can join with `FlowDump.attach`); each dump thread claims
 * runs of slots with Atomics.add and copies the live ones out under the
 * table's seqlock. Every slot is claimed by exactly one thread once, and a
 * flow never changes slot, so a flow that exists for the whole dump is
 * returned exactly once; flows created or deleted meanwhile may or may
 * not appear, as in OVS.
 */
import { FlowSnapshot, type FlowTable } from "./flow_table.ts";

/** Flows returned per `next()` at most (REVALIDATE_MAX_BATCH). */
export const DUMP_MAX_BATCH = 50;
const CLAIM = 64;

/** Flow tables a dump cursor buffer can cover (MAX_PMDS). */
const MAX_TABLES = 16;

export class FlowDump {
  readonly cursor: Int32Array;
  readonly tables: readonly FlowTable[];

  /** `tables`: the PMDs' tables in PMD order (or one table). */
  constructor(
    tables: FlowTable | readonly FlowTable[],
    readonly shared = new SharedArrayBuffer(MAX_TABLES * 4),
  ) {
    this.tables = Array.isArray(tables) ? tables : [tables as FlowTable];
    if (this.tables.length > shared.byteLength / 4) {
      throw new RangeError(`a dump cursor of ${shared.byteLength} bytes covers fewer tables`);
    }
    this.cursor = new Int32Array(shared);
  }

  /** Joins a dump created elsewhere (its `shared` buffer). */
  static attach(tables: FlowTable | readonly FlowTable[], shared: SharedArrayBuffer): FlowDump {
    return new FlowDump(tables, shared);
  }

  threadCreate(): FlowDumpThread {
    return new FlowDumpThread(this);
  }
}

export class FlowDumpThread {
  private pos = 0;
  private end = 0;
  /** The table this thread claims slots of now. */
  private t = 0;

  constructor(readonly dump: FlowDump) {}

  /**
   * Fills `batch[0..]` with up to `max` (<= batch.length) flows and returns
   * how many; 0 means this thread's share of the dump is done. A `terse`
   * dump fills UFIDs and statistics only (FlowTable.readTerse): what a
   * revalidator needs for most flows; `FlowTable.readRest` completes one.
   */
  next(batch: FlowSnapshot[], max = DUMP_MAX_BATCH, terse = false): number {
    const tables = this.dump.tables;
    const limit = Math.min(max, batch.length);
    let n = 0;
    while (n < limit && this.t < tables.length) {
      const t = tables[this.t];
      if (this.pos >= this.end) {
        const hwm = t.highWater();
        const start = Atomics.add(this.dump.cursor, this.t, CLAIM);
        if (start >= hwm) {
          this.t++;
          continue;
        }
        this.pos = start;
        this.end = Math.min(start + CLAIM, hwm);
      }
      if (terse ? t.readTerse(this.pos++, batch[n]) : t.read(this.pos++, batch[n])) {
        batch[n++].pmd = this.t;
      }
    }
    return n;
  }
}

/** A batch of reusable snapshots for `next()`. */
export function newDumpBatch(n = DUMP_MAX_BATCH): FlowSnapshot[] {
  return Array.from({ length: n }, () => new FlowSnapshot());
}

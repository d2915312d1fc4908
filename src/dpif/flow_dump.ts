/**
 * Flow dumps: walk the PMDs' flow tables' slots while the PMDs keep
 * forwarding, PMD after PMD (as OVS's dpif_netdev_flow_dump_next walks
 * one pmd's flow table after another), each flow tagged with its PMD.
 *
 * A dump is a set of shared cursors per table (Int32s in a
 * SharedArrayBuffer, so any worker can join with `FlowDump.attach`); each
 * dump thread claims runs of slots with Atomics.add and copies the live
 * ones out under the table's seqlock. The runs are dealt to DUMP_LANES
 * lanes in turn, a cursor each: a thread claims from its own lane first
 * and then from the others, so with as many threads as lanes each thread
 * usually gets the same flows dump after dump (a revalidator's xlate
 * caches live in its own worker: a flow that changes thread needs a new
 * one), and a thread that finishes early still takes over the rest.
 * Every run belongs to one lane and is claimed once from it, and a flow
 * never changes slot, so a flow that exists for the whole dump is
 * returned exactly once; flows created or deleted meanwhile may or may
 * not appear, as in OVS.
 */
import { FlowSnapshot, type FlowTable } from "./flow_table.ts";

/** Flows returned per `next()` at most (REVALIDATE_MAX_BATCH). */
export const DUMP_MAX_BATCH = 50;
const CLAIM = 64;
/** Lanes of runs per table: the usual revalidator count here. */
export const DUMP_LANES = 2;

/** Flow tables a dump cursor buffer can cover (MAX_PMDS). */
const MAX_TABLES = 16;
const ALL_DRAINED = (1 << DUMP_LANES) - 1;
/** Bytes of a dump's shared cursors. */
export const DUMP_CURSOR_BYTES = MAX_TABLES * DUMP_LANES * 4;

export class FlowDump {
  readonly cursor: Int32Array;
  readonly tables: readonly FlowTable[];

  /** `tables`: the PMDs' tables in PMD order (or one table). */
  constructor(
    tables: FlowTable | readonly FlowTable[],
    readonly shared = new SharedArrayBuffer(DUMP_CURSOR_BYTES),
  ) {
    this.tables = Array.isArray(tables) ? tables : [tables as FlowTable];
    if (this.tables.length * DUMP_LANES > shared.byteLength / 4) {
      throw new RangeError(`a dump cursor of ${shared.byteLength} bytes covers fewer tables`);
    }
    this.cursor = new Int32Array(shared);
  }

  /** Joins a dump created elsewhere (its `shared` buffer). */
  static attach(tables: FlowTable | readonly FlowTable[], shared: SharedArrayBuffer): FlowDump {
    return new FlowDump(tables, shared);
  }

  /**
   * A thread that claims runs from lane `thread % DUMP_LANES` first; without
   * `thread`, from each lane in turn (alone, it walks the slots in order).
   */
  threadCreate(thread?: number): FlowDumpThread {
    return new FlowDumpThread(this, thread === undefined ? -1 : thread % DUMP_LANES);
  }
}

export class FlowDumpThread {
  private pos = 0;
  private end = 0;
  /** The table this thread claims slots of now. */
  private t = 0;
  /** Bit i: this thread found lane i of table `t` drained. */
  private drained = 0;
  /** The lane to claim from next, for a thread without one of its own. */
  private turn = 0;

  /** `lane`: the lane to claim from first, -1 for each in turn. */
  constructor(readonly dump: FlowDump, private readonly lane = -1) {}

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
        if (this.drained === ALL_DRAINED) {
          this.drained = 0;
          this.t++;
          continue;
        }
        let lane = this.lane >= 0 ? this.lane : this.turn++ % DUMP_LANES;
        while (this.drained & (1 << lane)) lane = (lane + 1) % DUMP_LANES;
        const hwm = t.highWater();
        // The lane's k-th run is run k * DUMP_LANES + lane of the table.
        const k = Atomics.add(this.dump.cursor, this.t * DUMP_LANES + lane, 1);
        const start = (k * DUMP_LANES + lane) * CLAIM;
        if (start >= hwm) {
          this.drained |= 1 << lane;
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

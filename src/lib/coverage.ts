/**
 * Coverage counters under OVS's names (`dpif_flow_put`, `upcall_flow_limit_hit`,
 * ...), countable from any Web Worker without a message.
 *
 * A module defines its counters once, at load time:
 *
 *     const covFlowPut = coverageCounter("dpif_flow_put");
 *     covFlowPut.inc();
 *
 * All counters live in one SharedArrayBuffer: a name table (so that a
 * name gets the same slot in every thread, whatever order modules load
 * in) and one row of Uint32 counts per thread (so threads never write the
 * same word). The table starts with OVS's counter names reserved in OVS's
 * registration order (`coverage_order.ts`), so listings come out in the
 * order `ovs-appctl coverage/show` uses. The main thread creates the
 * buffer when this module loads;
 * a worker calls `attachCoverage(coverageBuffer-from-main)` at start-up,
 * which moves its already-defined counters (and anything they counted)
 * into the shared table. Totals and rates are computed by the main
 * thread in `coverage_report.ts`.
 *
 * Thread-safety: `inc`/`add` touch only the calling thread's row, with
 * a plain add (no allocation): the row has one writer, and an aligned
 * 32-bit store never tears for the main thread's `Atomics.load`, while an
 * `Atomics.add` cost ~100 ns (a tenth of a revalidator's translation).
 * Threads beyond the last row share it, and add to it with `Atomics.add`. Defining a counter takes a spin lock on
 * the name table, which only happens at module load. Rows are 32-bit and
 * wrap; the reader folds them often enough (`coverageFold`) to count
 * every wrap.
 */
import { OVS_COVERAGE_ORDER } from "./coverage_order.ts";

export const COVERAGE_MAX_COUNTERS = 1024;
export const COVERAGE_MAX_THREADS = 64;
/** Longest counter name, in bytes. */
export const COVERAGE_NAME_BYTES = 48;

const LOCK = 0;
const N_COUNTERS = 1;
const N_THREADS = 2;
const HEADER_BYTES = 16;
const NAMES_OFFSET = HEADER_BYTES;
const ROWS_OFFSET = NAMES_OFFSET + COVERAGE_MAX_COUNTERS * COVERAGE_NAME_BYTES;
const BUFFER_BYTES = ROWS_OFFSET + COVERAGE_MAX_THREADS * COVERAGE_MAX_COUNTERS * 4;

interface Table {
  sab: SharedArrayBuffer;
  header: Int32Array;
  names: Uint8Array;
  rows: Uint32Array;
  /** First word of this thread's row in `rows`. */
  row: number;
  /** Whether other threads count into this row too (the last one, when threads outnumber rows). */
  shared: boolean;
}

/** One named event counter. */
export class CoverageCounter {
  readonly name: string;
  #slot: number;

  constructor(name: string, slot: number) {
    this.name = name;
    this.#slot = slot;
  }

  /** The counter's index in the shared name table. */
  get slot(): number {
    return this.#slot;
  }

  /** Counts one event. */
  inc(): void {
    const t = table, i = t.row + this.#slot;
    if (t.shared) Atomics.add(t.rows, i, 1);
    else t.rows[i]++;
  }

  /** Counts `n` events (a non-negative integer). */
  add(n: number): void {
    const t = table, i = t.row + this.#slot;
    if (t.shared) Atomics.add(t.rows, i, n);
    else t.rows[i] += n;
  }

  /** Moves the counter to its slot in a newly attached table. */
  rebind(slot: number): void {
    this.#slot = slot;
  }
}

const encoder = new TextEncoder();
const decoder = new TextDecoder();

function makeTable(sab: SharedArrayBuffer): Table {
  const header = new Int32Array(sab, 0, HEADER_BYTES / 4);
  const names = new Uint8Array(sab, NAMES_OFFSET, COVERAGE_MAX_COUNTERS * COVERAGE_NAME_BYTES);
  const rows = new Uint32Array(sab, ROWS_OFFSET, COVERAGE_MAX_THREADS * COVERAGE_MAX_COUNTERS);
  // Threads beyond the last row share it (and count into it with Atomics.add).
  const joined = Atomics.add(header, N_THREADS, 1);
  const thread = Math.min(joined, COVERAGE_MAX_THREADS - 1);
  return {
    sab,
    header,
    names,
    rows,
    row: thread * COVERAGE_MAX_COUNTERS,
    shared: joined >= COVERAGE_MAX_THREADS - 1,
  };
}

/** A new table whose first slots are OVS's counters, in OVS's listing order. */
function newTable(): Table {
  const t = makeTable(new SharedArrayBuffer(BUFFER_BYTES));
  OVS_COVERAGE_ORDER.forEach((name, slot) => {
    t.names.set(encoder.encode(name), slot * COVERAGE_NAME_BYTES);
  });
  Atomics.store(t.header, N_COUNTERS, OVS_COVERAGE_ORDER.length);
  return t;
}

let table = newTable();
const local = new Map<string, CoverageCounter>();

function lock(t: Table): void {
  while (Atomics.compareExchange(t.header, LOCK, 0, 1) !== 0) {
    // Held only for a name-table scan at module load: spin.
  }
}

function unlock(t: Table): void {
  Atomics.store(t.header, LOCK, 0);
}

function nameAt(t: Table, slot: number): string {
  const start = slot * COVERAGE_NAME_BYTES;
  let end = start;
  while (end < start + COVERAGE_NAME_BYTES && t.names[end] !== 0) end++;
  return decoder.decode(t.names.slice(start, end));
}

/** Finds or adds `name` in the shared table and returns its slot. */
function slotFor(t: Table, name: string, bytes: Uint8Array): number {
  lock(t);
  try {
    const n = Atomics.load(t.header, N_COUNTERS);
    for (let i = 0; i < n; i++) {
      if (nameAt(t, i) === name) return i;
    }
    if (n >= COVERAGE_MAX_COUNTERS) {
      throw new RangeError(`too many coverage counters (max ${COVERAGE_MAX_COUNTERS})`);
    }
    t.names.set(bytes, n * COVERAGE_NAME_BYTES);
    Atomics.store(t.header, N_COUNTERS, n + 1);
    return n;
  } finally {
    unlock(t);
  }
}

function checkName(name: string): Uint8Array {
  const bytes = encoder.encode(name);
  if (bytes.length === 0 || bytes.length > COVERAGE_NAME_BYTES || !/^[A-Za-z0-9_]+$/.test(name)) {
    throw new RangeError(`bad coverage counter name "${name}"`);
  }
  return bytes;
}

/**
 * The counter called `name`, defined on first use. Defining the same name
 * twice (in any thread) gives the same counter.
 */
export function coverageCounter(name: string): CoverageCounter {
  const known = local.get(name);
  if (known) return known;
  const counter = new CoverageCounter(name, slotFor(table, name, checkName(name)));
  local.set(name, counter);
  return counter;
}

/** The buffer to pass to workers (in their start message). */
export function coverageBuffer(): SharedArrayBuffer {
  return table.sab;
}

/**
 * Makes this thread count into the shared `buffer` (from the main
 * thread's `coverageBuffer()`). Counters defined before the call keep
 * working and keep what they counted so far.
 */
export function attachCoverage(buffer: SharedArrayBuffer): void {
  if (buffer.byteLength !== BUFFER_BYTES) {
    throw new RangeError(`coverage buffer must be ${BUFFER_BYTES} bytes, got ${buffer.byteLength}`);
  }
  if (buffer === table.sab) return;
  const old = table;
  const next = makeTable(buffer);
  for (const counter of local.values()) {
    const pending = Atomics.load(old.rows, old.row + counter.slot);
    const slot = slotFor(next, counter.name, checkName(counter.name));
    counter.rebind(slot);
    if (pending) Atomics.add(next.rows, next.row + slot, pending);
  }
  table = next;
}

/** Names of all counters defined by any thread, in definition order. */
export function coverageNames(): string[] {
  const n = Atomics.load(table.header, N_COUNTERS);
  const out: string[] = [];
  for (let i = 0; i < n; i++) out.push(nameAt(table, i));
  return out;
}

/**
 * Adds into `sums[slot]` everything counted since `seen` was last
 * updated, for every slot, and updates `seen` (one Uint32 per thread row
 * and slot, start it zeroed). Call at least once per 2^32 events of any
 * one counter in one thread; in practice every few seconds is plenty.
 */
export function coverageFold(sums: Float64Array, seen: Uint32Array): void {
  const n = Atomics.load(table.header, N_COUNTERS);
  const threads = Math.min(Atomics.load(table.header, N_THREADS), COVERAGE_MAX_THREADS);
  for (let th = 0; th < threads; th++) {
    const base = th * COVERAGE_MAX_COUNTERS;
    for (let s = 0; s < n; s++) {
      const now = Atomics.load(table.rows, base + s);
      sums[s] += (now - seen[base + s]) >>> 0;
      seen[base + s] = now;
    }
  }
}

/** Size of the `seen` array `coverageFold` needs. */
export const COVERAGE_SEEN_WORDS = COVERAGE_MAX_THREADS * COVERAGE_MAX_COUNTERS;

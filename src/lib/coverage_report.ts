/**
 * Totals, rates and the `coverage/show` text, computed the way OVS's
 * lib/coverage.c does: every COVERAGE_RUN_INTERVAL (5 s of the udpif
 * clock, so `time/warp` moves it) the count since the last run is spread
 * over the elapsed 5-second slots, 12 of which make the last minute and
 * 60 minutes the last hour.
 *
 * Thread-safety: main thread only (it owns the folded totals).
 */
import { hashInt, hashString } from "./hash.ts";
import { timeMsec } from "./clock.ts";
import {
  COVERAGE_MAX_COUNTERS,
  COVERAGE_SEEN_WORDS,
  coverageFold,
  coverageNames,
} from "./coverage.ts";

export const COVERAGE_RUN_INTERVAL = 5000;
const MIN_AVG_LEN = 60000 / COVERAGE_RUN_INTERVAL;
const HR_AVG_LEN = 60;

const totals = new Float64Array(COVERAGE_MAX_COUNTERS);
const seen = new Uint32Array(COVERAGE_SEEN_WORDS);
const lastTotal = new Float64Array(COVERAGE_MAX_COUNTERS);
const minute = new Uint32Array(COVERAGE_MAX_COUNTERS * MIN_AVG_LEN);
const hour = new Uint32Array(COVERAGE_MAX_COUNTERS * HR_AVG_LEN);
let idxCount = 0;
let runTime = -Infinity;

/** One counter as `coverage/show` reports it. */
export interface CoverageEntry {
  name: string;
  total: number;
  /** Events per second over the last 5 s, minute and hour. */
  rate5s: number;
  rateMinute: number;
  rateHour: number;
}

/**
 * Advances the rate windows when the clock has passed the next 5-second
 * mark. The daemon calls it from a timer and after every warp.
 */
export function coverageRun(now = timeMsec()): void {
  coverageFold(totals, seen);
  if (runTime === -Infinity) runTime = now + COVERAGE_RUN_INTERVAL;
  if (now < runTime) return;
  const slots = Math.floor((now - runTime) / COVERAGE_RUN_INTERVAL) + 1;
  const n = coverageNames().length;
  for (let i = 0; i < n; i++) {
    const count = totals[i] - lastTotal[i];
    lastTotal[i] = totals[i];
    const portion = Math.floor(count / slots);
    let idx = idxCount;
    for (let j = 0; j < slots; j++) {
      const mIdx = idx % MIN_AVG_LEN;
      const hIdx = Math.floor(idx / MIN_AVG_LEN);
      const m = portion + (j === slots - 1 ? count % slots : 0);
      minute[i * MIN_AVG_LEN + mIdx] = m;
      hour[i * HR_AVG_LEN + hIdx] = mIdx === 0 ? m : hour[i * HR_AVG_LEN + hIdx] + m;
      idx = (idx + 1) % (MIN_AVG_LEN * HR_AVG_LEN);
    }
  }
  idxCount = (idxCount + slots) % (MIN_AVG_LEN * HR_AVG_LEN);
  runTime = now + COVERAGE_RUN_INTERVAL;
}

/** The total of counter `name` across all threads, or undefined if no thread defined it. */
export function coverageTotal(name: string): number | undefined {
  const slot = coverageNames().indexOf(name);
  if (slot < 0) return undefined;
  coverageFold(totals, seen);
  return totals[slot];
}

function sum(a: Uint32Array, from: number, len: number): number {
  let s = 0;
  for (let i = from; i < from + len; i++) s += a[i];
  return s;
}

/** Every defined counter with its total and rates, in definition order. */
export function coverageRead(): CoverageEntry[] {
  coverageFold(totals, seen);
  // Unsigned arithmetic as in OVS: at idxCount 0 this reads slot 3, not 11.
  const last = ((idxCount - 1) >>> 0) % MIN_AVG_LEN;
  return coverageNames().map((name, i) => ({
    name,
    total: totals[i],
    rate5s: minute[i * MIN_AVG_LEN + last] * 1000 / COVERAGE_RUN_INTERVAL,
    rateMinute: sum(minute, i * MIN_AVG_LEN, MIN_AVG_LEN) / 60,
    rateHour: sum(hour, i * HR_AVG_LEN, HR_AVG_LEN) / 3600,
  }));
}

/**
 * OVS's coverage hash: counters grouped by equal non-zero totals (largest
 * first, names in order within a group), each group's rank and names
 * hashed, so two runs that hit the same events the same number of times
 * agree.
 */
export function coverageHash(entries: CoverageEntry[]): number {
  const sorted = [...entries].sort((a, b) =>
    a.total !== b.total ? b.total - a.total : a.name < b.name ? -1 : a.name > b.name ? 1 : 0
  );
  let hash = 0;
  let groups = 0;
  for (let i = 0; i < sorted.length;) {
    if (!sorted[i].total) break;
    groups++;
    hash = hashInt(i, hash);
    let j = i;
    for (; j < sorted.length && sorted[j].total === sorted[i].total; j++) {
      hash = hashString(sorted[j].name, hash);
    }
    i = j;
  }
  return hashInt(groups, hash);
}

/** The reply to `coverage/show`, byte for byte as OVS formats it. */
export function coverageShow(): string {
  const entries = coverageRead();
  const hash = coverageHash(entries).toString(16).padStart(8, "0");
  const lines = [
    `Event coverage, avg rate over last: ${
      COVERAGE_RUN_INTERVAL / 1000
    } seconds, last minute, last hour,  hash=${hash}:`,
  ];
  let neverHit = 0;
  for (const e of entries) {
    if (!e.total) {
      neverHit++;
      continue;
    }
    lines.push(
      `${e.name.padEnd(24)} ${e.rate5s.toFixed(1).padStart(5)}/sec ${
        e.rateMinute.toFixed(3).padStart(9)
      }/sec ${e.rateHour.toFixed(4).padStart(13)}/sec   total: ${e.total}`,
    );
  }
  lines.push(`${neverHit} events never hit`);
  return lines.join("\n") + "\n";
}

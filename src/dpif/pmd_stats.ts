/**
 * `dpif-netdev/pmd-stats-show`, `pmd-stats-clear` and `pmd-perf-show`
 * (its summary; pmd-perf-metrics histograms are not kept) as OVS 3.1's
 * dpif_netdev_pmd_info prints them: one block per poll thread, sorted by
 * core id, so the main thread (NON_PMD_CORE_ID) comes last. With PMD
 * threads (pmd-cpu-mask, n-pmd-threads) OVS still has its main thread,
 * which polls only non-PMD ports; here the first PMD polls those, so the
 * main thread's block shows no traffic. Counters this datapath has no
 * equivalent of (partial hardware offload,
 * optimized miniflow extract, simple match hits) are 0, as in OVS when
 * those features are off. OVS counts TSC cycles; a PMD here measures
 * time, and prints nanoseconds where OVS prints cycles.
 */
import type { DpifNetdev } from "./dpif_netdev.ts";
import {
  type DatapathShared,
  NON_PMD_CORE_ID,
  ST_BUSY_ITERATIONS,
  ST_BUSY_MS,
  ST_CLEARED_AT,
  ST_EMC_HIT,
  ST_ERRORS,
  ST_IDLE_MS,
  ST_ITERATIONS,
  ST_LOST,
  ST_MEGAFLOW_HIT,
  ST_MISSED,
  ST_RECIRC,
  ST_RX,
  ST_SENT_BATCHES,
  ST_SENT_PKTS,
  ST_SMC_HIT,
  ST_SUBTABLE_LOOKUPS,
  ST_TX_DROPPED,
  STATS_BASELINE,
} from "./_shared.ts";

export interface PmdStats {
  packetsReceived: number;
  /** Passes through the pipeline after a recirc action. */
  recirculations: number;
  emcHits: number;
  smcHits: number;
  megaflowHits: number;
  /** Subtables visited by megaflow hits (OVS's "avg. subtable lookups per megaflow hit" numerator). */
  subtableLookups: number;
  missed: number;
  lost: number;
  /** Packets output to a port that does not exist. */
  txDropped: number;
  /** Packets and commands dropped because processing them threw. */
  errors: number;
  /** Packets output to ports, and the output batches they went in. */
  sentPackets: number;
  sentBatches: number;
  /** Poll rounds, and those that handled packets or commands. */
  iterations: number;
  busyIterations: number;
  /** Time (ms) in rounds that did work, and in rounds that found none. */
  busyMs: number;
  idleMs: number;
}

/** Counter slot `i` of PMD k (of every PMD, summed, without k) since its last clear. */
export function pmdCounter(sh: DatapathShared, k: number | undefined, i: number): number {
  let n = 0;
  for (let j = 0; j < sh.nPmds; j++) {
    if (k !== undefined && j !== k) continue;
    const s = sh.pmds[j].stats;
    n += s[i] - s[STATS_BASELINE + i];
  }
  return n;
}

/** pmd-stats-clear for PMD k (every PMD without k): a baseline every thread sees. */
export function clearPmdCounters(sh: DatapathShared, k?: number): void {
  const now = performance.now();
  for (let j = 0; j < sh.nPmds; j++) {
    if (k !== undefined && j !== k) continue;
    const s = sh.pmds[j].stats;
    for (let i = 0; i < STATS_BASELINE; i++) s[STATS_BASELINE + i] = s[i];
    s[ST_CLEARED_AT] = now;
  }
}

/** A PmdStats from a reader of counter slots (ST_*). */
export function readPmdStats(stat: (slot: number) => number): PmdStats {
  return {
    packetsReceived: stat(ST_RX),
    recirculations: stat(ST_RECIRC),
    emcHits: stat(ST_EMC_HIT),
    smcHits: stat(ST_SMC_HIT),
    megaflowHits: stat(ST_MEGAFLOW_HIT),
    subtableLookups: stat(ST_SUBTABLE_LOOKUPS),
    missed: stat(ST_MISSED),
    lost: stat(ST_LOST),
    txDropped: stat(ST_TX_DROPPED),
    errors: stat(ST_ERRORS),
    sentPackets: stat(ST_SENT_PKTS),
    sentBatches: stat(ST_SENT_BATCHES),
    iterations: stat(ST_ITERATIONS),
    busyIterations: stat(ST_BUSY_ITERATIONS),
    busyMs: stat(ST_BUSY_MS),
    idleMs: stat(ST_IDLE_MS),
  };
}

const f2 = (x: number) => x.toFixed(2);
const ns = (ms: number) => Math.round(ms * 1e6);
const ZERO = readPmdStats(() => 0);

/** format_pmd_thread: the block's title line. */
export function pmdThreadTitle(core: number): string {
  return core === NON_PMD_CORE_ID ? "main thread:\n" : `pmd thread numa_id 0 core_id ${core}:\n`;
}

function statsBlock(core: number, s: PmdStats): string {
  const passes = s.packetsReceived > 0
    ? (s.packetsReceived + s.recirculations) / s.packetsReceived
    : 0;
  const lookupsPerHit = s.megaflowHits > 0 ? s.subtableLookups / s.megaflowHits : 0;
  const perBatch = s.sentBatches > 0 ? s.sentPackets / s.sentBatches : 0;
  let out = pmdThreadTitle(core) +
    `  packets received: ${s.packetsReceived}\n` +
    `  packet recirculations: ${s.recirculations}\n` +
    `  avg. datapath passes per packet: ${f2(passes)}\n` +
    "  phwol hits: 0\n" +
    "  mfex opt hits: 0\n" +
    "  simple match hits: 0\n" +
    `  emc hits: ${s.emcHits}\n` +
    `  smc hits: ${s.smcHits}\n` +
    `  megaflow hits: ${s.megaflowHits}\n` +
    `  avg. subtable lookups per megaflow hit: ${f2(lookupsPerHit)}\n` +
    `  miss with success upcall: ${s.missed}\n` +
    `  miss with failed upcall: ${s.lost}\n` +
    `  avg. packets per output batch: ${f2(perBatch)}\n`;
  // Only PMD threads measure their rounds (OVS's main thread shows no cycles here).
  const idle = ns(s.idleMs), busy = ns(s.busyMs), total = idle + busy;
  if (core === NON_PMD_CORE_ID || total === 0) return out;
  out += `  idle cycles: ${idle} (${f2((idle / total) * 100)}%)\n` +
    `  processing cycles: ${busy} (${f2((busy / total) * 100)}%)\n`;
  if (s.packetsReceived === 0) return out;
  const n = s.packetsReceived;
  return out + `  avg cycles per packet: ${f2(total / n)} (${total}/${n})\n` +
    `  avg processing cycles per packet: ${f2(busy / n)} (${busy}/${n})\n`;
}

/** The PMD indexes in the order OVS lists its poll threads (by core id), filtered by `-pmd`. */
function sortedPmds(dp: DpifNetdev, core?: number): number[] {
  return dp.activePmds()
    .sort((a, b) => dp.pmdCore(a) - dp.pmdCore(b))
    .filter((k) => core === undefined || dp.pmdCore(k) === core);
}

/** Whether OVS would also list its main thread (the PMDs are PMD threads). */
function hasMainThreadBlock(dp: DpifNetdev, core?: number): boolean {
  return dp.pmdCore(dp.activePmds()[0] ?? 0) !== NON_PMD_CORE_ID &&
    (core === undefined || core === NON_PMD_CORE_ID);
}

export function pmdStatsShow(dp: DpifNetdev, core?: number): string {
  let out = "";
  for (const k of sortedPmds(dp, core)) out += statsBlock(dp.pmdCore(k), dp.pmdStats(k));
  if (hasMainThreadBlock(dp, core)) out += statsBlock(NON_PMD_CORE_ID, ZERO);
  return out;
}

/** pmd_perf_format_overall_stats, with ns for TSC cycles (a 1 GHz clock). */
function perfBlock(core: number, s: PmdStats, durationS: number): string {
  const usPerCycle = 1e6 / 1e9;
  const idle = ns(s.idleMs), busy = ns(s.busyMs), total = idle + busy;
  const it = s.iterations, busyIt = s.busyIterations, idleIt = it - busyIt;
  const w = (n: number) => String(n).padStart(12);
  const p = (x: number, width = 5) => (Number.isFinite(x) ? x.toFixed(1) : "-nan").padStart(width);
  const wall = new Date().toISOString().slice(11, 23);
  let out = `\nTime: ${wall}\nMeasurement duration: ${durationS.toFixed(3)} s\n\n` +
    pmdThreadTitle(core) + "\n";
  if (durationS === 0) return out;
  out += `  Iterations:         ${w(it)}  (${f2(it ? (total * usPerCycle) / it : NaN)} us/it)\n` +
    `  - Used TSC cycles:  ${w(total)}  (${
      p((100 * (total / durationS)) / 1e9)
    } % of total cycles)\n` +
    `  - idle iterations:  ${w(idleIt)}  (${p((100 * idle) / total)} % of used cycles)\n` +
    `  - busy iterations:  ${w(busyIt)}  (${p((100 * busy) / total)} % of used cycles)\n` +
    `  - sleep iterations: ${w(0)}  (${p(0)} % of iterations)\n` +
    `  Sleep time (us):    ${w(0)}  (${"0".padStart(3)} us/iteration avg.)\n`;
  const rx = s.packetsReceived;
  if (rx > 0) {
    const pct = (n: number) => p((100 * n) / rx);
    const lookups = s.megaflowHits ? s.subtableLookups / s.megaflowHits : 0;
    out +=
      `  Rx packets:         ${w(rx)}  (${Math.round(rx / durationS / 1000)} Kpps, ${
        Math.round(busy / rx)
      } cycles/pkt)\n` +
      `  Datapath passes:    ${w(rx)}  (${f2(1)} passes/pkt)\n` +
      `  - PHWOL hits:       ${w(0)}  (${pct(0)} %)\n` +
      `  - MFEX Opt hits:    ${w(0)}  (${pct(0)} %)\n` +
      `  - Simple Match hits:${w(0)}  (${pct(0)} %)\n` +
      `  - EMC hits:         ${w(s.emcHits)}  (${pct(s.emcHits)} %)\n` +
      `  - SMC hits:         ${w(s.smcHits)}  (${pct(s.smcHits)} %)\n` +
      `  - Megaflow hits:    ${w(s.megaflowHits)}  (${pct(s.megaflowHits)} %, ${
        f2(lookups)
      } subtbl lookups/hit)\n` +
      `  - Upcalls:          ${w(s.missed)}  (${pct(s.missed)} %, ${(0).toFixed(1)} us/upcall)\n` +
      `  - Lost upcalls:     ${w(s.lost)}  (${pct(s.lost)} %)\n`;
  } else out += `  Rx packets:         ${w(0)}\n`;
  if (s.sentPackets > 0) {
    out +=
      `  Tx packets:         ${w(s.sentPackets)}  (${
        Math.round(s.sentPackets / durationS / 1000)
      } Kpps)\n` +
      `  Tx batches:         ${w(s.sentBatches)}  (${
        f2(s.sentPackets / s.sentBatches)
      } pkts/batch)\n`;
  } else out += `  Tx packets:         ${w(0)}\n\n`;
  return out;
}

/** `dpif-netdev/pmd-perf-show`: PMD threads only (OVS skips its main thread). */
export function pmdPerfShow(dp: DpifNetdev, core?: number): string {
  let out = "";
  for (const k of sortedPmds(dp, core)) {
    const c = dp.pmdCore(k);
    if (c === NON_PMD_CORE_ID) continue;
    const duration = (performance.now() - dp.shared.pmds[k].stats[ST_CLEARED_AT]) / 1000;
    out += perfBlock(c, dp.pmdStats(k), duration);
  }
  return out;
}

/** Arguments of the dpif-netdev/pmd-* commands, read as dpif_netdev_pmd_info reads them. */
export interface PmdInfoArgs {
  /** `-pmd N`: only the thread on core N (a non-number filters nothing). */
  core?: number;
  /** `-secs N` (pmd-rxq-show). */
  secs?: number;
}

export function parsePmdInfoArgs(args: string[], rxqShow = false): PmdInfoArgs {
  const out: PmdInfoArgs = {};
  for (let i = 0; i < args.length; i++) {
    if (args[i] === "-pmd" && i + 1 < args.length) {
      const n = args[++i];
      if (/^[0-9]+$/.test(n) && Number(n) <= NON_PMD_CORE_ID) out.core = Number(n);
    } else if (rxqShow && args[i] === "-secs" && i + 1 < args.length) {
      const n = args[++i];
      out.secs = /^[0-9]+$/.test(n) ? Number(n) : Infinity;
    }
    // Anything else names a datapath; with one datapath it is not checked.
  }
  return out;
}

/**
 * `dpif-netdev/pmd-stats-show` and `pmd-stats-clear` `[-pmd core] [dp]`.
 */
export function pmdInfoCommand(dp: DpifNetdev, args: string[], clear: boolean): string {
  const { core } = parsePmdInfoArgs(args);
  if (!clear) return pmdStatsShow(dp, core);
  for (const k of sortedPmds(dp, core)) dp.pmdStatsClear(k);
  return "";
}

/**
 * `dpif-netdev/pmd-perf-show [-nh] [-it N] [-ms N] [-pmd core] [dp]`: the
 * history options lead and only shape the detailed metrics, which are
 * not kept here (OVS's pmd-perf-metrics is off by default too).
 */
export function pmdPerfShowCommand(dp: DpifNetdev, args: string[]): string {
  let i = 0;
  while (i < args.length) {
    if (args[i] === "-nh") i++;
    else if ((args[i] === "-it" || args[i] === "-ms") && i + 1 < args.length) i += 2;
    else break;
  }
  return pmdPerfShow(dp, parsePmdInfoArgs(args.slice(i)).core);
}

/**
 * `dpif-netdev/pmd-rxq-show [-pmd core] [-secs secs] [dp]` and
 * `dpif-netdev/pmd-rxq-rebalance [dp]`, as OVS 3.1's
 * pmd_info_show_rxq and dpif_netdev_pmd_rebalance print them. A queue's
 * "pmd usage" is its processing time over its PMD's measuring intervals
 * (5 s each, the last 60 s at most) and "NOT AVAIL" until the first
 * interval ends; the PMD's overhead is what its busy time has beyond its
 * queues', which here is not measured apart, so it is 0.
 */
import type { DpifNetdev } from "./dpif_netdev.ts";
import { PMD_INTERVAL_MS } from "./_pmd_rxq.ts";
import { NON_PMD_CORE_ID, RQ_HISTORY, RQ_NEXT, RXQ_INTERVALS, ST_INTERVAL_MS } from "./_shared.ts";
import { parsePmdInfoArgs } from "./pmd_stats.ts";

const MAX_SECS = (PMD_INTERVAL_MS * RXQ_INTERVALS) / 1000;
const INTERVAL_SECS = PMD_INTERVAL_MS / 1000;

/** get_interval_values: the sum of the last `n` completed intervals of rx queue `ring`. */
function lastIntervals(dp: DpifNetdev, ring: number, n: number): number {
  const t = dp.shared.rxqTime, at = dp.shared.rxqT(ring);
  let sum = 0, idx = t[at + RQ_NEXT];
  for (let i = 0; i < n; i++) {
    idx = (idx + RXQ_INTERVALS - 1) % RXQ_INTERVALS;
    sum += t[at + RQ_HISTORY + idx];
  }
  return sum;
}

export function pmdRxqShow(dp: DpifNetdev, args: string[]): string {
  const { core, secs: asked } = parsePmdInfoArgs(args, true);
  const secs = !asked || asked > MAX_SECS
    ? MAX_SECS
    : Math.ceil(asked / INTERVAL_SECS) * INTERVAL_SECS;
  const intervals = Math.ceil(secs / INTERVAL_SECS);
  const order = dp.activePmds()
    .sort((a, b) => dp.pmdCore(a) - dp.pmdCore(b))
    .filter((k) => core === undefined || dp.pmdCore(k) === core);
  const mainListed = dp.pmdCore(dp.activePmds()[0] ?? 0) !== NON_PMD_CORE_ID &&
    (core === undefined || core === NON_PMD_CORE_ID);
  if (order.length === 0 && !mainListed) return "";
  let out = `Displaying last ${secs} seconds pmd usage %\n`;
  const rxqs = dp.rxqList();
  for (const k of order) {
    const c = dp.pmdCore(k);
    if (c === NON_PMD_CORE_ID) continue;
    out += `pmd thread numa_id 0 core_id ${c}:\n  isolated : ${dp.pmdControl.isolated(k)}\n`;
    const total = dp.shared.pmds[k].stats[ST_INTERVAL_MS] * intervals;
    const mine = rxqs.filter((q) => q.pmd === k);
    for (const q of mine) {
      const usage = total
        ? `${
          String(Math.floor((lastIntervals(dp, q.ring, intervals) * 100) / total)).padStart(2)
        } %`
        : "NOT AVAIL";
      out += `  port: ${q.name.padEnd(16)}  queue-id: ${String(q.queue).padStart(2)} (enabled)   ` +
        `pmd usage: ${usage}\n`;
    }
    if (mine.length) out += `  overhead: ${total ? " 0 %" : "NOT AVAIL"}\n`;
  }
  return out;
}

/** `dpif-netdev/pmd-rxq-rebalance`: reassigns the rx queues now (OVS: at its next reconfigure). */
export function pmdRxqRebalance(dp: DpifNetdev): string {
  dp.rxqRebalance();
  return "pmd rxq rebalance requested.\n";
}

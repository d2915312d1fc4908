/**
 * `dpif-netdev/pmd-stats-show` text, as OVS 3.1 prints it for a datapath
 * whose ports are polled by the main thread (dummy ports): one "main
 * thread:" block. Counters this datapath has no equivalent of (partial
 * hardware offload, optimized miniflow extract, and simple match hits)
 * are 0, as in OVS when those features are off.
 */
import type { DpifNetdev } from "./dpif_netdev.ts";

const f2 = (x: number) => x.toFixed(2);

export function pmdStatsShow(dp: DpifNetdev): string {
  const s = dp.pmdStats();
  const passes = s.packetsReceived > 0
    ? (s.packetsReceived + s.recirculations) / s.packetsReceived
    : 0;
  const lookupsPerHit = s.megaflowHits > 0 ? s.subtableLookups / s.megaflowHits : 0;
  const perBatch = s.sentBatches > 0 ? s.sentPackets / s.sentBatches : 0;
  return "main thread:\n" +
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
}

/** The core id OVS gives its main thread's (non-PMD) poll context. */
const NON_PMD_CORE_ID = 0xffff_ffff;

/**
 * `dpif-netdev/pmd-stats-show` and `pmd-stats-clear` `[-pmd core] [dp]`,
 * as `dpif_netdev_pmd_info` reads its arguments: `-pmd N` keeps only the
 * thread on core N (the main thread's is NON_PMD_CORE_ID, so any other
 * number selects nothing; a non-number filters nothing), and a datapath
 * name is not needed, nor checked, when there is only one datapath.
 */
export function pmdInfoCommand(dp: DpifNetdev, args: string[], clear: boolean): string {
  let core: number | undefined;
  for (let i = 0; i < args.length; i++) {
    if (args[i] === "-pmd" && i + 1 < args.length) {
      const n = args[++i];
      if (/^[0-9]+$/.test(n) && Number(n) <= NON_PMD_CORE_ID) core = Number(n);
    }
  }
  if (core !== undefined && core !== NON_PMD_CORE_ID) return "";
  if (!clear) return pmdStatsShow(dp);
  dp.pmdStatsClear();
  return "";
}

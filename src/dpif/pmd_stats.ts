/**
 * `dpif-netdev/pmd-stats-show` text, as OVS 3.1 prints it for a datapath
 * whose ports are polled by the main thread (dummy ports): one "main
 * thread:" block. Counters this datapath has no equivalent of (packet
 * recirculations, partial hardware offload, optimized miniflow extract,
 * simple match and SMC hits) are 0, as in OVS when those features are off.
 */
import type { DpifNetdev } from "./dpif_netdev.ts";

const f2 = (x: number) => x.toFixed(2);

export function pmdStatsShow(dp: DpifNetdev): string {
  const s = dp.pmdStats();
  const passes = s.packetsReceived > 0 ? 1 : 0;
  const lookupsPerHit = s.megaflowHits > 0 ? s.subtableLookups / s.megaflowHits : 0;
  const perBatch = s.sentBatches > 0 ? s.sentPackets / s.sentBatches : 0;
  return "main thread:\n" +
    `  packets received: ${s.packetsReceived}\n` +
    "  packet recirculations: 0\n" +
    `  avg. datapath passes per packet: ${f2(passes)}\n` +
    "  phwol hits: 0\n" +
    "  mfex opt hits: 0\n" +
    "  simple match hits: 0\n" +
    `  emc hits: ${s.emcHits}\n` +
    "  smc hits: 0\n" +
    `  megaflow hits: ${s.megaflowHits}\n` +
    `  avg. subtable lookups per megaflow hit: ${f2(lookupsPerHit)}\n` +
    `  miss with success upcall: ${s.missed}\n` +
    `  miss with failed upcall: ${s.lost}\n` +
    `  avg. packets per output batch: ${f2(perBatch)}\n`;
}

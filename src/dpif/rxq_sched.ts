/**
 * Rx queue to PMD assignment, after OVS's rxq_scheduling() and
 * sched_numa_list_schedule() (lib/dpif-netdev.c) with one NUMA node and
 * no pinned queues, for other_config:pmd-rxq-assign:
 *
 * - `roundrobin`: queues in port order, PMDs in turn 0,1,..,n-1,0,1,..
 * - `cycles` (the default): queues sorted by their measured processing
 *   time, busiest first (ties by port number, then queue id), PMDs in an
 *   up-and-down walk 0,1,..,n-1,n-1,..,1,0,0,..
 * - `group`: the same order, each queue to the PMD with the least time
 *   so far (or the fewest queues, while the queue has no time measured).
 *
 * `assignRxqs` is the pure algorithm; `scheduleRxqs` applies it to a
 * datapath's shared port table (PMDs pick the change up at their next
 * poll) and logs the assignment as OVS does.
 *
 * Thread-safety: `scheduleRxqs` runs on the thread that owns the ports.
 */
import { getLogger } from "../lib/mod.ts";
import {
  C_PORTS_SEQ,
  type DatapathShared,
  MAX_RXQ,
  NON_PMD_CORE_ID,
  RQ_HISTORY,
  RXQ_INTERVALS,
  rxqIndex,
} from "./_shared.ts";

const log = getLogger("dpif_netdev");

export const RXQ_ASSIGN_TYPES = ["cycles", "roundrobin", "group"] as const;
export type RxqAssign = typeof RXQ_ASSIGN_TYPES[number];

export interface RxqLoad {
  portNo: number;
  queue: number;
  /** Measured processing time (any unit; only compared). */
  cycles: number;
}

/** The PMD index for each of `rxqs` (given in port order), over `nPmds` PMDs. */
export function assignRxqs(rxqs: readonly RxqLoad[], nPmds: number, algo: RxqAssign): number[] {
  const order = rxqs.map((_, i) => i);
  if (algo !== "roundrobin") {
    order.sort((a, b) => {
      const qa = rxqs[a], qb = rxqs[b];
      if (qa.cycles !== qb.cycles) return qb.cycles - qa.cycles;
      if (qa.portNo !== qb.portNo) return qa.portNo - qb.portNo;
      return qa.queue - qb.queue;
    });
  }
  const load = new Array<number>(nPmds).fill(0);
  const count = new Array<number>(nPmds).fill(0);
  let cur = 0, up = true;
  const nextRoundRobin = (updown: boolean): number => {
    const k = cur;
    if (up) {
      if (cur === nPmds - 1) {
        if (updown) up = false;
        else cur = 0;
      } else cur++;
    } else if (cur === 0) up = true;
    else cur--;
    return k;
  };
  const out = new Array<number>(rxqs.length);
  for (const i of order) {
    const q = rxqs[i];
    let k: number;
    if (algo === "group") {
      k = 0;
      for (let p = 1; p < nPmds; p++) {
        if (q.cycles ? load[p] < load[k] : count[p] < count[k]) k = p;
      }
    } else k = nextRoundRobin(algo === "cycles");
    load[k] += q.cycles;
    count[k]++;
    out[i] = k;
  }
  return out;
}

/** A port as the scheduler sees it. */
export interface SchedPort {
  portNo: number;
  name: string;
  index: number;
  nRxq: number;
}

/**
 * Assigns every rx queue of `ports` to one of the datapath's PMDs with
 * `algo`, from the processing time each queue took over the last
 * intervals, and publishes the result.
 */
export function scheduleRxqs(
  sh: DatapathShared,
  ports: readonly SchedPort[],
  algo: RxqAssign,
): void {
  const sorted = [...ports].sort((a, b) => a.portNo - b.portNo);
  const rxqs: (RxqLoad & { name: string; ring: number })[] = [];
  for (const p of sorted) {
    for (let q = 0; q < Math.min(p.nRxq, MAX_RXQ); q++) {
      const ring = rxqIndex(p.index, q);
      let cycles = 0;
      if (algo !== "roundrobin") {
        const at = sh.rxqT(ring) + RQ_HISTORY;
        for (let i = 0; i < RXQ_INTERVALS; i++) cycles += sh.rxqTime[at + i];
      }
      rxqs.push({ portNo: p.portNo, queue: q, cycles, name: p.name, ring });
    }
  }
  const pmds = assignRxqs(rxqs, sh.nPmds, algo);
  const threads = sh.pmds[0].core !== NON_PMD_CORE_ID;
  if (threads && rxqs.length) {
    log.info(`Performing pmd to rx queue assignment using ${algo} algorithm.`);
  }
  rxqs.forEach((q, i) => {
    Atomics.store(sh.rxqPmd, q.ring, pmds[i]);
    if (!threads) return;
    const core = String(sh.pmds[pmds[i]].core).padStart(2);
    const cyc = algo === "roundrobin"
      ? ""
      : ` (measured processing cycles ${Math.round(q.cycles)})`;
    log.info(`Core ${core} on numa node 0 assigned port '${q.name}' rx queue ${q.queue}${cyc}.`);
  });
  Atomics.add(sh.ctl, C_PORTS_SEQ, 1);
  sh.ringAll();
}

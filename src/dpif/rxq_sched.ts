/**
 * Rx queue to PMD assignment, after OVS's rxq_scheduling() and
 * sched_numa_list_schedule() (lib/dpif-netdev.c) with one NUMA node, for
 * other_config:pmd-rxq-assign:
 *
 * - `roundrobin`: queues in port order, PMDs in turn 0,1,..,n-1,0,1,..
 * - `cycles` (the default): queues sorted by their measured processing
 *   time, busiest first (ties by port number, then queue id), PMDs in an
 *   up-and-down walk 0,1,..,n-1,n-1,..,1,0,0,..
 * - `group`: the same order, each queue to the PMD with the least time
 *   so far (or the fewest queues, while the queue has no time measured).
 *
 * A queue pinned to a core (Interface other_config:pmd-rxq-affinity) goes
 * to the PMD on that core first, and that PMD is then isolated: no
 * unpinned queue goes to it, unless other_config:pmd-rxq-isolate=false
 * (only with `group`, as OVS allows). A queue pinned to a core with no PMD
 * is assigned like an unpinned one, with OVS's warning.
 *
 * `planRxqs` is the pure algorithm; `scheduleRxqs` applies it to a
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
  /** The core the queue is pinned to (pmd-rxq-affinity), if any. */
  pinnedCore?: number;
}

/** What `planRxqs` decided, in the order OVS logs it. */
export type RxqNote =
  | { kind: "pinned"; rxq: number; pmd: number }
  | { kind: "unpinnable"; rxq: number }
  | { kind: "assigned"; rxq: number; pmd: number }
  | { kind: "unpolled"; rxq: number };

export interface RxqPlan {
  /** Per queue: the position in `cores` of the PMD polling it, -1 for none. */
  pmd: number[];
  /** Per PMD position: isolated (polls only queues pinned to it). */
  isolated: boolean[];
  notes: RxqNote[];
}

/**
 * Assigns `rxqs` (given in port order) to the PMDs on `cores` (ascending)
 * with `algo`; `isolate` is pmd-rxq-isolate (forced on unless `group`).
 */
export function planRxqs(
  rxqs: readonly RxqLoad[],
  cores: readonly number[],
  algo: RxqAssign,
  isolate = true,
): RxqPlan {
  const nPmds = cores.length;
  const iso = isolate || algo !== "group";
  const load = new Array<number>(nPmds).fill(0);
  const count = new Array<number>(nPmds).fill(0);
  const isolated = new Array<boolean>(nPmds).fill(false);
  const pmd = new Array<number>(rxqs.length).fill(-1);
  const notes: RxqNote[] = [];
  const unpinned: number[] = [];
  rxqs.forEach((q, i) => {
    const k = q.pinnedCore === undefined ? -1 : cores.indexOf(q.pinnedCore);
    if (k < 0) {
      if (q.pinnedCore !== undefined) notes.push({ kind: "unpinnable", rxq: i });
      unpinned.push(i);
      return;
    }
    if (iso) isolated[k] = true;
    load[k] += q.cycles;
    count[k]++;
    pmd[i] = k;
    notes.push({ kind: "pinned", rxq: i, pmd: k });
  });
  if (algo !== "roundrobin") {
    unpinned.sort((a, b) => {
      const qa = rxqs[a], qb = rxqs[b];
      if (qa.cycles !== qb.cycles) return qb.cycles - qa.cycles;
      if (qa.portNo !== qb.portNo) return qa.portNo - qb.portNo;
      return qa.queue - qb.queue;
    });
  }
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
  // sched_pmd_next_noniso_rr: the walk may repeat a PMD, so look 2n steps.
  const nextNonIsolated = (updown: boolean): number => {
    for (let i = 0; i < nPmds * 2; i++) {
      const k = nextRoundRobin(updown);
      if (!isolated[k]) return k;
    }
    return -1;
  };
  for (const i of unpinned) {
    const q = rxqs[i];
    let k = -1;
    if (algo === "group") {
      for (let p = 0; p < nPmds; p++) {
        if (isolated[p]) continue;
        if (k < 0 || (q.cycles ? load[p] < load[k] : count[p] < count[k])) k = p;
      }
    } else k = nextNonIsolated(algo === "cycles");
    if (k < 0) {
      notes.push({ kind: "unpolled", rxq: i });
      continue;
    }
    load[k] += q.cycles;
    count[k]++;
    pmd[i] = k;
    notes.push({ kind: "assigned", rxq: i, pmd: k });
  }
  return { pmd, isolated, notes };
}

/** The PMD index for each of `rxqs` (given in port order, none pinned), over `nPmds` PMDs. */
export function assignRxqs(rxqs: readonly RxqLoad[], nPmds: number, algo: RxqAssign): number[] {
  return planRxqs(rxqs, Array.from({ length: nPmds }, (_, k) => k), algo).pmd;
}

/** A port as the scheduler sees it. */
export interface SchedPort {
  portNo: number;
  name: string;
  index: number;
  nRxq: number;
  /** Per queue id: the core it is pinned to (pmd-rxq-affinity), or undefined. */
  affinity?: readonly (number | undefined)[];
}

/**
 * Assigns every rx queue of `ports` to one of the PMDs `pmds` (indices
 * into the datapath's PMDs) with `algo`, from the processing time each
 * queue took over the last intervals, and publishes the result. Returns
 * the isolated PMDs' indices.
 */
export function scheduleRxqs(
  sh: DatapathShared,
  ports: readonly SchedPort[],
  algo: RxqAssign,
  pmds: readonly number[],
  isolate = true,
): Set<number> {
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
      const pinnedCore = p.affinity?.[q];
      rxqs.push({ portNo: p.portNo, queue: q, cycles, name: p.name, ring, pinnedCore });
    }
  }
  const byCore = [...pmds].sort((a, b) => sh.pmds[a].core - sh.pmds[b].core);
  const cores = byCore.map((k) => sh.pmds[k].core);
  const plan = planRxqs(rxqs, cores, algo, isolate);
  const threads = cores.length > 0 && cores[0] !== NON_PMD_CORE_ID;
  const cyc = (q: RxqLoad) =>
    algo === "roundrobin" ? "" : ` (measured processing cycles ${Math.round(q.cycles)})`;
  let started = false;
  for (const n of threads ? plan.notes : []) {
    const q = rxqs[n.rxq];
    const rxq = `port '${q.name}' rx queue ${q.queue}`;
    if (n.kind === "pinned") {
      log.info(
        `Core ${String(cores[n.pmd]).padStart(2)} on numa node 0 is pinned with ${rxq}${cyc(q)}`,
      );
      continue;
    }
    if (n.kind === "unpinnable") {
      const c = q.pinnedCore;
      log.warn(
        `Core ${String(c).padStart(2)} cannot be pinned with ${rxq}. Use pmd-cpu-mask to ` +
          `enable a pmd on core ${c}. An alternative core will be assigned.`,
      );
      continue;
    }
    if (!started) log.info(`Performing pmd to rx queue assignment using ${algo} algorithm.`);
    started = true;
    if (n.kind === "assigned") {
      const core = String(cores[n.pmd]).padStart(2);
      log.info(`Core ${core} on numa node 0 assigned ${rxq}${cyc(q)}.`);
    } else {
      log.warn(
        `No non-isolated pmd on any numa available for ${rxq}${cyc(q)}. ` +
          `This rx queue will not be polled.`,
      );
    }
  }
  rxqs.forEach((q, i) => {
    Atomics.store(sh.rxqPmd, q.ring, plan.pmd[i] < 0 ? -1 : byCore[plan.pmd[i]]);
  });
  Atomics.add(sh.ctl, C_PORTS_SEQ, 1);
  sh.ringAll();
  return new Set(byCore.filter((_, j) => plan.isolated[j]));
}

/**
 * parse_affinity_list: "QUEUE:CORE,..." (pmd-rxq-affinity) as the core of
 * each of `nRxq` queues (queue ids past nRxq are ignored, as OVS does);
 * throws a RangeError naming the bad entry.
 */
export function parseRxqAffinity(text: string, nRxq: number): (number | undefined)[] {
  const cores = new Array<number | undefined>(nRxq).fill(undefined);
  for (const item of text.split(/[,\s]+/).filter((x) => x !== "")) {
    const m = /^([0-9]+)[:=]([0-9]+)$/.exec(item);
    if (!m || +m[1] > 0x7fff_ffff || +m[2] > 0x7fff_ffff) {
      throw new RangeError(`pmd-rxq-affinity: bad entry "${item}" (expected QUEUE:CORE)`);
    }
    if (+m[1] < nRxq) cores[+m[1]] = +m[2];
  }
  return cores;
}

/**
 * Live PMD reconfiguration, as OVS's reconfigure_pmd_threads and
 * reconfigure_datapath do when other_config:pmd-cpu-mask (here also
 * n-pmd-threads) changes at run time: the PMDs whose core is no longer
 * wanted stop (their flows are deleted, so the revalidators drop their
 * ukeys when they no longer dump them), PMDs for the new cores start in
 * free slots with empty tables, the active PMDs' ranks (their share of the
 * handlers' upcall queues) are renumbered, and the rx queues are assigned
 * again, so traffic moves to the PMDs that remain. Each PMD moves through
 * the states of _pmd_state.ts.
 *
 * The slots are the datapath's shared buffers, sized when it is created
 * (one per core of the machine, at least one per configured PMD): a set
 * larger than that is refused with an error and takes effect at the next
 * start.
 *
 * Thread-safety: the thread that created the datapath only.
 */
import { getLogger } from "../lib/mod.ts";
import { C_N_ACTIVE_PMDS, type DatapathShared, NON_PMD_CORE_ID, PC_RANK } from "./_shared.ts";
import type { PmdThreads } from "./_pmd_threads.ts";
import type { DatapathPorts } from "./_ports.ts";

const log = getLogger("dpif_netdev");

/**
 * Logs the PMD threads made on `cores` and how many there are now, as
 * OVS does when it creates them (at start and at reconfiguration).
 */
export function logPmdsCreated(sh: DatapathShared, cores: readonly number[]): void {
  for (const core of cores) {
    if (core === NON_PMD_CORE_ID) continue;
    log.info(`PMD thread on numa_id: 0, core id: ${String(core).padStart(2)} created.`);
  }
  const n = sh.activePmds().filter((k) => sh.pmds[k].core !== NON_PMD_CORE_ID).length;
  if (n) log.info(`There are ${n} pmd threads on numa node 0`);
}

/** The change from the active PMDs' cores to `want`: slots to stop, cores to start. */
export function planPmdChange(
  current: ReadonlyMap<number, number>,
  want: readonly number[],
): { remove: number[]; add: number[] } {
  const wanted = new Set(want);
  const have = new Set(current.values());
  const remove = [...current].filter(([, core]) => !wanted.has(core)).map(([k]) => k);
  const add = want.filter((c) => !have.has(c));
  return { remove, add };
}

/**
 * Makes the datapath's PMDs those on `cores` (ascending; [NON_PMD_CORE_ID]
 * for the single main-thread PMD). Resolves to false, changing nothing,
 * when the datapath has too few slots.
 */
export async function reconfigurePmds(
  sh: DatapathShared,
  threads: PmdThreads,
  ports: DatapathPorts,
  cores: readonly number[],
): Promise<boolean> {
  const current = new Map(sh.activePmds().map((k) => [k, sh.pmds[k].core]));
  const { remove, add } = planPmdChange(current, cores);
  if (remove.length === 0 && add.length === 0) return true;
  const free = threads.states.inState("free");
  if (free.length + remove.length < add.length) {
    log.error(
      `${cores.length} PMD threads asked for, the datapath has room for ${sh.nPmds}: ` +
        "the new pmd-cpu-mask takes effect when udpif next starts",
    );
    return false;
  }
  for (const k of remove) {
    const core = sh.pmds[k].core;
    await threads.remove(k);
    if (core !== NON_PMD_CORE_ID) {
      log.info(`PMD thread on numa_id: 0, core id: ${String(core).padStart(2)} destroyed.`);
    }
  }
  const slots = threads.states.inState("free");
  add.forEach((core, i) => threads.add(slots[i], core));
  logPmdsCreated(sh, add);
  const active = sh.activePmds();
  active.forEach((k, rank) => Atomics.store(sh.pmds[k].ctl, PC_RANK, rank));
  Atomics.store(sh.ctl, C_N_ACTIVE_PMDS, active.length);
  await threads.ready();
  ports.schedule();
  return true;
}

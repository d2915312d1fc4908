/**
 * The other_config keys the datapath itself acts on, as OVS's
 * `dpif_netdev_set_config` reads them: `emc-insert-inv-prob` (EMC
 * insertion 1-in-N) and `smc-enable` (the signature match cache), handed
 * to the PMDs through their control words; `pmd-rxq-assign` (how rx
 * queues go to PMDs, applied at once by reassigning them),
 * `pmd-rxq-isolate` (whether pinned queues isolate their PMD); and the PMD
 * threads themselves: `pmd-cpu-mask` (one PMD per set bit, on that core)
 * or, without a mask, udpif's `n-pmd-threads` (cores 0..N-1; 1, the
 * default, is a single PMD standing for OVS's main thread). A change of
 * the PMD set at run time reconfigures the PMDs live, as OVS does
 * (dpif/pmd_reconfigure.ts), within the PMD slots the datapath was made
 * with (`pmdSlots`: one per core of the machine, at least one per PMD
 * configured at start).
 *
 * Thread-safety: main thread.
 */
import { type DpifNetdev, MAX_PMDS, NON_PMD_CORE_ID, RXQ_ASSIGN_TYPES } from "../dpif/mod.ts";
import { getLogger } from "../lib/mod.ts";
import type { OtherConfig } from "./other_config.ts";

const log = getLogger("dpif_netdev");

const DATAPATH_KEYS: readonly string[] = [
  "emc-insert-inv-prob",
  "smc-enable",
  "pmd-rxq-assign",
  "pmd-rxq-isolate",
];
const PMD_SET_KEYS: readonly string[] = ["pmd-cpu-mask", "n-pmd-threads"];

/**
 * The cores of the datapath's PMD threads, from pmd-cpu-mask or
 * n-pmd-threads; undefined for the single main-thread PMD.
 */
export function pmdCores(config: OtherConfig): number[] | undefined {
  const mask = config.get("pmd-cpu-mask");
  if (mask !== undefined) {
    const cores = [];
    for (let c = 0; c < 16; c++) if (mask & (1 << c)) cores.push(c);
    return cores;
  }
  const n = config.get("n-pmd-threads")!;
  return n > 1 ? Array.from({ length: n }, (_, c) => c) : undefined;
}

/**
 * The PMD slots a datapath is made with: one per core of the machine (OVS
 * runs at most one PMD per core), at least as many as `cores`.
 */
export function pmdSlots(cores: readonly number[] | undefined): number {
  const machine = Math.min(MAX_PMDS, navigator.hardwareConcurrency || 1);
  return Math.max(cores?.length ?? 1, machine);
}

/**
 * Applies the datapath keys to `dp`: at start-up (no `changed`), or after
 * an other_config change that touched one of them; logs the SMC's state
 * when it changes, as OVS does. A change of the PMD set reconfigures the
 * PMDs; the promise resolves when that is done (the caller then lets the
 * udpif give every PMD a handler).
 */
export function applyDatapathConfig(
  dp: DpifNetdev,
  config: OtherConfig,
  changed?: ReadonlyMap<string, unknown>,
): Promise<boolean> | undefined {
  const pmds = changed && PMD_SET_KEYS.some((k) => changed.has(k))
    ? dp.pmdControl.setPmdCores(pmdCores(config) ?? [NON_PMD_CORE_ID])
    : undefined;
  if (changed && !DATAPATH_KEYS.some((k) => changed.has(k))) return pmds;
  dp.setEmcInsertInvProb(config.get("emc-insert-inv-prob")!);
  const smc = config.get("smc-enable") === 1;
  dp.setSmcEnable(smc);
  if (changed ? changed.has("smc-enable") : smc) {
    log.info(smc ? "SMC cache is enabled" : "SMC cache is disabled");
  }
  const assign = RXQ_ASSIGN_TYPES[config.get("pmd-rxq-assign")!];
  let reassign = false;
  if (assign !== dp.rxqAssign) {
    log.info(`Rxq to PMD assignment mode changed to: '${assign}'.`);
    dp.setRxqAssign(assign);
    reassign = true;
  }
  let isolate = config.get("pmd-rxq-isolate") === 1;
  if (!isolate && assign !== "group") {
    log.warn("pmd-rxq-isolate can only be set false when using pmd-rxq-assign=group");
    isolate = true;
  }
  if (isolate !== dp.pmdControl.rxqIsolate) {
    log.info(`pmd-rxq-affinity ${isolate ? "isolates" : "does not isolate"} PMD core`);
    dp.pmdControl.setRxqIsolate(isolate);
    reassign = true;
  }
  if (reassign) dp.rxqRebalance();
  return pmds;
}

/**
 * The other_config keys the datapath itself acts on, as OVS's
 * `dpif_netdev_set_config` reads them: `emc-insert-inv-prob` (EMC
 * insertion 1-in-N) and `smc-enable` (the signature match cache), handed
 * to the PMD through its control words.
 *
 * Thread-safety: main thread.
 */
import type { DpifNetdev } from "../dpif/mod.ts";
import { getLogger } from "../lib/mod.ts";
import type { OtherConfig } from "./other_config.ts";

const log = getLogger("dpif_netdev");

const DATAPATH_KEYS: readonly string[] = ["emc-insert-inv-prob", "smc-enable"];

/**
 * Applies the datapath keys to `dp`: at start-up (no `changed`), or after
 * an other_config change that touched one of them; logs the SMC's state when it changes, as OVS does.
 */
export function applyDatapathConfig(
  dp: DpifNetdev,
  config: OtherConfig,
  changed?: ReadonlyMap<string, unknown>,
): void {
  if (changed && !DATAPATH_KEYS.some((k) => changed.has(k))) return;
  dp.setEmcInsertInvProb(config.get("emc-insert-inv-prob")!);
  const smc = config.get("smc-enable") === 1;
  dp.setSmcEnable(smc);
  if (changed ? changed.has("smc-enable") : smc) {
    log.info(smc ? "SMC cache is enabled" : "SMC cache is disabled");
  }
}

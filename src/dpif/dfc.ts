/**
 * The lookup a PMD does per packet, as OVS's `dfc_processing` and
 * `fast_path_processing`: the EMC (emc.ts) first, then, when
 * `smc-enable` is on, the SMC (smc.ts), then dpcls. A dpcls hit goes into
 * the SMC (`smc_insert`, when on) and, with the EMC's insertion
 * probability, into the EMC; an SMC hit goes into the EMC the same way,
 * and so does a flow a put installs into the SMC.
 * Each hit is counted in the PMD's round counters (ST_EMC_HIT,
 * ST_SMC_HIT, ST_MEGAFLOW_HIT and the subtables a dpcls hit visited).
 *
 * Thread-safety: private to one PMD, like the caches it holds.
 */
import {
  C_EMC_INV_PROB,
  C_SMC_ENABLE,
  ST_EMC_HIT,
  ST_MEGAFLOW_HIT,
  ST_SMC_HIT,
  ST_SUBTABLE_LOOKUPS,
} from "./_shared.ts";
import type { Dpcls } from "./dpcls.ts";
import { PacketMiniflow } from "../flow/mod.ts";
import { DEFAULT_EMC_INSERT_INV_PROB, type Emc } from "./emc.ts";
import type { Smc } from "./smc.ts";

export class DatapathFlowCache {
  /**
   * The packet key's miniflow (EMC form) and hash, refilled per packet
   * before `lookup` (the hash also selects a miss's handler queue).
   */
  readonly packet = new PacketMiniflow();
  private emcInv = -2;

  constructor(readonly emc: Emc, readonly smc: Smc, readonly dpcls: Dpcls) {}

  /**
   * Applies the owner's other_config (emc-insert-inv-prob, smc-enable) from
   * the control words; called once per poll round.
   */
  configure(ctl: Int32Array): void {
    const inv = Atomics.load(ctl, C_EMC_INV_PROB);
    if (inv !== this.emcInv) {
      this.emcInv = inv;
      this.emc.setInsertInvProb(inv < 0 ? DEFAULT_EMC_INSERT_INV_PROB : inv);
    }
    this.smc.enabled = Atomics.load(ctl, C_SMC_ENABLE) === 1;
  }

  /**
   * The slot of the flow for `key` (counted in `st`), or -1 on a miss;
   * `packet` holds the key's miniflow and hash.
   */
  lookup(key: Uint32Array, st: Float64Array): number {
    const emc = this.emc, mf = this.packet.mf, h = this.packet.hash;
    let slot = emc.enabled ? emc.lookup(mf, h) : -1;
    if (slot >= 0) {
      st[ST_EMC_HIT]++;
      return slot;
    }
    const smc = this.smc;
    if (smc.enabled) {
      slot = smc.lookup(key, h);
      if (slot >= 0) {
        st[ST_SMC_HIT]++;
        emc.probabilisticInsert(mf, h, slot);
        return slot;
      }
    }
    const dpcls = this.dpcls, before = dpcls.lookupsVisited;
    slot = dpcls.lookup(key, 0);
    if (slot < 0) return -1;
    st[ST_MEGAFLOW_HIT]++;
    st[ST_SUBTABLE_LOOKUPS] += dpcls.lookupsVisited - before;
    if (smc.enabled) smc.insert(h, slot);
    emc.probabilisticInsert(mf, h, slot);
    return slot;
  }

  /**
   * After a flow put installed or changed `slot` for the packet key at
   * `keyAt` of `src`: the SMC learns it, as `handle_packet_upcall` does
   * `smc_insert` after adding the flow, so the upcalled flow's next packet
   * is an SMC hit. (The put's key is the upcall's packet key; a key that
   * no packet has just leaves an entry no lookup finds.)
   */
  installed(src: Uint32Array, keyAt: number, slot: number): void {
    if (!this.smc.enabled) return;
    this.packet.ofKey(src, keyAt);
    this.smc.insert(this.packet.hash, slot);
  }
}

/**
 * The signature match cache (SMC) between the EMC and dpcls, as OVS 2.10+
 * has it (`smc_entry_get`, `smc_insert`, `smc_lookup_single` in
 * lib/dpif-netdev.c), turned on by `other_config:smc-enable=true`.
 *
 * 2^20 entries in buckets of 4: the packet hash's low bits pick the
 * bucket, its high 16 bits are the entry's signature, and the entry holds
 * a 16-bit flow-table index (a slot; flows in slots >= 0xffff are not
 * cached, as OVS skips flows whose cmap index does not fit). At 4 bytes an
 * entry the cache covers far more flows than the EMC's 8192, at the price
 * of a check per hit: a signature is not a key, so the flow the entry
 * names is taken only if it is live and its megaflow matches the packet's
 * key under its mask, as OVS re-checks `dpcls_rule_matches_key`. That
 * check is also what keeps deleted flows out: nothing walks the cache
 * when a flow goes, and an entry naming a freed or reused slot either
 * fails the check or names a flow that really matches.
 *
 * Thread-safety: private to one PMD (shared-nothing, allocation-free).
 */
import type { Dpcls } from "./dpcls.ts";
import type { FlowTable } from "./flow_table.ts";

export const SMC_ENTRIES = 1 << 20;
const ENTRIES_PER_BUCKET = 4;
const BUCKET_MASK = SMC_ENTRIES / ENTRIES_PER_BUCKET - 1;
/** flow_idx of an empty entry (UINT16_MAX in OVS). */
const NO_FLOW = 0xffff;

export class Smc {
  private readonly sigs = new Uint16Array(SMC_ENTRIES);
  private readonly flows = new Uint16Array(SMC_ENTRIES).fill(NO_FLOW);
  private rng = 0x2545f491;
  enabled = false;

  constructor(readonly table: FlowTable, readonly dpcls: Dpcls) {}

  /** `smc_lookup_single`: the slot of a live flow matching `key` (packet hash `h`), or -1. */
  lookup(key: Uint32Array, h: number): number {
    const b = (h & BUCKET_MASK) * ENTRIES_PER_BUCKET, sig = h >>> 16;
    let slot = NO_FLOW;
    for (let i = b; i < b + ENTRIES_PER_BUCKET; i++) {
      if (this.sigs[i] === sig) {
        slot = this.flows[i];
        break;
      }
    }
    if (slot === NO_FLOW || !this.table.isLive(slot)) return -1;
    const st = this.dpcls.subtableFor(this.table.maskOf(slot));
    return st !== undefined && st.matches(key, 0, slot, this.table) ? slot : -1;
  }

  /**
   * `smc_insert`: remembers that packets with hash `h` go to `slot`; an
   * entry with the same signature is updated, else an empty one taken,
   * else one of the bucket's four replaced at random.
   */
  insert(h: number, slot: number): void {
    if (slot >= NO_FLOW) return;
    const b = (h & BUCKET_MASK) * ENTRIES_PER_BUCKET, sig = h >>> 16;
    const sigs = this.sigs, flows = this.flows;
    for (let i = b; i < b + ENTRIES_PER_BUCKET; i++) {
      if (sigs[i] === sig) {
        flows[i] = slot;
        return;
      }
    }
    for (let i = b; i < b + ENTRIES_PER_BUCKET; i++) {
      if (flows[i] === NO_FLOW) {
        sigs[i] = sig;
        flows[i] = slot;
        return;
      }
    }
    let x = this.rng;
    x ^= x << 13;
    x ^= x >>> 17;
    x ^= x << 5;
    this.rng = x >>> 0;
    const i = b + (this.rng & (ENTRIES_PER_BUCKET - 1));
    sigs[i] = sig;
    flows[i] = slot;
  }

  /** Forgets everything (flush). */
  clear(): void {
    this.flows.fill(NO_FLOW);
  }
}

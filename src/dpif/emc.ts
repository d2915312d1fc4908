/**
 * The exact-match cache (EMC) in front of dpcls: 8192 entries mapping a
 * packet's whole flow key to a megaflow, looked up at two positions taken
 * from the packet hash (its low 13 bits, then the next 13), as OVS's
 * `emc_lookup` does. New entries go in with probability 1/`emc-insert-inv-prob`
 * (default 100; 0 turns the cache off), so that a flood of short-lived flows
 * does not thrash it.
 *
 * Keys are held in miniflow form (flow/packet_miniflow.ts), as OVS's
 * netdev_flow_key is: a bitmap of the key's nonzero words and their values. A packet key is mostly zeros,
 * so an entry is small (MINIFLOW_WORDS) and a lookup compares a dozen
 * words instead of the whole key; keys with more nonzero words than an
 * entry holds are simply not cached.
 *
 * An entry remembers the flow's slot and generation; when the flow is
 * deleted or its slot reused, the generation no longer matches and the
 * entry is dead, so deletions need no cache walk.
 *
 * Thread-safety: private to one PMD.
 */
import { MF_COUNT, MF_MAX_VALUES, MF_VALUES, MINIFLOW_WORDS } from "../flow/mod.ts";
import type { FlowTable } from "./flow_table.ts";

export const EMC_ENTRIES = 8192;
const SHIFT = 13;
const MASK = EMC_ENTRIES - 1;
export const DEFAULT_EMC_INSERT_INV_PROB = 100;

export class Emc {
  private readonly entries = new Uint32Array(EMC_ENTRIES * MINIFLOW_WORDS);
  private readonly hashes = new Int32Array(EMC_ENTRIES);
  private readonly slots = new Int32Array(EMC_ENTRIES).fill(-1);
  private readonly gens = new Int32Array(EMC_ENTRIES);
  /** Inserts when a random u32 is <= this; 0 means the cache is off. */
  private insertMin = 0;
  private rng = 0x9e3779b9;

  constructor(readonly table: FlowTable, insertInvProb = DEFAULT_EMC_INSERT_INV_PROB) {
    this.setInsertInvProb(insertInvProb);
  }

  setInsertInvProb(inv: number): void {
    this.insertMin = inv <= 0 ? 0 : Math.floor(0xffffffff / inv);
  }

  get enabled(): boolean {
    return this.insertMin !== 0;
  }

  private alive(p: number): boolean {
    const s = this.slots[p];
    return s >= 0 && this.table.generation(s) === this.gens[p];
  }

  private matches(p: number, mf: Uint32Array): boolean {
    const e = this.entries, b = p * MINIFLOW_WORDS;
    const n = mf[MF_COUNT];
    if (e[b] !== mf[0] || e[b + 1] !== mf[1] || e[b + 2] !== mf[2] || e[b + MF_COUNT] !== n) {
      return false;
    }
    for (let i = MF_VALUES, end = MF_VALUES + n; i < end; i++) if (e[b + i] !== mf[i]) return false;
    return true;
  }

  /** The slot of the megaflow cached for exactly this miniflow (hash `h`), or -1. */
  lookup(mf: Uint32Array, h: number): number {
    if (mf[MF_COUNT] > MF_MAX_VALUES) return -1;
    let p = h & MASK;
    if (this.hashes[p] === h && this.alive(p) && this.matches(p, mf)) return this.slots[p];
    p = (h >>> SHIFT) & MASK;
    if (this.hashes[p] === h && this.alive(p) && this.matches(p, mf)) return this.slots[p];
    return -1;
  }

  /** Caches the miniflow -> `slot` with the configured probability. */
  probabilisticInsert(mf: Uint32Array, h: number, slot: number): void {
    if (this.insertMin === 0) return;
    let x = this.rng;
    x ^= x << 13;
    x ^= x >>> 17;
    x ^= x << 5;
    this.rng = x >>> 0;
    if (this.rng <= this.insertMin) this.insert(mf, h, slot);
  }

  insert(mf: Uint32Array, h: number, slot: number): void {
    if (mf[MF_COUNT] > MF_MAX_VALUES) return;
    const p1 = h & MASK, p2 = (h >>> SHIFT) & MASK;
    let p: number;
    let same = false;
    if (this.hashes[p1] === h && this.matches(p1, mf)) p = p1, same = true;
    else if (this.hashes[p2] === h && this.matches(p2, mf)) p = p2, same = true;
    else if (!this.alive(p1)) p = p1;
    else if (!this.alive(p2)) p = p2;
    else p = this.hashes[p1] < this.hashes[p2] ? p1 : p2;
    if (!same) {
      const b = p * MINIFLOW_WORDS;
      for (let i = 0, end = MF_VALUES + mf[MF_COUNT]; i < end; i++) this.entries[b + i] = mf[i];
    }
    this.hashes[p] = h;
    this.slots[p] = slot;
    this.gens[p] = this.table.generation(slot);
  }

  /** Forgets everything (flush, mask changes). */
  clear(): void {
    this.slots.fill(-1);
  }
}

/**
 * The exact-match cache (EMC) in front of dpcls: 8192 entries mapping a
 * packet's whole flow key to a megaflow, looked up at two positions taken
 * from the packet hash (its low 13 bits, then the next 13), as OVS's
 * `emc_lookup` does. New entries go in with probability 1/`emc-insert-inv-prob`
 * (default 100; 0 turns the cache off), so that a flood of short-lived flows
 * does not thrash it.
 *
 * An entry remembers the flow's slot and generation; when the flow is
 * deleted or its slot reused, the generation no longer matches and the
 * entry is dead, so deletions need no cache walk.
 *
 * Thread-safety: private to one PMD.
 */
import { FLOW_WORDS } from "../flow/layout.ts";
import { mhashFinish } from "../lib/hash.ts";
import type { FlowTable } from "./flow_table.ts";

export const EMC_ENTRIES = 8192;
const SHIFT = 13;
const MASK = EMC_ENTRIES - 1;
export const DEFAULT_EMC_INSERT_INV_PROB = 100;

/**
 * Hash of a packet's whole flow key (the role OVS gives the RSS hash):
 * one multiply per word, then murmur's avalanche, which is plenty for
 * picking EMC positions and handler queues and keeps the per-packet cost
 * low.
 */
export function packetKeyHash(key: Uint32Array, off: number): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < FLOW_WORDS; i++) {
    const w = key[off + i] | 0;
    if (w !== 0) h = Math.imul(h ^ w ^ i, 0x01000193);
  }
  return mhashFinish(h >>> 0);
}

export class Emc {
  private readonly keys = new Uint32Array(EMC_ENTRIES * FLOW_WORDS);
  private readonly hashes = new Uint32Array(EMC_ENTRIES);
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

  private matches(p: number, key: Uint32Array, off: number): boolean {
    const keys = this.keys;
    const b = p * FLOW_WORDS;
    for (let i = 0; i < FLOW_WORDS; i++) if (keys[b + i] !== key[off + i]) return false;
    return true;
  }

  /** The slot of the megaflow cached for exactly `key`, or -1. */
  lookup(key: Uint32Array, off: number, h: number): number {
    let p = h & MASK;
    if (this.hashes[p] === h && this.alive(p) && this.matches(p, key, off)) return this.slots[p];
    p = (h >>> SHIFT) & MASK;
    if (this.hashes[p] === h && this.alive(p) && this.matches(p, key, off)) return this.slots[p];
    return -1;
  }

  /** Caches `key` -> `slot` with the configured probability. */
  probabilisticInsert(key: Uint32Array, off: number, h: number, slot: number): void {
    if (this.insertMin === 0) return;
    let x = this.rng;
    x ^= x << 13;
    x ^= x >>> 17;
    x ^= x << 5;
    this.rng = x >>> 0;
    if (this.rng <= this.insertMin) this.insert(key, off, h, slot);
  }

  insert(key: Uint32Array, off: number, h: number, slot: number): void {
    const p1 = h & MASK, p2 = (h >>> SHIFT) & MASK;
    let p: number;
    let same = false;
    if (this.hashes[p1] === h && this.matches(p1, key, off)) p = p1, same = true;
    else if (this.hashes[p2] === h && this.matches(p2, key, off)) p = p2, same = true;
    else if (!this.alive(p1)) p = p1;
    else if (!this.alive(p2)) p = p2;
    else p = this.hashes[p1] < this.hashes[p2] ? p1 : p2;
    if (!same) {
      const b = p * FLOW_WORDS;
      for (let i = 0; i < FLOW_WORDS; i++) this.keys[b + i] = key[off + i];
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

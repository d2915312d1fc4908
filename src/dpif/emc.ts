/**
 * The exact-match cache (EMC) in front of dpcls: 8192 entries mapping a
 * packet's whole flow key to a megaflow, looked up at two positions taken
 * from the packet hash (its low 13 bits, then the next 13), as OVS's
 * `emc_lookup` does. New entries go in with probability 1/`emc-insert-inv-prob`
 * (default 100; 0 turns the cache off), so that a flood of short-lived flows
 * does not thrash it.
 *
 * Keys are held in miniflow form (flow/packet_miniflow.ts), as OVS's
 * netdev_flow_key is: a bitmap of the key's nonzero words and their
 * values. A packet key is mostly zeros, so an entry is small (32 words)
 * and a lookup compares a dozen words instead of the whole key; keys with
 * more nonzero words than an entry holds (27) are simply not cached.
 *
 * An entry remembers the flow's slot and generation; when the flow is
 * deleted or its slot reused, the generation no longer matches and the
 * entry is dead, so deletions need no cache walk.
 *
 * Thread-safety: private to one PMD.
 */
import { MF_COUNT, MF_MAX_VALUES, MF_VALUES } from "../flow/mod.ts";
import type { FlowTable } from "./flow_table.ts";

export const EMC_ENTRIES = 8192;
const SHIFT = 13;
const MASK = EMC_ENTRIES - 1;
export const DEFAULT_EMC_INSERT_INV_PROB = 100;

/*
 * The probes test hashes first, in an array of their own (32 KB, dense:
 * a miss, which is most of what a thrashed cache sees, touches nothing
 * else). An entry is then 32 words (two cache lines) of one Int32Array:
 * the flow's slot (-1: none) and generation, the miniflow's three map
 * words (the count of values in the third's top byte: the key's 82 words
 * leave it free), then the values. A hit's liveness test and the compare
 * of an IPv4 key's ten values fall in the entry's first cache line.
 */
const E_SLOT = 0;
const E_GEN = 1;
const E_MAP = 2;
const E_VALUES = 5;
const STRIDE = 32;
const COUNT_SHIFT = 24;
/** Keys with more nonzero words than an entry holds are not cached. */
const EMC_MAX_VALUES = Math.min(STRIDE - E_VALUES, MF_MAX_VALUES);

export class Emc {
  private readonly hashes = new Int32Array(EMC_ENTRIES);
  private readonly entries = new Int32Array(EMC_ENTRIES * STRIDE);
  /** Inserts when a random u32 is <= this; 0 means the cache is off. */
  private insertMin = 0;
  private rng = 0x9e3779b9;

  constructor(readonly table: FlowTable, insertInvProb = DEFAULT_EMC_INSERT_INV_PROB) {
    this.setInsertInvProb(insertInvProb);
    this.clear();
  }

  setInsertInvProb(inv: number): void {
    this.insertMin = inv <= 0 ? 0 : Math.floor(0xffffffff / inv);
  }

  get enabled(): boolean {
    return this.insertMin !== 0;
  }

  /** Whether the entry at `b` still names a live flow (`emc_entry_alive`). */
  private alive(b: number): boolean {
    const e = this.entries, s = e[b + E_SLOT];
    return s >= 0 && this.table.generation(s) === e[b + E_GEN];
  }

  /** Whether the entry at `b` holds exactly `mf`, whose count is `n`. */
  private matches(b: number, mf: Uint32Array, n: number): boolean {
    const e = this.entries;
    if (
      e[b + E_MAP] !== (mf[0] | 0) || e[b + E_MAP + 1] !== (mf[1] | 0) ||
      e[b + E_MAP + 2] !== (mf[2] | (n << COUNT_SHIFT))
    ) return false;
    for (let i = 0; i < n; i++) {
      if (e[b + E_VALUES + i] !== (mf[MF_VALUES + i] | 0)) return false;
    }
    return true;
  }

  /** The slot of the megaflow cached for exactly this miniflow (hash `h`), or -1. */
  lookup(mf: Uint32Array, h: number): number {
    const n = mf[MF_COUNT];
    if (n > EMC_MAX_VALUES) return -1;
    let p = h & MASK;
    if (this.hashes[p] === h) {
      const b = p * STRIDE;
      if (this.alive(b) && this.matches(b, mf, n)) return this.entries[b + E_SLOT];
    }
    p = (h >>> SHIFT) & MASK;
    if (this.hashes[p] === h) {
      const b = p * STRIDE;
      if (this.alive(b) && this.matches(b, mf, n)) return this.entries[b + E_SLOT];
    }
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

  /**
   * `emc_insert`: into the entry already holding this miniflow, else a
   * dead one of the two, else the one with the lower hash.
   */
  insert(mf: Uint32Array, h: number, slot: number): void {
    const n = mf[MF_COUNT];
    if (n > EMC_MAX_VALUES) return;
    const e = this.entries, hashes = this.hashes;
    const p1 = h & MASK, p2 = (h >>> SHIFT) & MASK;
    const b1 = p1 * STRIDE, b2 = p2 * STRIDE;
    let p: number;
    let same = false;
    if (hashes[p1] === h && this.matches(b1, mf, n)) p = p1, same = true;
    else if (hashes[p2] === h && this.matches(b2, mf, n)) p = p2, same = true;
    else if (!this.alive(b1)) p = p1;
    else if (!this.alive(b2)) p = p2;
    else p = hashes[p1] < hashes[p2] ? p1 : p2;
    const b = p * STRIDE;
    if (!same) {
      e[b + E_MAP] = mf[0];
      e[b + E_MAP + 1] = mf[1];
      e[b + E_MAP + 2] = mf[2] | (n << COUNT_SHIFT);
      for (let i = 0; i < n; i++) e[b + E_VALUES + i] = mf[MF_VALUES + i];
    }
    hashes[p] = h;
    e[b + E_SLOT] = slot;
    e[b + E_GEN] = this.table.generation(slot);
  }

  /** Forgets everything (flush, mask changes). */
  clear(): void {
    const e = this.entries;
    for (let b = 0; b < e.length; b += STRIDE) e[b + E_SLOT] = -1;
  }
}

/**
 * dpcls, the megaflow classifier of one PMD: one subtable per distinct
 * mask, each an open-addressing hash of the flows' masked keys. A lookup
 * tries the subtables in rank order and stops at the first match;
 * `rank()` re-sorts them by hits since the last ranking, as OVS does
 * once per optimisation interval, so the busiest masks are tried first.
 *
 * Flows are slot numbers in the shared FlowTable; keys are compared
 * against the table's masked copy (the mask's nonzero words in index
 * order, FlowTable.maskedKeyIndex), so the classifier holds no keys of
 * its own.
 *
 * Thread-safety: private to the PMD that owns the flow table.
 */
import { FLOW_WORDS } from "../flow/mod.ts";
import { mhashFinish } from "../lib/mod.ts";
import type { FlowTable } from "./flow_table.ts";

const EMPTY = -1;
const TOMBSTONE = -2;
/**
 * A subtable's table is at most 1/MAX_LOAD_INV full (tombstones
 * included): most subtables a packet visits miss, and a miss probes
 * until an empty entry, about 1.4 entries at a quarter full against 2.5
 * at half, for 32-64 bytes of table per flow instead of 16-32.
 */
const MAX_LOAD_INV = 4;

export class Subtable {
  readonly maskId: number;
  readonly mask = new Uint32Array(FLOW_WORDS);
  /** Indices of the mask's nonzero words, then their count. */
  readonly words: Int32Array;
  readonly nWords: number;
  hits = 0;
  nFlows = 0;
  private slots: Int32Array;
  private hashes: Int32Array;
  private used = 0;

  constructor(maskId: number, mask: Uint32Array) {
    this.maskId = maskId;
    this.mask.set(mask.subarray(0, FLOW_WORDS));
    let n = 0;
    for (let i = 0; i < FLOW_WORDS; i++) if (mask[i] !== 0) n++;
    this.words = new Int32Array(n);
    n = 0;
    for (let i = 0; i < FLOW_WORDS; i++) if (mask[i] !== 0) this.words[n++] = i;
    this.nWords = n;
    this.slots = new Int32Array(16).fill(EMPTY);
    this.hashes = new Int32Array(16);
  }

  /**
   * Hash of `key` (words from `off`) under this subtable's mask: one
   * multiply per masked word, then murmur's avalanche; signed, as packet
   * hashes are (emc.ts), so it is never boxed.
   */
  hashKey(key: Uint32Array, off: number): number {
    let h = this.maskId;
    const words = this.words, mask = this.mask;
    for (let j = 0; j < this.nWords; j++) {
      const i = words[j];
      h = Math.imul(h ^ (key[off + i] & mask[i]), 0x9e3779b1) ^ (h >>> 15);
    }
    return mhashFinish(h >>> 0) | 0;
  }

  /** hashKey of a flow's masked key, stored as `nWords` words from `off` (already masked). */
  hashMasked(masked: Uint32Array, off: number): number {
    let h = this.maskId;
    for (let j = 0; j < this.nWords; j++) {
      h = Math.imul(h ^ masked[off + j], 0x9e3779b1) ^ (h >>> 15);
    }
    return mhashFinish(h >>> 0) | 0;
  }

  /** Whether flow `slot`'s key equals `key` under this subtable's mask (dpcls_rule_matches_key). */
  matches(key: Uint32Array, off: number, slot: number, table: FlowTable): boolean {
    const tu = table.u32, k = table.maskedKeyIndex(slot);
    const words = this.words, mask = this.mask;
    for (let j = 0; j < this.nWords; j++) {
      const i = words[j];
      if (((key[off + i] & mask[i]) ^ tu[k + j]) !== 0) return false;
    }
    return true;
  }

  /** The slot of the flow matching `key` (hash `h`), or -1. */
  find(key: Uint32Array, off: number, h: number, table: FlowTable): number {
    const slots = this.slots, hashes = this.hashes, tu = table.u32;
    const words = this.words, mask = this.mask, nWords = this.nWords;
    const m = slots.length - 1;
    for (let p = h & m;; p = (p + 1) & m) {
      const s = slots[p];
      if (s === EMPTY) return -1;
      if (s >= 0 && hashes[p] === h) {
        const k = table.maskedKeyIndex(s);
        let j = 0;
        for (; j < nWords; j++) {
          const i = words[j];
          if (((key[off + i] & mask[i]) ^ tu[k + j]) !== 0) break;
        }
        if (j === nWords) return s;
      }
    }
  }

  insert(slot: number, table: FlowTable): void {
    if ((this.used + 1) * MAX_LOAD_INV > this.slots.length) this.grow(table);
    const h = this.hashMasked(table.u32, table.maskedKeyIndex(slot));
    const m = this.slots.length - 1;
    let p = h & m;
    while (this.slots[p] >= 0) p = (p + 1) & m;
    if (this.slots[p] === EMPTY) this.used++;
    this.slots[p] = slot;
    this.hashes[p] = h;
    this.nFlows++;
  }

  remove(slot: number, table: FlowTable): void {
    const h = this.hashMasked(table.u32, table.maskedKeyIndex(slot));
    const m = this.slots.length - 1;
    for (let p = h & m; this.slots[p] !== EMPTY; p = (p + 1) & m) {
      if (this.slots[p] === slot) {
        this.slots[p] = TOMBSTONE;
        this.nFlows--;
        return;
      }
    }
  }

  private grow(table: FlowTable): void {
    const old = this.slots;
    const size = this.nFlows * 2 * MAX_LOAD_INV > old.length ? old.length * 2 : old.length;
    this.slots = new Int32Array(size).fill(EMPTY);
    this.hashes = new Int32Array(size);
    this.used = 0;
    this.nFlows = 0;
    for (let p = 0; p < old.length; p++) if (old[p] >= 0) this.insert(old[p], table);
  }
}

export class Dpcls {
  /** Subtables in lookup order; `count` of them are in use. */
  subtables: Subtable[] = [];
  /** Subtables visited by lookups that hit, for the "avg. subtable lookups" figure. */
  lookupsVisited = 0;

  /** Subtables by mask id, for the SMC's check of a cached flow. */
  private readonly byMask: (Subtable | undefined)[];

  constructor(readonly table: FlowTable) {
    this.byMask = new Array(table.maskCapacity).fill(undefined);
  }

  subtableFor(maskId: number): Subtable | undefined {
    return this.byMask[maskId];
  }

  /** Finds the subtable whose mask equals `mask`. */
  subtableWithMask(mask: Uint32Array): Subtable | undefined {
    outer: for (const st of this.subtables) {
      for (let i = 0; i < FLOW_WORDS; i++) if (st.mask[i] !== mask[i]) continue outer;
      return st;
    }
    return undefined;
  }

  addSubtable(maskId: number, mask: Uint32Array): Subtable {
    const st = new Subtable(maskId, mask);
    this.subtables.push(st);
    this.byMask[maskId] = st;
    return st;
  }

  removeSubtable(st: Subtable): void {
    this.subtables.splice(this.subtables.indexOf(st), 1);
    this.byMask[st.maskId] = undefined;
  }

  /** The slot of the first flow (in rank order) matching `key`, or -1. */
  lookup(key: Uint32Array, off: number): number {
    const sts = this.subtables;
    for (let i = 0; i < sts.length; i++) {
      const st = sts[i];
      const s = st.find(key, off, st.hashKey(key, off), this.table);
      if (s >= 0) {
        st.hits++;
        this.lookupsVisited += i + 1;
        return s;
      }
    }
    return -1;
  }

  /** Orders subtables by hits since the last ranking, then restarts the counts. */
  rank(): void {
    this.subtables.sort((a, b) => b.hits - a.hits);
    for (const st of this.subtables) st.hits = 0;
  }
}

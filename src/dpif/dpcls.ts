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

/** murmur3's avalanche (mhash_finish), signed: inlined where a subtable hashes. */
function finish(h: number): number {
  h ^= h >>> 16;
  h = Math.imul(h, 0x85ebca6b);
  h ^= h >>> 13;
  h = Math.imul(h, 0xc2b2ae35);
  return h ^ (h >>> 16);
}

export class Subtable {
  readonly maskId: number;
  readonly mask = new Uint32Array(FLOW_WORDS);
  /**
   * The mask's nonzero words in index order, as pairs: the word's index
   * in the key, then the mask word. One array read in step is what a
   * lookup walks per subtable (index and mask side by side).
   */
  readonly wordMask: Int32Array;
  /** How many words the mask has (the pairs in `wordMask`). */
  readonly nWords: number;
  hits = 0;
  nFlows = 0;
  /**
   * Open addressing, as pairs: the masked key's hash, then the flow's
   * slot (EMPTY, TOMBSTONE). One probe reads one pair, a cache line.
   */
  private entries: Int32Array;
  private used = 0;

  constructor(maskId: number, mask: Uint32Array) {
    this.maskId = maskId;
    this.mask.set(mask.subarray(0, FLOW_WORDS));
    let n = 0;
    for (let i = 0; i < FLOW_WORDS; i++) if (mask[i] !== 0) n++;
    this.wordMask = new Int32Array(2 * n);
    n = 0;
    for (let i = 0; i < FLOW_WORDS; i++) {
      if (mask[i] !== 0) this.wordMask[2 * n] = i, this.wordMask[2 * n++ + 1] = mask[i];
    }
    this.nWords = n;
    this.entries = Subtable.emptyEntries(16);
  }

  private static emptyEntries(n: number): Int32Array {
    const e = new Int32Array(2 * n);
    for (let p = 1; p < e.length; p += 2) e[p] = EMPTY;
    return e;
  }

  /**
   * The hash `find` computes for a key, of a flow's masked key stored as
   * `nWords` words from `off` (already masked): one multiply per masked
   * word, then murmur's avalanche; signed, as packet hashes are (emc.ts),
   * so it is never boxed.
   */
  hashMasked(masked: Uint32Array, off: number): number {
    let h = this.maskId;
    for (let j = 0; j < this.nWords; j++) {
      h = Math.imul(h ^ masked[off + j], 0x9e3779b1) ^ (h >>> 15);
    }
    return finish(h);
  }

  /** Whether flow `slot`'s key equals `key` under this subtable's mask (dpcls_rule_matches_key). */
  matches(key: Uint32Array, off: number, slot: number, table: FlowTable): boolean {
    const tu = table.u32, wm = this.wordMask;
    for (let j = 0, k = table.maskedKeyIndex(slot); j < wm.length; j += 2, k++) {
      if (((key[off + wm[j]] & wm[j + 1]) ^ tu[k]) !== 0) return false;
    }
    return true;
  }

  /**
   * The slot of the flow matching `key`, or -1: the hash (hashKey) and
   * the probe in one pass, the per-subtable work of every dpcls lookup.
   */
  find(key: Uint32Array, off: number, table: FlowTable): number {
    const wm = this.wordMask, n = wm.length;
    let h = this.maskId;
    for (let j = 0; j < n; j += 2) {
      h = Math.imul(h ^ (key[off + wm[j]] & wm[j + 1]), 0x9e3779b1) ^ (h >>> 15);
    }
    h ^= h >>> 16;
    h = Math.imul(h, 0x85ebca6b);
    h ^= h >>> 13;
    h = Math.imul(h, 0xc2b2ae35);
    h ^= h >>> 16;
    const e = this.entries, m = e.length - 2;
    for (let p = (h << 1) & m;; p = (p + 2) & m) {
      const s = e[p + 1];
      if (s === EMPTY) return -1;
      if (e[p] === h && s >= 0) {
        const tu = table.u32;
        let j = 0;
        for (let k = table.maskedKeyIndex(s); j < n; j += 2, k++) {
          if (((key[off + wm[j]] & wm[j + 1]) ^ tu[k]) !== 0) break;
        }
        if (j === n) return s;
      }
    }
  }

  insert(slot: number, table: FlowTable): void {
    if ((this.used + 1) * MAX_LOAD_INV > this.entries.length >> 1) this.grow(table);
    const h = this.hashMasked(table.u32, table.maskedKeyIndex(slot));
    const e = this.entries, m = e.length - 2;
    let p = (h << 1) & m;
    while (e[p + 1] >= 0) p = (p + 2) & m;
    if (e[p + 1] === EMPTY) this.used++;
    e[p] = h;
    e[p + 1] = slot;
    this.nFlows++;
  }

  remove(slot: number, table: FlowTable): void {
    const h = this.hashMasked(table.u32, table.maskedKeyIndex(slot));
    const e = this.entries, m = e.length - 2;
    for (let p = (h << 1) & m; e[p + 1] !== EMPTY; p = (p + 2) & m) {
      if (e[p + 1] === slot) {
        e[p + 1] = TOMBSTONE;
        this.nFlows--;
        return;
      }
    }
  }

  private grow(table: FlowTable): void {
    const old = this.entries, n = old.length >> 1;
    this.entries = Subtable.emptyEntries(this.nFlows * 2 * MAX_LOAD_INV > n ? n * 2 : n);
    this.used = 0;
    this.nFlows = 0;
    for (let p = 1; p < old.length; p += 2) if (old[p] >= 0) this.insert(old[p], table);
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
      const s = st.find(key, off, this.table);
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

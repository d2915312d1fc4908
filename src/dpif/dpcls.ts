/**
 * dpcls, the megaflow classifier of one PMD: one subtable per distinct
 * mask, each an open-addressing hash of the flows' masked keys. A lookup
 * tries the subtables in rank order and stops at the first match;
 * `rank()` re-sorts them by hits since the last ranking, as OVS does
 * once per optimisation interval, so the busiest masks are tried first.
 *
 * Each subtable also indexes its flows by one masked key word (the word
 * whose values differ most among its flows, chosen again as the
 * subtable changes), in buckets by a multiplicative hash of the value.
 * A bucket knows whether no flow, exactly one flow (which, with a tag
 * of its value's second hash) or several flows have a value that lands
 * in it. So a packet whose value of that word no flow has is passed over
 * after one word, nearly always without a call; one whose bucket names a
 * single flow is checked against that flow alone; only a bucket of
 * several flows costs the hash over every mask word and a probe.
 * With 16 subtables a lookup tries 8.5 of them on average and all but
 * one miss, so the miss is what a lookup mostly costs. OVS's dpcls has
 * no such index (it hashes and probes every subtable's cmap); the OVS
 * classifier skips subtables the same way with its staged lookup and
 * prefix tries. A matching flow always has the packet's value of the
 * word, so the index never hides a flow: lookups find exactly the flows
 * the hash alone finds.
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

/**
 * Word index buckets per flow, at least, when an index is sized (a power
 * of two): a packet whose value no flow has lands on a used bucket about
 * 1 - e^(-1/8), 12 %, of the time, 22 % once the subtable has doubled
 * before the next sizing; such a bucket's tag nearly always turns it
 * away. 16-64 bytes per flow.
 */
const INDEX_BUCKETS_PER_FLOW = 8;
const INDEX_MIN_BITS = 6;
/** 1 MB for a subtable of 32 768 flows or more: past that it fills up. */
const INDEX_MAX_BITS = 18;
/**
 * Flows whose values of each mask word are counted when the index's word
 * is chosen, at most (evenly spread over the subtable): the word with the
 * most distinct values among a thousand flows is, but for near ties, the
 * one among all of them, and a large subtable's choice then costs a pass
 * over its flows to enter them, not one per mask word.
 */
const INDEX_CHOICE_SAMPLE = 1024;
/** Changes (inserts and removes) after which the word is chosen anew, at least. */
const INDEX_MIN_CHANGES = 8;
const GOLDEN = 0x9e3779b1 | 0;
/** The tag's multiplier: its top bits are not the bucket's. */
const TAG_MULTIPLIER = 0x85ebca6b | 0;
/**
 * Scratch for choosing an index word (one PMD, one thread): a bitmap for
 * counting a word's distinct values, the flows' slots and masked key
 * indexes (gathered once, then read by the count and by the index's
 * refill).
 */
let seenBits = new Int32Array(1 << (INDEX_MAX_BITS - 5));
let keyAts = new Int32Array(1024);
let keySlots = new Int32Array(1024);

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
  /**
   * The word index: its word as a pair index into `wordMask` and as a key
   * word index with its mask, and its buckets, by `imul(value, GOLDEN)
   * >>> indexShift`: 0 for no flow; for exactly one flow, slot + 1 in the
   * low `slotBits` bits under the tag `imul(value, TAG_MULTIPLIER) >>>
   * (slotBits + 1)`; -n for n flows (-1: one flow, not known which,
   * after a removal).
   * Public for Dpcls.lookup's first test only; the subtable writes them.
   */
  private indexPair: number;
  indexWord: number;
  indexMask: number;
  indexShift = 32 - INDEX_MIN_BITS;
  buckets = new Int32Array(1 << INDEX_MIN_BITS);
  /** Inserts and removes since the index's word was chosen, and how many call for a new choice. */
  private changes = 0;
  private changesForChoice = INDEX_MIN_CHANGES;

  /**
   * `slotBits`: bits a slot + 1 takes in the table this subtable's flows
   * live in (FlowTable.capacity < 2 ** slotBits), at most 30.
   */
  constructor(maskId: number, mask: Uint32Array, private readonly slotBits: number) {
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
    this.indexPair = n - 1;
    this.indexWord = this.wordMask[2 * n - 2];
    this.indexMask = this.wordMask[2 * n - 1];
  }

  /** A table of `n` empty entries (the hash words too are EMPTY, never read while so). */
  private static emptyEntries(n: number): Int32Array {
    return new Int32Array(2 * n).fill(EMPTY);
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
   * The slot of the flow matching `key`, or -1, where `b` (not 0) is the
   * index's bucket for the key's value `v` of the index's word: the one
   * flow a bucket names, if its tag agrees, or the hash over every mask
   * word and the probe.
   */
  findFrom(b: number, v: number, key: Uint32Array, off: number, table: FlowTable): number {
    const bits = this.slotBits;
    if (b > 0) {
      if (b >>> bits !== Math.imul(v, TAG_MULTIPLIER) >>> (bits + 1)) return -1;
      const s = (b & ((1 << bits) - 1)) - 1;
      return this.matches(key, off, s, table) ? s : -1;
    }
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
    if ((this.used + 1) * MAX_LOAD_INV > this.entries.length >> 1) this.grow();
    const at = table.maskedKeyIndex(slot);
    this.place(this.hashMasked(table.u32, at), slot);
    this.nFlows++;
    this.index(table.u32[at + this.indexPair], slot, 1);
    if (++this.changes >= this.changesForChoice) this.chooseIndexWord(table);
  }

  remove(slot: number, table: FlowTable): void {
    const at = table.maskedKeyIndex(slot);
    const h = this.hashMasked(table.u32, at);
    const e = this.entries, m = e.length - 2;
    for (let p = (h << 1) & m; e[p + 1] !== EMPTY; p = (p + 2) & m) {
      if (e[p + 1] === slot) {
        e[p + 1] = TOMBSTONE;
        this.nFlows--;
        this.index(table.u32[at + this.indexPair], slot, -1);
        // Counted, but the choice waits for an insert: a flush or a
        // shrinking subtable is not worth a pass over its table each
        // time it halves, and the index stays right as it is.
        this.changes++;
        return;
      }
    }
  }

  /** Puts (hash, slot) in the table's first free entry. */
  private place(h: number, slot: number): void {
    const e = this.entries, m = e.length - 2;
    let p = (h << 1) & m;
    while (e[p + 1] >= 0) p = (p + 2) & m;
    if (e[p + 1] === EMPTY) this.used++;
    e[p] = h;
    e[p + 1] = slot;
  }

  /** Doubles the table (or only drops its tombstones); entries keep the hash they were placed by. */
  private grow(): void {
    const old = this.entries, n = old.length >> 1;
    this.entries = Subtable.emptyEntries(this.nFlows * 2 * MAX_LOAD_INV > n ? n * 2 : n);
    this.used = 0;
    for (let p = 1; p < old.length; p += 2) if (old[p] >= 0) this.place(old[p - 1], old[p]);
  }

  /** Enters (+1) or takes out (-1) flow `slot`, whose value of the index's word is `v`. */
  private index(v: number, slot: number, by: 1 | -1): void {
    const bs = this.buckets, i = Math.imul(v, GOLDEN) >>> this.indexShift, b = bs[i];
    const tagged = ((Math.imul(v, TAG_MULTIPLIER) >>> (this.slotBits + 1)) << this.slotBits) |
      (slot + 1);
    if (by > 0) bs[i] = b === 0 ? tagged : b > 0 ? -2 : b - 1;
    else bs[i] = b > 0 || b === -1 ? 0 : b + 1;
  }

  /**
   * Picks the index's word anew, the mask word with the most distinct
   * values (by bucket) among the subtable's flows (a sample of
   * INDEX_CHOICE_SAMPLE of them in a large subtable), sizes the buckets for
   * the flows there are and enters them. Runs at the insert that brings
   * the changes since the last choice to the flows the subtable had then,
   * so its cost, a pass over the table and one over the flows per mask
   * word, is a constant per insert or remove.
   */
  private chooseIndexWord(table: FlowTable): void {
    const bits = Math.min(
      INDEX_MAX_BITS,
      Math.max(
        INDEX_MIN_BITS,
        32 - Math.clz32(Math.max(1, this.nFlows) * INDEX_BUCKETS_PER_FLOW - 1),
      ),
    );
    const shift = 32 - bits, e = this.entries, tu = table.u32;
    const seenWords = 1 << (bits - 5);
    if (seenBits.length < seenWords) seenBits = new Int32Array(seenWords);
    if (keyAts.length < this.nFlows) {
      keyAts = new Int32Array(this.nFlows);
      keySlots = new Int32Array(this.nFlows);
    }
    let nKeys = 0;
    for (let p = 1; p < e.length; p += 2) {
      if (e[p] >= 0) keySlots[nKeys] = e[p], keyAts[nKeys++] = table.maskedKeyIndex(e[p]);
    }
    let best = this.indexPair, bestDistinct = -1;
    const step = Math.max(1, Math.floor(nKeys / INDEX_CHOICE_SAMPLE));
    for (let j = this.nWords - 1; j >= 0; j--) {
      seenBits.fill(0, 0, seenWords);
      let distinct = 0;
      for (let k = 0; k < nKeys; k += step) {
        const i = Math.imul(tu[keyAts[k] + j], GOLDEN) >>> shift;
        const bit = 1 << (i & 31);
        if ((seenBits[i >>> 5] & bit) === 0) seenBits[i >>> 5] |= bit, distinct++;
      }
      // The word in use keeps its place on a tie.
      if (distinct > bestDistinct || (distinct === bestDistinct && j === this.indexPair)) {
        best = j;
        bestDistinct = distinct;
      }
    }
    this.indexPair = best;
    this.indexWord = this.wordMask[2 * best];
    this.indexMask = this.wordMask[2 * best + 1];
    this.indexShift = shift;
    if (this.buckets.length === 1 << bits) this.buckets.fill(0);
    else this.buckets = new Int32Array(1 << bits);
    for (let k = 0; k < nKeys; k++) this.index(tu[keyAts[k] + best], keySlots[k], 1);
    this.changes = 0;
    this.changesForChoice = Math.max(INDEX_MIN_CHANGES, this.nFlows);
  }
}

export class Dpcls {
  /** Subtables in lookup order; `count` of them are in use. */
  subtables: Subtable[] = [];
  /** Subtables visited by lookups that hit, for the "avg. subtable lookups" figure. */
  lookupsVisited = 0;

  /** Subtables by mask id, for the SMC's check of a cached flow. */
  private readonly byMask: (Subtable | undefined)[];

  /** Bits a slot + 1 takes (see Subtable). */
  private readonly slotBits: number;

  constructor(readonly table: FlowTable) {
    this.byMask = new Array(table.maskCapacity).fill(undefined);
    this.slotBits = Math.min(30, 32 - Math.clz32(table.capacity));
  }

  subtableFor(maskId: number): Subtable | undefined {
    return this.byMask[maskId];
  }

  /**
   * Finds the subtable whose mask equals `mask`: one with as many nonzero
   * words, each of its own also in `mask`. `nonzeroWords`, when the
   * caller counted them already, spares the count.
   */
  subtableWithMask(mask: Uint32Array, nonzeroWords = -1): Subtable | undefined {
    let n = nonzeroWords;
    if (n < 0) {
      n = 0;
      for (let i = 0; i < FLOW_WORDS; i++) if (mask[i] !== 0) n++;
    }
    outer: for (const st of this.subtables) {
      if (st.nWords !== n) continue;
      const wm = st.wordMask;
      for (let j = 0; j < wm.length; j += 2) if ((mask[wm[j]] ^ wm[j + 1]) !== 0) continue outer;
      return st;
    }
    return undefined;
  }

  addSubtable(maskId: number, mask: Uint32Array): Subtable {
    const st = new Subtable(maskId, mask, this.slotBits);
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
      // The index's bucket, here so that a subtable passed over costs no call.
      const v = key[off + st.indexWord] & st.indexMask;
      const b = st.buckets[Math.imul(v, GOLDEN) >>> st.indexShift];
      if (b === 0) continue;
      const s = st.findFrom(b, v, key, off, this.table);
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

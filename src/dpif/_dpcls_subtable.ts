/**
 * One dpcls subtable (dpcls.ts): the flows of one mask, in an
 * open-addressing hash of their masked keys, and the word index that
 * passes over most packets after one key word.
 *
 * Both grow with the subtable, and neither stops the PMD to do so. A
 * table that outgrows its load is replaced by one twice the size at
 * once, but the flows move over a few entries per later insert; until
 * the old table is drained, a flow is in exactly one of the two (a moved
 * entry leaves a tombstone, so the old table's probe chains still end
 * where they did), and a lookup or a remove that misses the new one
 * tries the old one. Likewise a new index word or bucket count is filled
 * in beside the index in use, a few flows per later insert, from the
 * list of the subtable's flows; the index in use stays exact (every
 * insert and remove updates it) until the new one holds every flow and
 * takes its place. So lookups see every flow at every step, and the pass
 * over a subtable of 65 536 flows that doubling costs (~70 ms of the
 * PMD's CPU at once, during which no packet is forwarded and no put
 * answered) is spread over the next thousands of inserts. OVS's cmap
 * rehashes at once, but on the handler's thread while the PMD reads on
 * through RCU; here the PMD itself installs.
 *
 * Thread-safety: private to the PMD that owns the flow table.
 */
import { FLOW_WORDS } from "../flow/mod.ts";
import type { FlowTable } from "./flow_table.ts";

/**
 * An entry's second word: a flow's slot + 1, or one of these. EMPTY is
 * 0 so that a new table needs no fill: its pages are first touched by
 * the inserts and drains that use them (a 4 MB fill at once took 12-24
 * ms of page faults on the benches' VM).
 */
const EMPTY = 0;
const TOMBSTONE = -1;
/**
 * A subtable's table is at most 1/MAX_LOAD_INV full (tombstones
 * included): most subtables a packet visits miss, and a miss probes
 * until an empty entry, about 1.4 entries at a quarter full against 2.5
 * at half, for 32-64 bytes of table per flow instead of 16-32.
 */
const MAX_LOAD_INV = 4;
/**
 * Entries of the table being drained moved per insert: it has
 * 2 * MAX_LOAD_INV entries per flow it held, and the new table reaches
 * its own load after half that many inserts again, so at 8 a drain ends
 * well before (3/16 full at most), without a second table in flight.
 */
const DRAIN_STEP = 8;

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
 * one among all of them.
 */
const INDEX_CHOICE_SAMPLE = 1024;
/** Changes (inserts and removes) after which the word is chosen anew, at least. */
const INDEX_MIN_CHANGES = 8;
/**
 * Flows entered into a new index per insert: the choice comes after as
 * many changes as the subtable had flows, so a fill of all of them ends
 * after a quarter of that.
 */
const FILL_STEP = 4;
export const GOLDEN = 0x9e3779b1 | 0;
/** The tag's multiplier: its top bits are not the bucket's. */
const TAG_MULTIPLIER = 0x85ebca6b | 0;
/**
 * Scratch for choosing an index word (one PMD, one thread): a bitmap for
 * counting a word's distinct values, the sample's masked key indexes.
 */
let seenBits = new Int32Array(1 << (INDEX_MAX_BITS - 5));
const keyAts = new Int32Array(2 * INDEX_CHOICE_SAMPLE);

/** murmur3's avalanche (mhash_finish), signed: inlined where a subtable hashes. */
function finish(h: number): number {
  h ^= h >>> 16;
  h = Math.imul(h, 0x85ebca6b);
  h ^= h >>> 13;
  h = Math.imul(h, 0xc2b2ae35);
  return h ^ (h >>> 16);
}

/** A table of `n` empty entries. */
function emptyEntries(n: number): Int32Array {
  return new Int32Array(2 * n);
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
   * slot + 1 (EMPTY, TOMBSTONE). One probe reads one pair, a cache line.
   */
  private entries: Int32Array;
  /** Entries of `entries` not EMPTY. */
  private used = 0;
  /** The table a grow replaced, while flows are left in it, and the next pair to move. */
  private draining: Int32Array | null = null;
  private drainAt = 0;
  /** The subtable's flows (slots), in no order: what a new index is filled from. */
  private members = new Int32Array(16);
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
  buckets: Int32Array = new Int32Array(1 << INDEX_MIN_BITS);
  /**
   * The index being filled, while one is: its buckets (as `buckets`), word
   * and shift, and how many of `members` are in it; the changes to those
   * members since are in it too.
   */
  private filling: Int32Array | null = null;
  private fillPair = 0;
  private fillShift = 0;
  private filled = 0;
  /** Inserts and removes since the index's word was chosen, and how many call for a new choice. */
  private changes = 0;
  private changesForChoice = INDEX_MIN_CHANGES;

  /**
   * `slotBits`: bits a slot + 1 takes in the table this subtable's flows
   * live in (FlowTable.capacity < 2 ** slotBits), at most 30.
   * `memberAt`: each slot's place in its subtable's member list, one
   * array for the classifier (a slot is in one subtable at a time).
   */
  constructor(
    maskId: number,
    mask: Uint32Array,
    private readonly slotBits: number,
    private readonly memberAt: Int32Array,
  ) {
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
    this.entries = emptyEntries(16);
    this.indexPair = n - 1;
    this.indexWord = this.wordMask[2 * n - 2];
    this.indexMask = this.wordMask[2 * n - 1];
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
    const s = this.probe(this.entries, h, key, off, table);
    return s >= 0 || this.draining === null ? s : this.probe(this.draining, h, key, off, table);
  }

  /** The slot in table `e` whose flow has hash `h` and matches `key`, or -1. */
  private probe(e: Int32Array, h: number, key: Uint32Array, off: number, table: FlowTable): number {
    const wm = this.wordMask, n = wm.length, m = e.length - 2;
    for (let p = (h << 1) & m;; p = (p + 2) & m) {
      const s = e[p + 1];
      if (s === EMPTY) return -1;
      if (e[p] === h && s > 0) {
        const tu = table.u32;
        let j = 0;
        for (let k = table.maskedKeyIndex(s - 1); j < n; j += 2, k++) {
          if (((key[off + wm[j]] & wm[j + 1]) ^ tu[k]) !== 0) break;
        }
        if (j === n) return s - 1;
      }
    }
  }

  insert(slot: number, table: FlowTable): void {
    if ((this.used + 1) * MAX_LOAD_INV > this.entries.length >> 1) this.grow();
    const tu = table.u32, at = table.maskedKeyIndex(slot);
    this.place(this.hashMasked(tu, at), slot);
    if (this.draining !== null) this.drain(DRAIN_STEP);
    if (this.nFlows === this.members.length) {
      const more = new Int32Array(2 * this.nFlows);
      more.set(this.members);
      this.members = more;
    }
    // Past the filled members: the fill enters it in the new index.
    this.members[this.nFlows] = slot;
    this.memberAt[slot] = this.nFlows++;
    this.enter(this.buckets, this.indexShift, tu[at + this.indexPair], slot, 1);
    if (this.filling !== null) this.fill(table, FILL_STEP);
    if (++this.changes >= this.changesForChoice) this.chooseIndexWord(table);
  }

  remove(slot: number, table: FlowTable): void {
    const tu = table.u32, at = table.maskedKeyIndex(slot);
    const h = this.hashMasked(tu, at);
    if (!this.takeOut(this.entries, h, slot)) {
      if (this.draining === null || !this.takeOut(this.draining, h, slot)) return;
    }
    this.nFlows--;
    this.enter(this.buckets, this.indexShift, tu[at + this.indexPair], slot, -1);
    // The last member takes the removed one's place: a filled place, if
    // the removed one was in the new index, so the last goes in with it.
    const i = this.memberAt[slot], last = this.members[this.nFlows];
    if (this.filling !== null && i < this.filled) {
      this.enter(this.filling, this.fillShift, tu[at + this.fillPair], slot, -1);
      const lastAt = table.maskedKeyIndex(last);
      this.enter(this.filling, this.fillShift, tu[lastAt + this.fillPair], last, 1);
    }
    this.members[i] = last;
    this.memberAt[last] = i;
    // Counted, but the choice waits for an insert: a flush or a shrinking
    // subtable is not worth a new index each time it halves, and the
    // index stays right as it is.
    this.changes++;
  }

  /** Marks `slot`'s entry in table `e` (hash `h`) a tombstone; false if it is not there. */
  private takeOut(e: Int32Array, h: number, slot: number): boolean {
    const m = e.length - 2;
    for (let p = (h << 1) & m; e[p + 1] !== EMPTY; p = (p + 2) & m) {
      if (e[p + 1] === slot + 1) {
        e[p + 1] = TOMBSTONE;
        return true;
      }
    }
    return false;
  }

  /** Puts (hash, slot) in the table's first free entry. */
  private place(h: number, slot: number): void {
    const e = this.entries, m = e.length - 2;
    let p = (h << 1) & m;
    while (e[p + 1] > 0) p = (p + 2) & m;
    if (e[p + 1] === EMPTY) this.used++;
    e[p] = h;
    e[p + 1] = slot + 1;
  }

  /**
   * Starts a table twice the size (or the same size, to drop the
   * tombstones) for the flows to move to, once the last grow's drain has
   * ended.
   */
  private grow(): void {
    if (this.draining !== null) this.drain(this.draining.length);
    const n = this.entries.length >> 1;
    this.draining = this.entries;
    this.drainAt = 0;
    this.entries = emptyEntries(this.nFlows * 2 * MAX_LOAD_INV > n ? n * 2 : n);
    this.used = 0;
  }

  /** Moves the flows of the next `n` entries of the table being drained; entries keep their hash. */
  private drain(n: number): void {
    const old = this.draining!, end = Math.min(old.length, this.drainAt + 2 * n);
    let p = this.drainAt;
    for (; p < end; p += 2) {
      if (old[p + 1] > 0) this.place(old[p], old[p + 1] - 1), old[p + 1] = TOMBSTONE;
    }
    this.drainAt = p;
    if (p === old.length) this.draining = null;
  }

  /** Enters (+1) or takes out (-1) flow `slot`, whose value of the index's word is `v`, in buckets `bs`. */
  private enter(bs: Int32Array, shift: number, v: number, slot: number, by: 1 | -1): void {
    const i = Math.imul(v, GOLDEN) >>> shift, b = bs[i];
    const tagged = ((Math.imul(v, TAG_MULTIPLIER) >>> (this.slotBits + 1)) << this.slotBits) |
      (slot + 1);
    if (by > 0) bs[i] = b === 0 ? tagged : b > 0 ? -2 : b - 1;
    else bs[i] = b > 0 || b === -1 ? 0 : b + 1;
  }

  /** Enters the next `n` members in the index being filled; once all are in, it is the index. */
  private fill(table: FlowTable, n: number): void {
    const bs = this.filling!, tu = table.u32, end = Math.min(this.nFlows, this.filled + n);
    for (; this.filled < end; this.filled++) {
      const s = this.members[this.filled];
      this.enter(bs, this.fillShift, tu[table.maskedKeyIndex(s) + this.fillPair], s, 1);
    }
    if (this.filled < this.nFlows) return;
    this.buckets = bs;
    this.indexShift = this.fillShift;
    this.indexPair = this.fillPair;
    this.indexWord = this.wordMask[2 * this.fillPair];
    this.indexMask = this.wordMask[2 * this.fillPair + 1];
    this.filling = null;
  }

  /**
   * Picks the index's word anew, the mask word with the most distinct
   * values (by bucket) among a sample of INDEX_CHOICE_SAMPLE of the
   * subtable's flows, and sizes the buckets for the flows there are; when
   * either differs from the index in use, starts filling a new one.
   * Runs at the insert that brings the changes since the last choice to
   * the flows the subtable had then.
   */
  private chooseIndexWord(table: FlowTable): void {
    if (this.filling !== null) this.fill(table, this.nFlows);
    const bits = Math.min(
      INDEX_MAX_BITS,
      Math.max(
        INDEX_MIN_BITS,
        32 - Math.clz32(Math.max(1, this.nFlows) * INDEX_BUCKETS_PER_FLOW - 1),
      ),
    );
    const shift = 32 - bits, tu = table.u32;
    const seenWords = 1 << (bits - 5);
    if (seenBits.length < seenWords) seenBits = new Int32Array(seenWords);
    const step = Math.max(1, Math.floor(this.nFlows / INDEX_CHOICE_SAMPLE));
    let nKeys = 0;
    for (let k = 0; k < this.nFlows; k += step) {
      keyAts[nKeys++] = table.maskedKeyIndex(this.members[k]);
    }
    let best = this.indexPair, bestDistinct = -1;
    for (let j = this.nWords - 1; j >= 0; j--) {
      seenBits.fill(0, 0, seenWords);
      let distinct = 0;
      for (let k = 0; k < nKeys; k++) {
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
    this.changes = 0;
    this.changesForChoice = Math.max(INDEX_MIN_CHANGES, this.nFlows);
    // The index in use is kept exact: the same word and size need no fill.
    if (best === this.indexPair && shift === this.indexShift) return;
    this.filling = new Int32Array(1 << bits);
    this.fillPair = best;
    this.fillShift = shift;
    this.filled = 0;
  }
}

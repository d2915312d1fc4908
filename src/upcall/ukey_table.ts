/**
 * The ukey table: OVS's 512 umaps of `udpif_key`s, in one SharedArrayBuffer
 * shared by every handler (which creates and installs ukeys) and every
 * revalidator (which dumps, revalidates and sweeps them).
 *
 * Memory: a header, 512 umap lock words and counts, a bucket array
 * (buckets = power of two >= capacity; a umap is a contiguous run of
 * buckets, the bucket index's high bits, so a sweep reads its buckets in
 * order rather than a cache line each), and
 * `capacity` fixed 128-byte records: the ukey's words (UFID, state, seqs,
 * lock, a digest of the installed actions, a hash of the flow key, the
 * recirculation ids its actions hold) and its last seen stats as Float64s. The key and mask themselves are not copied
 * here: the datapath already holds them for the flow with this UFID and
 * hands them to the revalidator with every dumped flow (or on a get by
 * UFID), so a flow costs its datapath slot plus 128 bytes, not two copies
 * of a 328-byte key and mask.
 *
 * Consistency protocol:
 * - A record is written in full while private (state CREATED, in no
 *   chain), then published by linking it at its bucket's head with an
 *   Atomics.store, under its umap's lock. Unlinking also happens under that
 *   lock. So chains change only under the umap lock; lookups walk them
 *   without it.
 * - A removed record is not reused at once: it goes to a limbo list that
 *   `quiesce()` releases to the free list. The revalidator leader calls it
 *   between dump cycles, when no revalidator is walking a chain, which is
 *   when OVS's RCU would free the ukey. A lock-free walker thus never lands
 *   on a record that was recycled into another chain. That is also when
 *   the ukey's recirculation ids are given back (ukey_delete__'s
 *   recirc_refs_unref), so an id lives exactly as long as its last ukey.
 * - The per-ukey lock word guards state, dump_seq, reval_seq, stats, the
 *   actions digest, the recirculation ids and the xcache owner. It is only ever try-locked by
 *   revalidators (a held ukey is skipped); handlers hold it for the short
 *   install-and-put window.
 * - The generation word changes each time a record is allocated, so a
 *   worker's private per-ukey data (the xlate cache) keyed by slot can tell
 *   a recycled record from the ukey it knew.
 *
 * The record fields themselves (ukey_create__'s filling, the seqs, stats,
 * digest, recirculation ids, missed dumps) are read and written through
 * `_ukey_records.ts`; allocation, the limbo list, the per-ukey lock and
 * the state machine are `_ukey_pool.ts`; this class adds the umaps and
 * their chains on top of both.
 */
import { ufidHash } from "../flow/mod.ts";
import * as L from "./_ukey_layout.ts";
import { UkeyPool } from "./_ukey_pool.ts";

export {
  N_UMAPS,
  UKEY_CREATED,
  UKEY_DELETED,
  UKEY_EVICTED,
  UKEY_EVICTING,
  UKEY_INCONSISTENT,
  UKEY_OPERATIONAL,
  UKEY_RECORD_BYTES,
  UKEY_VISIBLE,
  ukeyTableBytes,
} from "./_ukey_layout.ts";

/** "contended": a ukey with this UFID is there and another thread holds it. */
export type InstallResult = "installed" | "replaced" | "duplicate" | "contended" | "conflict";

export class UkeyTable extends UkeyPool {
  readonly buffer: SharedArrayBuffer;
  readonly #bucketMask: number;
  /** Bucket index >> this is the umap (see the essay). */
  readonly #umapShift: number;

  constructor(buffer: SharedArrayBuffer) {
    super(buffer);
    this.buffer = buffer;
    const nb = new Int32Array(buffer, 0, L.H_WORDS)[L.H_NBUCKETS];
    this.#bucketMask = nb - 1;
    this.#umapShift = Math.log2(nb / L.N_UMAPS);
  }

  static create(capacity: number): UkeyTable {
    if (!Number.isInteger(capacity) || capacity < 1) {
      throw new RangeError(`ukey table capacity must be a positive integer, got ${capacity}`);
    }
    const buf = new SharedArrayBuffer(L.ukeyTableBytes(capacity));
    const h = new Int32Array(buf);
    h[L.H_CAPACITY] = capacity;
    h[L.H_NBUCKETS] = L.bucketsFor(capacity);
    h[L.H_FREE] = 0;
    h[L.H_LIMBO] = 0;
    h[L.H_HIGH] = 0;
    return new UkeyTable(buf);
  }

  // -- umaps ---------------------------------------------------------------

  umapOf(slot: number): number {
    return this.#umapOfHash(this.w[this.r(slot) + L.HASH]);
  }

  #umapOfHash(hash: number): number {
    return ((hash >>> 0) & this.#bucketMask) >>> this.#umapShift;
  }

  lockUmap(umap: number): void {
    this.lockWord(L.UMAP_LOCKS + umap);
  }
  unlockUmap(umap: number): void {
    this.unlockWord(L.UMAP_LOCKS + umap);
  }

  /** Number of ukeys in umap `umap` (cmap_count). */
  umapCount(umap: number): number {
    return Atomics.load(this.h, L.UMAP_COUNTS + umap);
  }

  /** Number of ukeys in all umaps. */
  count(): number {
    let n = 0;
    for (let i = 0; i < L.N_UMAPS; i++) n += this.umapCount(i);
    return n;
  }

  #findInChain(hash: number, ufid: Uint32Array, pmdId: number): number {
    const w = this.w;
    let s = Atomics.load(this.h, L.BUCKETS + ((hash >>> 0) & this.#bucketMask));
    while (s !== 0) {
      const r = this.r(s - 1);
      if (
        w[r + L.HASH] === hash && w[r + L.UFID] === (ufid[0] | 0) &&
        w[r + L.UFID + 1] === (ufid[1] | 0) && w[r + L.UFID + 2] === (ufid[2] | 0) &&
        w[r + L.UFID + 3] === (ufid[3] | 0) && w[r + L.PMD] === pmdId
      ) return s - 1;
      s = Atomics.load(w, r + L.NEXT);
    }
    return -1;
  }

  /** The visible ukey with this L.UFID, or -1 (ukey_lookup; lock-free). */
  lookup(ufid: Uint32Array, pmdId: number): number {
    return this.#findInChain(ufidHash(ufid, pmdId) | 0, ufid, pmdId);
  }

  /**
   * lookup() that tries ukey `hint` first. Ukeys are made in the order
   * their flows were set up or first dumped, which is the order the next
   * dump walks the flows' slots in, so the ukey of a dumped flow is
   * usually the one after the last flow's: found there, it costs neither
   * the UFID hash nor a random bucket and chain read. Only a linked ukey
   * (VISIBLE or OPERATIONAL, of which there is one per UFID) is taken.
   */
  lookupFrom(hint: number, ufid: Uint32Array, pmdId: number): number {
    if (hint >= 0 && hint < this.capacity) {
      const w = this.w, r = this.r(hint);
      const state = Atomics.load(w, r + L.STATE);
      if (
        (state === L.UKEY_VISIBLE || state === L.UKEY_OPERATIONAL) &&
        w[r + L.UFID] === (ufid[0] | 0) && w[r + L.UFID + 1] === (ufid[1] | 0) &&
        w[r + L.UFID + 2] === (ufid[2] | 0) && w[r + L.UFID + 3] === (ufid[3] | 0) &&
        w[r + L.PMD] === pmdId
      ) return hint;
    }
    return this.lookup(ufid, pmdId);
  }

  /**
   * Publishes a CREATED ukey (ukey_install__). A ukey already there with
   * the same UFID and key is replaced if its flow was evicted, else this one
   * is a duplicate (or contended, if another thread holds the old one's
   * lock); the same UFID with another key is a conflict. On
   * "installed" or "replaced" the ukey is VISIBLE and unlocked.
   */
  install(slot: number): InstallResult {
    const r = this.r(slot);
    const w = this.w;
    const hash = w[r + L.HASH];
    const umap = this.#umapOfHash(hash);
    const bucket = L.BUCKETS + ((hash >>> 0) & this.#bucketMask);
    const ufid = this.ufid(slot, this.scratchUfid);
    this.lockUmap(umap);
    try {
      const old = this.#findInChain(hash, ufid, w[r + L.PMD]);
      if (old < 0) {
        Atomics.store(w, r + L.NEXT, Atomics.load(this.h, bucket));
        w[r + L.STATE] = L.UKEY_VISIBLE;
        Atomics.store(this.h, bucket, slot + 1);
        Atomics.add(this.h, L.UMAP_COUNTS + umap, 1);
        return "installed";
      }
      const ro = this.r(old);
      if (w[ro + L.KEY_HASH] !== w[r + L.KEY_HASH]) return "conflict";
      if (!this.tryLock(old)) return "contended";
      try {
        if (w[ro + L.STATE] !== L.UKEY_EVICTED) return "duplicate";
        w[r + L.DUMP_SEQ] = w[ro + L.DUMP_SEQ];
        w[r + L.STATE] = L.UKEY_VISIBLE;
        this.#replaceInChain(bucket, old, slot);
        w[ro + L.STATE] = L.UKEY_DELETED;
        this.pushList(L.H_LIMBO, old);
        return "replaced";
      } finally {
        this.unlock(old);
      }
    } finally {
      this.unlockUmap(umap);
    }
  }

  /** Swaps `old` for `fresh` in the chain; caller holds the umap lock. */
  #replaceInChain(bucket: number, old: number, fresh: number): void {
    const w = this.w;
    Atomics.store(w, this.r(fresh) + L.NEXT, Atomics.load(w, this.r(old) + L.NEXT));
    this.#relink(bucket, old, fresh + 1);
  }

  /** Points whatever pointed at `slot` to `to` (a slot + 1, or 0). */
  #relink(bucket: number, slot: number, to: number): void {
    const w = this.w;
    let s = this.h[bucket];
    if (s === slot + 1) {
      Atomics.store(this.h, bucket, to);
      return;
    }
    while (s !== 0) {
      const r = this.r(s - 1);
      if (w[r + L.NEXT] === slot + 1) {
        Atomics.store(w, r + L.NEXT, to);
        return;
      }
      s = w[r + L.NEXT];
    }
  }

  /**
   * Unlinks a visible ukey and marks it DELETED (ukey_delete). The caller
   * holds the ukey's umap lock and not the ukey's own lock.
   */
  removeLocked(slot: number): void {
    const r = this.r(slot);
    const w = this.w;
    this.lock(slot);
    if (w[r + L.STATE] < L.UKEY_DELETED) {
      const hash = w[r + L.HASH] >>> 0;
      this.#relink(L.BUCKETS + (hash & this.#bucketMask), slot, Atomics.load(w, r + L.NEXT));
      w[r + L.STATE] = L.UKEY_DELETED;
      Atomics.sub(this.h, L.UMAP_COUNTS + this.#umapOfHash(hash), 1);
      this.unlock(slot);
      this.pushList(L.H_LIMBO, slot);
      return;
    }
    this.unlock(slot);
  }

  /**
   * Whether the record is a ukey in a chain (VISIBLE through EVICTED), as
   * the state word says without the ukey's lock; a caller that acts on
   * it takes the lock and reads the state again.
   */
  linked(slot: number): boolean {
    const state = this.w[this.r(slot) + L.STATE];
    return state >= L.UKEY_VISIBLE && state < L.UKEY_DELETED;
  }

  /** Calls `fn` for every ukey linked in umap `umap` (CMAP_FOR_EACH). */
  forEachInUmap(umap: number, fn: (slot: number) => void): void {
    const w = this.w;
    const end = (umap + 1) << this.#umapShift;
    for (let b = umap << this.#umapShift; b < end; b++) {
      let s = Atomics.load(this.h, L.BUCKETS + b);
      while (s !== 0) {
        const next = Atomics.load(w, this.r(s - 1) + L.NEXT);
        fn(s - 1);
        s = next;
      }
    }
  }
}

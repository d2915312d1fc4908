/**
 * The ukey records' life below the umaps (ukey_table.ts, whose essay has
 * the memory and the consistency protocol): allocation from the free
 * list, the limbo list that `quiesce()` releases between dump cycles, the
 * high water a sweep walks to, the per-ukey lock, and the state machine
 * (ukey_state.ts). UkeyTable adds the umaps and their chains on top.
 *
 * Thread-safety: any thread; allocation and the limbo and free lists
 * under the allocator's lock word, a ukey's fields under its own lock.
 */
import { releaseIfHeldBy, spinLock, spinTryLock, spinUnlock } from "../lib/mod.ts";
import { odpFormatUfid } from "../flow/mod.ts";
import { logRefusedTransition, type UkeyState, ukeyTransition } from "./ukey_state.ts";
import * as L from "./_ukey_layout.ts";
import { UkeyRecords } from "./_ukey_records.ts";

export class UkeyPool extends UkeyRecords {
  readonly capacity: number;
  /** The header, the umaps' lock and count words, and the buckets. */
  protected readonly h: Int32Array;

  constructor(buffer: SharedArrayBuffer) {
    super(buffer);
    const cap = new Int32Array(buffer, 0, L.H_WORDS);
    this.capacity = cap[L.H_CAPACITY];
    this.h = new Int32Array(buffer, 0, L.BUCKETS + cap[L.H_NBUCKETS]);
  }

  // -- allocation --------------------------------------------------------

  protected lockWord(i: number): void {
    spinLock(this.h, i);
  }
  protected unlockWord(i: number): void {
    spinUnlock(this.h, i);
  }

  /** A private record in state CREATED, or -1 when the table is full. */
  alloc(): number {
    this.lockWord(L.H_ALLOC_LOCK);
    let slot = -1;
    const head = this.h[L.H_FREE];
    if (head !== 0) {
      slot = head - 1;
      this.h[L.H_FREE] = this.w[this.r(slot) + L.NEXT];
    } else if (this.h[L.H_HIGH] < this.capacity) {
      slot = this.h[L.H_HIGH]++;
    }
    this.unlockWord(L.H_ALLOC_LOCK);
    if (slot >= 0) {
      const r = this.r(slot);
      const w = this.w;
      w[r + L.STATE] = L.UKEY_CREATED;
      w[r + L.NEXT] = 0;
      w[r + L.LOCK] = 0;
      w[r + L.XCACHE] = 0;
      Atomics.add(w, r + L.GEN, 1);
    }
    return slot;
  }

  /** Returns a record that never became visible (ukey_delete__ of a private ukey). */
  free(slot: number): void {
    this.pushList(L.H_FREE, slot);
  }

  /** Pushes `slot` on list `list` (L.H_FREE, L.H_LIMBO). */
  protected pushList(list: number, slot: number): void {
    this.lockWord(L.H_ALLOC_LOCK);
    this.w[this.r(slot) + L.NEXT] = this.h[list];
    this.h[list] = slot + 1;
    this.unlockWord(L.H_ALLOC_LOCK);
  }

  /**
   * Releases removed records for reuse, giving each one's recirculation
   * ids to `releaseRecirc`; call only when no thread walks chains.
   */
  quiesce(releaseRecirc?: (id: number) => void): void {
    this.lockWord(L.H_ALLOC_LOCK);
    let s = this.h[L.H_LIMBO];
    while (s !== 0) {
      const r = this.r(s - 1);
      this.dropRecircs(r, releaseRecirc);
      const next = this.w[r + L.NEXT];
      this.w[r + L.NEXT] = this.h[L.H_FREE];
      this.h[L.H_FREE] = s;
      s = next;
    }
    this.h[L.H_LIMBO] = 0;
    this.unlockWord(L.H_ALLOC_LOCK);
  }

  /**
   * Records below this have been allocated at least once; a walk over
   * every ukey in slot order (the sweep's) reads the records from 0 to
   * here, sequentially, rather than chain by chain.
   */
  highWater(): number {
    return Atomics.load(this.h, L.H_HIGH);
  }

  // -- per-ukey lock and state ----------------------------------------------

  tryLock(slot: number): boolean {
    return spinTryLock(this.w, this.r(slot) + L.LOCK);
  }
  lock(slot: number): void {
    // Ukeys are held for one flow's worth of work: spin.
    spinLock(this.w, this.r(slot) + L.LOCK);
  }
  unlock(slot: number): void {
    spinUnlock(this.w, this.r(slot) + L.LOCK);
  }

  /**
   * The revalidators' take of a dumped or swept ukey (ukey_acquire's
   * trylock): false when another thread holds it, except that a VISIBLE
   * ukey's lock is waited for. A VISIBLE ukey that is held is a handler
   * finishing its install (between the flow's put and its move to
   * OPERATIONAL) or another thread's equally short step; OVS skips it as
   * contended, and its window is a few instructions, but a worker here
   * can be paused in it by a garbage collection, and skipping would then
   * make a pass's outcome depend on that timing.
   */
  tryLockForRevalidation(slot: number): boolean {
    if (this.tryLock(slot)) return true;
    if (Atomics.load(this.w, this.r(slot) + L.STATE) !== L.UKEY_VISIBLE) return false;
    this.lock(slot);
    return true;
  }

  /**
   * Releases every lock (allocator, umaps, ukeys) that `owner` holds: the
   * main thread's cleanup after a worker died. Returns how many it
   * released. A ukey's fields stay as the dead worker left them; the
   * supervisor repairs what the worker's journal says it was changing.
   */
  releaseLocksOf(owner: number): number {
    let n = 0;
    if (releaseIfHeldBy(this.h, L.H_ALLOC_LOCK, owner)) n++;
    for (let u = 0; u < L.N_UMAPS; u++) {
      if (releaseIfHeldBy(this.h, L.UMAP_LOCKS + u, owner)) n++;
    }
    const high = Atomics.load(this.h, L.H_HIGH);
    for (let s = 0; s < high; s++) {
      if (releaseIfHeldBy(this.w, this.r(s) + L.LOCK, owner)) n++;
    }
    return n;
  }

  /** Whether refused transitions are logged with OVS 3.1's state numbers (`ovs-compat=3.1`). */
  set stateNumbers31(on: boolean) {
    Atomics.store(this.h, L.H_STATE_NUMBERS_31, on ? 1 : 0);
  }

  state(slot: number): UkeyState {
    return this.w[this.r(slot) + L.STATE] as UkeyState;
  }

  /**
   * transition_ukey(): moves the ukey to `dst` if ukey_state.ts's rules
   * allow it; a refused step is logged (rate limited) and leaves the state
   * as it was. Returns whether the ukey is now in `dst`. Caller holds the
   * ukey lock.
   */
  transition(slot: number, dst: UkeyState): boolean {
    const i = this.r(slot) + L.STATE;
    const cur = this.w[i];
    const t = ukeyTransition(cur, dst);
    if (t === "advance") this.w[i] = dst;
    else if (t !== "unchanged") {
      const ufid = odpFormatUfid(this.ufid(slot, this.scratchUfid));
      logRefusedTransition(t, ufid, cur, dst, this.h[L.H_STATE_NUMBERS_31] !== 0);
      return false;
    }
    return true;
  }
}

/**
 * The datapath flow table of one PMD, in one SharedArrayBuffer: megaflows
 * (UFID, key, mask, actions, statistics) and the distinct masks they use.
 *
 * Layout. A header (Int32: high-water slot count, flow count, mask count,
 * capacity, mask capacity, arena units), then per-slot arrays: 8 meta
 * words (seq, state, mask id, action bytes, tcp_flags, generation,
 * record word, actions byte offset) and 4 UFID words; the masks,
 * FLOW_WORDS each, shared by every flow that uses them (dpcls subtables
 * share one mask in OVS too), then a generation word per mask, which
 * changes whenever the mask is written, so that a reader holding a copy
 * of mask id i at generation g knows whether it still is the mask under
 * that id; the record arena (_flow_arena.ts); then
 * 4 float64 per slot (packets, bytes, used, created).
 *
 * A flow's record holds what varies in length (its masked key, actions
 * and miniflow: _flow_write.ts), so a flow costs what it uses rather
 * than the largest key and action list.
 * The arena holds on average ARENA_WORDS_PER_FLOW words per slot: a table
 * whose flows are longer than that on average refuses puts (ENOSPC)
 * before its slots run out, as a datapath out of memory does.
 *
 * Consistency protocol (single writer, any number of readers):
 * - Only the owning PMD writes. Every change to what a slot is (create,
 *   modify, delete) happens inside a per-slot seqlock: the writer
 *   stores seq+1 (odd) with Atomics.store, writes the fields with plain
 *   stores, then stores seq+2 (even) with Atomics.store, which publishes.
 * - A hit's statistics (packets, bytes, used, tcp_flags) are plain stores
 *   outside the seqlock, as OVS's dp_netdev_flow_used updates each counter
 *   on its own (relaxed atomics, no lock): a reader may see a hit's packet
 *   counted before its bytes, never a value no hit wrote (each counter is
 *   one aligned 8-byte store). Two Atomics.store per packet were a tenth
 *   of the EMC path's time. A flow's stats are zeroed inside the seqlock
 *   (create, modify), so a reused slot never shows its last flow's.
 * - A reader loads seq with Atomics.load, retries while it is odd, copies
 *   what it needs, and loads seq again: a different value means it raced
 *   a write and copies again. A copy taken between two equal even values
 *   is a state the writer really published.
 * - A mask is written before the first flow that uses it is published and
 *   is only reused after the last such flow is deleted; since the reader
 *   copies the mask inside the slot's seqlock, a reused mask shows up as
 *   a seq change and the copy is retried. Records are the same: a record
 *   is written before the slot points at it and freed only after the slot
 *   stopped pointing at it (modify, delete), both inside the seqlock.
 * - Slots never move: a flow keeps its slot from creation to deletion, so
 *   a dump that walks slot indices once sees every flow that lived
 *   through the whole dump exactly once. Freed slots are reused (the
 *   generation word changes), so a reader must never cache a slot index
 *   across calls without checking the generation.
 * - The high-water mark only grows and is stored after the slot it
 *   covers is published.
 */
import { FLOW_WORDS } from "../flow/mod.ts";
import { ARENA_MAX_UNITS, ARENA_UNIT_WORDS, FlowArena } from "./_flow_arena.ts";
import {
  ARENA_WORDS_PER_FLOW,
  FlowSnapshot,
  flowTableBytes,
  H_ARENA_UNITS,
  H_CAPACITY,
  H_FLOWS,
  H_HWM,
  H_MASK_CAPACITY,
  H_MASKS,
  HEADER_WORDS,
  M_ACT,
  M_ACTB,
  M_GEN,
  M_MASK,
  M_REC,
  M_SEQ,
  M_STATE,
  M_TCPF,
  META,
  recordUnits,
  S_BYTES,
  S_CREATED,
  S_PACKETS,
  S_USED,
  SLOT_FREE,
  SLOT_LIVE,
} from "./_flow_layout.ts";
import { copyFlowOut, readFlow, readFlowRest, readFlowTerse } from "./_flow_read.ts";
import {
  miniflowWordsAt,
  recordUnitsAt,
  repairTornSlots,
  rewriteRecord,
  writeRecord,
} from "./_flow_write.ts";

export {
  ACT_MAX_BYTES,
  ARENA_WORDS_PER_FLOW,
  FlowSnapshot,
  flowTableBytes,
  SLOT_FREE,
  SLOT_LIVE,
} from "./_flow_layout.ts";

/** Shared views over a flow table; the PMD and every reader build one. */
export class FlowTable {
  readonly sab: SharedArrayBuffer;
  readonly capacity: number;
  readonly maskCapacity: number;
  readonly i32: Int32Array;
  readonly u32: Uint32Array;
  readonly f64: Float64Array;
  readonly u8: Uint8Array;
  readonly metaBase: number;
  readonly ufidBase: number;
  readonly maskBase: number;
  /** Index in `i32` of mask 0's generation word. */
  readonly maskGenBase: number;
  readonly arenaBase: number;
  readonly arenaUnits: number;
  readonly statsBase: number;
  /** The writer's allocator, built on its first write (see _flow_arena.ts). */
  #arena: FlowArena | undefined;

  /** A table of `capacity` slots whose records average at most `arenaWordsPerFlow` words. */
  static create(
    capacity: number,
    maskCapacity = 512,
    arenaWordsPerFlow = ARENA_WORDS_PER_FLOW,
  ): FlowTable {
    const minUnits = 2 * ARENA_MAX_UNITS;
    const units = Math.max(minUnits, Math.ceil(capacity * arenaWordsPerFlow / ARENA_UNIT_WORDS));
    const sab = new SharedArrayBuffer(flowTableBytes(capacity, maskCapacity, units));
    const h = new Int32Array(sab, 0, HEADER_WORDS);
    h[H_CAPACITY] = capacity;
    h[H_MASK_CAPACITY] = maskCapacity;
    h[H_ARENA_UNITS] = units;
    return new FlowTable(sab);
  }

  constructor(sab: SharedArrayBuffer) {
    this.sab = sab;
    this.i32 = new Int32Array(sab);
    this.u32 = new Uint32Array(sab);
    this.f64 = new Float64Array(sab);
    this.u8 = new Uint8Array(sab);
    this.capacity = this.i32[H_CAPACITY];
    this.maskCapacity = this.i32[H_MASK_CAPACITY];
    this.arenaUnits = this.i32[H_ARENA_UNITS];
    this.metaBase = HEADER_WORDS;
    this.ufidBase = this.metaBase + this.capacity * META;
    this.maskBase = this.ufidBase + this.capacity * 4;
    this.maskGenBase = this.maskBase + this.maskCapacity * FLOW_WORDS;
    this.arenaBase = this.maskGenBase + this.maskCapacity;
    const end = this.arenaBase + this.arenaUnits * ARENA_UNIT_WORDS;
    this.statsBase = Math.ceil(end / 2);
  }

  /** Slots in use or once used; dumps walk [0, highWater()). */
  highWater(): number {
    return Atomics.load(this.i32, H_HWM);
  }

  flowCount(): number {
    return Atomics.load(this.i32, H_FLOWS);
  }

  maskCount(): number {
    return Atomics.load(this.i32, H_MASKS);
  }

  /**
   * Index in `u32` of live slot `slot`'s masked key: its mask's nonzero
   * words, in index order, each ANDed with the mask (what dpcls compares).
   */
  maskedKeyIndex(slot: number): number {
    return this.i32[this.metaBase + slot * META + M_REC];
  }

  maskIndex(maskId: number): number {
    return this.maskBase + maskId * FLOW_WORDS;
  }

  /** Byte offset (in `u8`) of slot `slot`'s encoded actions. */
  actionOffset(slot: number): number {
    return this.i32[this.metaBase + slot * META + M_ACT];
  }

  actionBytes(slot: number): number {
    return this.i32[this.metaBase + slot * META + M_ACTB];
  }

  meta(slot: number, field: number): number {
    return this.i32[this.metaBase + slot * META + field];
  }

  /** Copies a live slot into `out`; false if the slot is free. Lock-free. */
  read(slot: number, out: FlowSnapshot): boolean {
    return readFlow(this, slot, out);
  }

  /**
   * read() of a terse dump (dpif_flow_dump_create's `terse`): the UFID,
   * statistics and generation only; `out`'s key, mask and actions are
   * left as they were. Lock-free.
   */
  readTerse(slot: number, out: FlowSnapshot): boolean {
    return readFlowTerse(this, slot, out);
  }

  /**
   * Completes a terse read: `out`'s key, mask and actions from its slot,
   * if the flow `out.ufid` names is still there (a slot is reused once its
   * flow is deleted). Lock-free.
   */
  readRest(out: FlowSnapshot): boolean {
    return readFlowRest(this, out);
  }

  // ---- Writer side: only the owning PMD calls these. ----

  /**
   * Copies live slot `slot`'s key and mask into `dst` at word indices
   * `keyAt` and `maskAt`, and its actions into `dst8` from byte `actAt`;
   * returns the action byte count. Writer only (no seqlock).
   */
  copyFlow(
    slot: number,
    dst: Uint32Array,
    keyAt: number,
    maskAt: number,
    dst8: Uint8Array,
    actAt: number,
  ): number {
    return copyFlowOut(this, slot, dst, keyAt, maskAt, dst8, actAt);
  }

  private begin(m: number): number {
    const seq = this.i32[m + M_SEQ] + 1;
    Atomics.store(this.i32, m + M_SEQ, seq);
    return seq;
  }

  private end(m: number, seq: number): void {
    Atomics.store(this.i32, m + M_SEQ, seq + 1);
  }

  private arena(): FlowArena {
    if (this.#arena) return this.#arena;
    const live: [number, number][] = [];
    const hwm = this.highWater();
    const arena = new FlowArena(this.u32, this.arenaBase, this.arenaUnits);
    for (let s = 0; s < hwm; s++) {
      if (!this.isLive(s)) continue;
      const m = this.metaBase + s * META;
      live.push([arena.unitOf(this.i32[m + M_REC]), recordUnitsAt(this, m)]);
    }
    this.#arena = FlowArena.rebuilt(this.u32, this.arenaBase, this.arenaUnits, live);
    return this.#arena;
  }

  /** Writes mask `maskId`'s words and moves its generation; call before any flow refers to it. */
  writeMask(maskId: number, mask: Uint32Array, countDelta: number): void {
    this.u32.set(mask.subarray(0, FLOW_WORDS), this.maskIndex(maskId));
    this.i32[this.maskGenBase + maskId]++;
    Atomics.add(this.i32, H_MASKS, countDelta);
  }

  /** Whether a record of `units` (recordUnits: the mask's and key's nonzero words, the actions) has room in the arena now. */
  hasRoom(units: number): boolean {
    return this.arena().hasRoom(units);
  }

  /**
   * Publishes a new flow in free slot `slot`: its UFID and key are at word
   * indices `ufidAt` and `keyAt` of `src`, its `nAct` action bytes at byte
   * `actAt` of `src8` (indices, not views, so a put allocates nothing), its
   * record `units` long (as hasRoom was asked).
   * Mask `maskId` must be written; `hasRoom(units)` must have said yes.
   * `wordMask`, the mask's nonzero words as (index, word) pairs in index
   * order (its dpcls subtable's), spares the scan of the whole mask.
   */
  create(
    slot: number,
    src: Uint32Array,
    ufidAt: number,
    keyAt: number,
    maskId: number,
    src8: Uint8Array,
    actAt: number,
    nAct: number,
    now: number,
    units: number,
    wordMask?: Int32Array,
  ): void {
    const i32 = this.i32, u32 = this.u32;
    const arena = this.arena();
    const unit = arena.alloc(units);
    if (unit < 0) throw new Error("flow table arena full: FlowTable.hasRoom was not asked");
    const rec = arena.wordOf(unit);
    const a = writeRecord(this, rec, src, keyAt, maskId, src8, actAt, nAct, wordMask);
    const m = this.metaBase + slot * META;
    const seq = this.begin(m);
    i32[m + M_MASK] = maskId;
    i32[m + M_TCPF] = 0;
    i32[m + M_GEN] = i32[m + M_GEN] + 1;
    i32[m + M_REC] = rec;
    i32[m + M_ACT] = a;
    i32[m + M_ACTB] = nAct;
    const u = this.ufidBase + slot * 4;
    for (let i = 0; i < 4; i++) u32[u + i] = src[ufidAt + i];
    const s = this.statsBase + slot * 4;
    this.f64[s + S_PACKETS] = 0;
    this.f64[s + S_BYTES] = 0;
    this.f64[s + S_USED] = 0;
    this.f64[s + S_CREATED] = now;
    i32[m + M_STATE] = SLOT_LIVE;
    this.end(m, seq);
    if (slot >= i32[H_HWM]) Atomics.store(i32, H_HWM, slot + 1);
    Atomics.add(i32, H_FLOWS, 1);
  }

  /**
   * Replaces a live flow's actions with the `nAct` bytes at byte `actAt` of
   * `src8`, optionally zeroing its statistics. The flow gets a new record
   * (its keys copied over); false, and the flow unchanged, when the arena
   * has no room for it.
   */
  modify(slot: number, src8: Uint8Array, actAt: number, nAct: number, zeroStats: boolean): boolean {
    const i32 = this.i32;
    const m = this.metaBase + slot * META;
    const oldRec = i32[m + M_REC], oldN = i32[m + M_ACTB];
    const nMasked = (i32[m + M_ACT] >> 2) - oldRec, nKey = miniflowWordsAt(this, m);
    const arena = this.arena();
    const unit = arena.alloc(recordUnits(nMasked, nAct, nKey));
    if (unit < 0) return false;
    const rec = arena.wordOf(unit);
    const a = rewriteRecord(this, m, rec, nMasked, nKey, src8, actAt, nAct);
    const oldUnits = recordUnits(nMasked, oldN, nKey);
    const seq = this.begin(m);
    i32[m + M_REC] = rec;
    i32[m + M_ACT] = a;
    i32[m + M_ACTB] = nAct;
    if (zeroStats) {
      const s = this.statsBase + slot * 4;
      this.f64[s + S_PACKETS] = 0;
      this.f64[s + S_BYTES] = 0;
      this.f64[s + S_USED] = 0;
      i32[m + M_TCPF] = 0;
    }
    this.end(m, seq);
    arena.free(arena.unitOf(oldRec), oldUnits);
    return true;
  }

  /**
   * Counts `packets` packets of `bytes` bytes hitting a live flow; outside
   * the seqlock, as the consistency protocol above says.
   */
  hit(slot: number, packets: number, bytes: number, now: number, tcpFlags: number): void {
    const s = this.statsBase + slot * 4;
    const f64 = this.f64;
    f64[s + S_PACKETS] += packets;
    f64[s + S_BYTES] += bytes;
    if (now > f64[s + S_USED]) f64[s + S_USED] = now;
    if (tcpFlags !== 0) this.i32[this.metaBase + slot * META + M_TCPF] |= tcpFlags;
  }

  /** Frees a live slot and its record; its generation changes so caches drop it. */
  remove(slot: number): void {
    const m = this.metaBase + slot * META;
    const units = recordUnitsAt(this, m), rec = this.i32[m + M_REC];
    const seq = this.begin(m);
    this.i32[m + M_STATE] = SLOT_FREE;
    this.i32[m + M_GEN] = this.i32[m + M_GEN] + 1;
    this.end(m, seq);
    const arena = this.arena();
    arena.free(arena.unitOf(rec), units);
    Atomics.sub(this.i32, H_FLOWS, 1);
  }

  /**
   * After a writer died: every slot left mid-write (odd seq) is freed and
   * its seq made even again, the flow and mask counts are recounted, and
   * the arena's free space is worked out again from the live slots.
   * Only the new writer calls this, before it starts.
   */
  repairTornSlots(): void {
    repairTornSlots(this);
    this.#arena = undefined;
  }

  /** The slot's state word (writer-side check, no seqlock needed). */
  isLive(slot: number): boolean {
    return this.i32[this.metaBase + slot * META + M_STATE] === SLOT_LIVE;
  }

  generation(slot: number): number {
    return this.i32[this.metaBase + slot * META + M_GEN];
  }

  maskOf(slot: number): number {
    return this.i32[this.metaBase + slot * META + M_MASK];
  }
}

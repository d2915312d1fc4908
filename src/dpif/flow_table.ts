/**
 * The datapath flow table of one PMD, in one SharedArrayBuffer: megaflows
 * (UFID, unmasked key, mask, actions, statistics) in fixed slots, and the
 * distinct masks they use.
 *
 * Layout. A header (Int32: high-water slot count, flow count, mask count,
 * capacity, mask capacity), then per-slot arrays: 8 meta words
 * (seq, state, mask id, action bytes, tcp_flags, generation), 4 UFID
 * words, FLOW_WORDS key words, ACT_MAX_BYTES of actions and 4 float64
 * (packets, bytes, used, created); then the masks, FLOW_WORDS each.
 *
 * Consistency protocol (single writer, any number of readers):
 * - Only the owning PMD writes. Every change to a slot (create, modify,
 *   stats update, delete) happens inside a per-slot seqlock: the writer
 *   stores seq+1 (odd) with Atomics.store, writes the fields with plain
 *   stores, then stores seq+2 (even) with Atomics.store, which publishes.
 * - A reader loads seq with Atomics.load, retries while it is odd, copies
 *   what it needs, and loads seq again: a different value means it raced
 *   a write and copies again. A copy taken between two equal even values
 *   is a state the writer really published.
 * - A mask is written before the first flow that uses it is published and
 *   is only reused after the last such flow is deleted; since the reader
 *   copies the mask inside the slot's seqlock, a reused mask shows up as
 *   a seq change and the copy is retried.
 * - Slots never move: a flow keeps its slot from creation to deletion, so
 *   a dump that walks slot indices once sees every flow that lived
 *   through the whole dump exactly once. Freed slots are reused (the
 *   generation word changes), so a reader must never cache a slot index
 *   across calls without checking the generation.
 * - The high-water mark only grows and is stored after the slot it
 *   covers is published.
 */
import { FLOW_WORDS } from "../flow/mod.ts";

/** Bytes of encoded actions (src/flow's action codec) a flow can hold. */
export const ACT_MAX_BYTES = 384;
const ACT_MAX_WORDS = ACT_MAX_BYTES / 4;

const H_HWM = 0;
const H_FLOWS = 1;
const H_MASKS = 2;
const H_CAPACITY = 3;
const H_MASK_CAPACITY = 4;
const HEADER_WORDS = 16;

const META = 8;
const M_SEQ = 0;
const M_STATE = 1;
const M_MASK = 2;
const M_ACTB = 3;
const M_TCPF = 4;
const M_GEN = 5;

const S_PACKETS = 0;
const S_BYTES = 1;
const S_USED = 2;
const S_CREATED = 3;

export const SLOT_FREE = 0;
export const SLOT_LIVE = 1;

/** A reader's private copy of one flow; allocate once, refill many times. */
export class FlowSnapshot {
  slot = -1;
  generation = 0;
  readonly ufid = new Uint32Array(4);
  readonly key = new Uint32Array(FLOW_WORDS);
  readonly mask = new Uint32Array(FLOW_WORDS);
  /** Encoded actions (decode with `snapshotActions`). */
  readonly actions = new Uint8Array(ACT_MAX_BYTES);
  nActionBytes = 0;
  packets = 0;
  bytes = 0;
  /** time_msec() of the last hit, 0 for never. */
  used = 0;
  tcpFlags = 0;
  /** The index of the PMD whose table holds the flow (a flow belongs to one PMD). */
  pmd = 0;

  copyFrom(o: FlowSnapshot): void {
    this.slot = o.slot;
    this.pmd = o.pmd;
    this.generation = o.generation;
    this.ufid.set(o.ufid);
    this.key.set(o.key);
    this.mask.set(o.mask);
    this.actions.set(o.actions);
    this.nActionBytes = o.nActionBytes;
    this.packets = o.packets;
    this.bytes = o.bytes;
    this.used = o.used;
    this.tcpFlags = o.tcpFlags;
  }
}

export function flowTableBytes(capacity: number, maskCapacity: number): number {
  const words = HEADER_WORDS + capacity * (META + 4 + FLOW_WORDS + ACT_MAX_WORDS) +
    maskCapacity * FLOW_WORDS;
  return Math.ceil(words / 2) * 8 + capacity * 32;
}

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
  readonly keyBase: number;
  readonly actBase: number;
  readonly maskBase: number;
  readonly statsBase: number;

  static create(capacity: number, maskCapacity = 512): FlowTable {
    const sab = new SharedArrayBuffer(flowTableBytes(capacity, maskCapacity));
    const h = new Int32Array(sab, 0, HEADER_WORDS);
    h[H_CAPACITY] = capacity;
    h[H_MASK_CAPACITY] = maskCapacity;
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
    this.metaBase = HEADER_WORDS;
    this.ufidBase = this.metaBase + this.capacity * META;
    this.keyBase = this.ufidBase + this.capacity * 4;
    this.actBase = this.keyBase + this.capacity * FLOW_WORDS;
    this.maskBase = this.actBase + this.capacity * ACT_MAX_WORDS;
    const end = this.maskBase + this.maskCapacity * FLOW_WORDS;
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

  /** Index of slot `slot`'s first key word in `u32`. */
  keyIndex(slot: number): number {
    return this.keyBase + slot * FLOW_WORDS;
  }

  maskIndex(maskId: number): number {
    return this.maskBase + maskId * FLOW_WORDS;
  }

  /** Byte offset (in `u8`) of slot `slot`'s encoded actions. */
  actionOffset(slot: number): number {
    return (this.actBase + slot * ACT_MAX_WORDS) * 4;
  }

  actionBytes(slot: number): number {
    return this.i32[this.metaBase + slot * META + M_ACTB];
  }

  meta(slot: number, field: number): number {
    return this.i32[this.metaBase + slot * META + field];
  }

  /** Copies a live slot into `out`; false if the slot is free. Lock-free. */
  read(slot: number, out: FlowSnapshot): boolean {
    const i32 = this.i32, u32 = this.u32, f64 = this.f64;
    const m = this.metaBase + slot * META;
    for (;;) {
      const seq = Atomics.load(i32, m + M_SEQ);
      if (seq & 1) continue;
      if (i32[m + M_STATE] !== SLOT_LIVE) {
        if (Atomics.load(i32, m + M_SEQ) === seq) return false;
        continue;
      }
      const maskId = i32[m + M_MASK];
      const nAct = i32[m + M_ACTB];
      out.tcpFlags = i32[m + M_TCPF];
      out.generation = i32[m + M_GEN];
      const u = this.ufidBase + slot * 4;
      for (let i = 0; i < 4; i++) out.ufid[i] = u32[u + i];
      const k = this.keyBase + slot * FLOW_WORDS;
      const mk = this.maskBase + maskId * FLOW_WORDS;
      for (let i = 0; i < FLOW_WORDS; i++) {
        out.key[i] = u32[k + i];
        out.mask[i] = u32[mk + i];
      }
      const a = (this.actBase + slot * ACT_MAX_WORDS) * 4;
      const u8 = this.u8;
      for (let i = 0; i < nAct; i++) out.actions[i] = u8[a + i];
      out.nActionBytes = nAct;
      const s = this.statsBase + slot * 4;
      out.packets = f64[s + S_PACKETS];
      out.bytes = f64[s + S_BYTES];
      out.used = f64[s + S_USED];
      if (Atomics.load(i32, m + M_SEQ) === seq) {
        out.slot = slot;
        return true;
      }
    }
  }

  // ---- Writer side: only the owning PMD calls these. ----

  private begin(m: number): number {
    const seq = this.i32[m + M_SEQ] + 1;
    Atomics.store(this.i32, m + M_SEQ, seq);
    return seq;
  }

  private end(m: number, seq: number): void {
    Atomics.store(this.i32, m + M_SEQ, seq + 1);
  }

  /** Writes mask `maskId`'s words; call before any flow refers to it. */
  writeMask(maskId: number, mask: Uint32Array, countDelta: number): void {
    this.u32.set(mask.subarray(0, FLOW_WORDS), this.maskIndex(maskId));
    Atomics.add(this.i32, H_MASKS, countDelta);
  }

  /**
   * Publishes a new flow in free slot `slot`: its UFID and key are at word
   * indices `ufidAt` and `keyAt` of `src`, its `nAct` action bytes at byte
   * `actAt` of `src8` (indices, not views, so a put allocates nothing).
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
  ): void {
    const m = this.metaBase + slot * META;
    const seq = this.begin(m);
    const i32 = this.i32, u32 = this.u32;
    i32[m + M_MASK] = maskId;
    i32[m + M_TCPF] = 0;
    i32[m + M_GEN] = i32[m + M_GEN] + 1;
    const u = this.ufidBase + slot * 4;
    for (let i = 0; i < 4; i++) u32[u + i] = src[ufidAt + i];
    const k = this.keyBase + slot * FLOW_WORDS;
    for (let i = 0; i < FLOW_WORDS; i++) u32[k + i] = src[keyAt + i];
    this.writeActions(slot, src8, actAt, nAct);
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

  private writeActions(slot: number, src8: Uint8Array, actAt: number, nAct: number): void {
    const a = (this.actBase + slot * ACT_MAX_WORDS) * 4;
    const u8 = this.u8;
    for (let i = 0; i < nAct; i++) u8[a + i] = src8[actAt + i];
    this.i32[this.metaBase + slot * META + M_ACTB] = nAct;
  }

  /**
   * Replaces a live flow's actions with the `nAct` bytes at byte `actAt` of
   * `src8`, optionally zeroing its statistics.
   */
  modify(slot: number, src8: Uint8Array, actAt: number, nAct: number, zeroStats: boolean): void {
    const m = this.metaBase + slot * META;
    const seq = this.begin(m);
    this.writeActions(slot, src8, actAt, nAct);
    if (zeroStats) {
      const s = this.statsBase + slot * 4;
      this.f64[s + S_PACKETS] = 0;
      this.f64[s + S_BYTES] = 0;
      this.f64[s + S_USED] = 0;
      this.i32[m + M_TCPF] = 0;
    }
    this.end(m, seq);
  }

  /** Counts `packets` packets of `bytes` bytes hitting a live flow. */
  hit(slot: number, packets: number, bytes: number, now: number, tcpFlags: number): void {
    const m = this.metaBase + slot * META;
    const seq = this.begin(m);
    const s = this.statsBase + slot * 4;
    const f64 = this.f64;
    f64[s + S_PACKETS] += packets;
    f64[s + S_BYTES] += bytes;
    if (now > f64[s + S_USED]) f64[s + S_USED] = now;
    this.i32[m + M_TCPF] |= tcpFlags;
    this.end(m, seq);
  }

  /** Frees a live slot; its generation changes so caches drop it. */
  remove(slot: number): void {
    const m = this.metaBase + slot * META;
    const seq = this.begin(m);
    this.i32[m + M_STATE] = SLOT_FREE;
    this.i32[m + M_GEN] = this.i32[m + M_GEN] + 1;
    this.end(m, seq);
    Atomics.sub(this.i32, H_FLOWS, 1);
  }

  /**
   * After a writer died: every slot left mid-write (odd seq) is freed and
   * its seq made even again, and the flow and mask counts are recounted.
   * Only the new writer calls this, before it starts.
   */
  repairTornSlots(): void {
    const i32 = this.i32, hwm = this.highWater();
    let flows = 0;
    const masks = new Set<number>();
    for (let s = 0; s < hwm; s++) {
      const m = this.metaBase + s * META;
      if (i32[m + M_SEQ] & 1) {
        i32[m + M_STATE] = SLOT_FREE;
        i32[m + M_GEN] = i32[m + M_GEN] + 1;
        Atomics.store(i32, m + M_SEQ, i32[m + M_SEQ] + 1);
      }
      if (i32[m + M_STATE] === SLOT_LIVE) {
        flows++;
        masks.add(i32[m + M_MASK]);
      }
    }
    Atomics.store(i32, H_FLOWS, flows);
    Atomics.store(i32, H_MASKS, masks.size);
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

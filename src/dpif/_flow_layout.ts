/**
 * The layout of a PMD's flow table (flow_table.ts, whose essay describes
 * it and its consistency protocol): header words, per-slot meta words and
 * statistics, record sizes; and the reader's copy of one flow
 * (`FlowSnapshot`). Private to src/dpif.
 *
 * Thread-safety: constants and pure functions; a FlowSnapshot belongs to
 * the thread that fills it.
 */
import { FLOW_WORDS } from "../flow/mod.ts";
import { ARENA_MAX_UNITS, ARENA_UNIT_WORDS } from "./_flow_arena.ts";

/** Bytes of encoded actions (src/flow's action codec) a flow can hold. */
export const ACT_MAX_BYTES = 384;
/** Arena words per slot: room for an average flow (a TCP key, a few actions) and more. */
export const ARENA_WORDS_PER_FLOW = 48;
/** Words of a key's miniflow map: one bit per key word. */
export const MAP_WORDS = Math.ceil(FLOW_WORDS / 32);
if (
  Math.ceil((2 * FLOW_WORDS + MAP_WORDS + ACT_MAX_BYTES / 4) / ARENA_UNIT_WORDS) > ARENA_MAX_UNITS
) {
  throw new Error("the flow arena's largest record is smaller than the largest flow");
}

export const H_HWM = 0;
export const H_FLOWS = 1;
export const H_MASKS = 2;
export const H_CAPACITY = 3;
export const H_MASK_CAPACITY = 4;
export const H_ARENA_UNITS = 5;
export const HEADER_WORDS = 16;

export const META = 8;
export const M_SEQ = 0;
export const M_STATE = 1;
export const M_MASK = 2;
export const M_ACTB = 3;
export const M_TCPF = 4;
export const M_GEN = 5;
/** Word index (in `u32`) of the slot's record: its masked key. */
export const M_REC = 6;
/** Byte index (in `u8`) of the slot's encoded actions, inside its record. */
export const M_ACT = 7;

export const S_PACKETS = 0;
export const S_BYTES = 1;
export const S_USED = 2;
export const S_CREATED = 3;

export const SLOT_FREE = 0;
export const SLOT_LIVE = 1;

export function popcount(x: number): number {
  x = x - ((x >>> 1) & 0x55555555);
  x = (x & 0x33333333) + ((x >>> 2) & 0x33333333);
  return (Math.imul((x + (x >>> 4)) & 0x0f0f0f0f, 0x01010101) >>> 24);
}

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
  /**
   * What `mask` holds a copy of: mask `maskId` of the table in `maskTable`
   * as of its generation `maskGen` (null: unknown), so that a read of
   * another flow with the same mask need not copy it again.
   */
  maskTable: SharedArrayBuffer | null = null;
  maskId = -1;
  maskGen = 0;

  copyFrom(o: FlowSnapshot): void {
    this.slot = o.slot;
    this.pmd = o.pmd;
    this.generation = o.generation;
    this.ufid.set(o.ufid);
    this.key.set(o.key);
    this.mask.set(o.mask);
    this.maskTable = o.maskTable;
    this.maskId = o.maskId;
    this.maskGen = o.maskGen;
    this.actions.set(o.actions);
    this.nActionBytes = o.nActionBytes;
    this.packets = o.packets;
    this.bytes = o.bytes;
    this.used = o.used;
    this.tcpFlags = o.tcpFlags;
  }
}

export function flowTableBytes(capacity: number, maskCapacity: number, arenaUnits: number): number {
  const words = HEADER_WORDS + capacity * (META + 4) + maskCapacity * (FLOW_WORDS + 1) +
    arenaUnits * ARENA_UNIT_WORDS;
  return Math.ceil(words / 2) * 8 + capacity * 32;
}

/** Arena units of a record: `nMasked` masked key words, `nAct` action bytes, `nKey` nonzero key words. */
export function recordUnits(nMasked: number, nAct: number, nKey: number): number {
  return Math.ceil((nMasked + ((nAct + 3) >> 2) + MAP_WORDS + nKey) / ARENA_UNIT_WORDS);
}

/**
 * The flow table writer's helpers (flow_table.ts): records, and the
 * repair after a writer died.
 *
 * A flow's record in the flow table's arena:
 * the key masked by the flow's mask (the mask's nonzero words only, in
 * index order: what dpcls hashes and compares), then the encoded actions
 * (padded to a word), then the unmasked key as a miniflow (MAP_WORDS map
 * words, then the nonzero key words in index order). Here: how many
 * arena units a record takes, and writing one (a new flow's, or a copy
 * with new actions for modify).
 *
 * Thread-safety: the owning PMD only, before the slot's seqlock publishes
 * the record (writeRecord, rewriteRecord) or on a record it owns;
 * repairTornSlots by a new writer before it starts.
 */
import { FLOW_WORDS } from "../flow/mod.ts";
import {
  H_FLOWS,
  H_MASKS,
  M_ACT,
  M_ACTB,
  M_GEN,
  M_MASK,
  M_REC,
  M_SEQ,
  M_STATE,
  MAP_WORDS,
  META,
  popcount,
  recordUnits,
  SLOT_FREE,
  SLOT_LIVE,
} from "./_flow_layout.ts";
import type { FlowTable } from "./flow_table.ts";

/** The arena units of the record of the slot whose meta starts at `m`. */
export function recordUnitsAt(t: FlowTable, m: number): number {
  const i32 = t.i32;
  const nMasked = (i32[m + M_ACT] >> 2) - i32[m + M_REC];
  return recordUnits(nMasked, i32[m + M_ACTB], miniflowWordsAt(t, m));
}

/**
 * Writes a new flow's record at word `rec`: the key at word `keyAt` of
 * `src` masked by mask `maskId` (or by `wordMask`, its nonzero words as
 * (index, word) pairs, which spares the scan of the whole mask), the
 * `nAct` action bytes at byte `actAt` of `src8`, then the key's
 * miniflow. Returns the byte offset of the actions.
 */
export function writeRecord(
  t: FlowTable,
  rec: number,
  src: Uint32Array,
  keyAt: number,
  maskId: number,
  src8: Uint8Array,
  actAt: number,
  nAct: number,
  wordMask: Int32Array | undefined,
): number {
  const u32 = t.u32;
  let j = rec;
  if (wordMask) {
    for (let p = 0; p < wordMask.length; p += 2) {
      u32[j++] = src[keyAt + wordMask[p]] & wordMask[p + 1];
    }
  } else {
    const mk = t.maskIndex(maskId);
    for (let i = 0; i < FLOW_WORDS; i++) {
      const mw = u32[mk + i];
      if (mw !== 0) u32[j++] = src[keyAt + i] & mw;
    }
  }
  const a = j * 4;
  writeActions(t.u8, a, src8, actAt, nAct);
  const mf = (a + nAct + 3) >> 2;
  // The map's words are built in a local and stored once each.
  let v = mf + MAP_WORDS;
  for (let w = 0; w < MAP_WORDS; w++) {
    let bits = 0;
    const end = Math.min(FLOW_WORDS, (w + 1) << 5);
    for (let i = w << 5; i < end; i++) {
      const kw = src[keyAt + i];
      if (kw === 0) continue;
      bits |= 1 << (i & 31);
      u32[v++] = kw;
    }
    u32[mf + w] = bits;
  }
  return a;
}

/** The nonzero key words the miniflow of the record of the slot whose meta starts at `m` holds. */
export function miniflowWordsAt(t: FlowTable, m: number): number {
  const i32 = t.i32, u32 = t.u32;
  const mf = (i32[m + M_ACT] + i32[m + M_ACTB] + 3) >> 2;
  let nKey = 0;
  for (let w = 0; w < MAP_WORDS; w++) nKey += popcount(u32[mf + w]);
  return nKey;
}

/**
 * Writes at word `rec` a copy of the record of the slot whose meta starts
 * at `m` (of `nMasked` masked key words and `nKey` miniflow words) with
 * the `nAct` action bytes at byte `actAt` of `src8` in its actions'
 * place. Returns the byte offset of the new actions.
 */
export function rewriteRecord(
  t: FlowTable,
  m: number,
  rec: number,
  nMasked: number,
  nKey: number,
  src8: Uint8Array,
  actAt: number,
  nAct: number,
): number {
  const i32 = t.i32, u32 = t.u32;
  const oldRec = i32[m + M_REC], oldAct = i32[m + M_ACT], oldN = i32[m + M_ACTB];
  const oldMf = (oldAct + oldN + 3) >> 2;
  u32.copyWithin(rec, oldRec, oldRec + nMasked);
  const a = (rec + nMasked) * 4;
  writeActions(t.u8, a, src8, actAt, nAct);
  const mf = (a + nAct + 3) >> 2;
  u32.copyWithin(mf, oldMf, oldMf + MAP_WORDS + nKey);
  return a;
}

function writeActions(u8: Uint8Array, at: number, src8: Uint8Array, actAt: number, nAct: number) {
  for (let i = 0; i < nAct; i++) u8[at + i] = src8[actAt + i];
}

/**
 * After a writer died: every slot left mid-write (odd seq) is freed and
 * its seq made even again, and the flow and mask counts are recounted.
 * (The caller then works out the arena's free space again.)
 */
export function repairTornSlots(t: FlowTable): void {
  const i32 = t.i32, hwm = t.highWater();
  let flows = 0;
  const masks = new Set<number>();
  for (let s = 0; s < hwm; s++) {
    const m = t.metaBase + s * META;
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

/**
 * Reading a PMD's flow table (flow_table.ts): the lock-free seqlock reads
 * a dump or a flow_get makes from any thread, the terse read of a stats
 * pass, and the writer's own copy of a flow; each rebuilds the full key
 * from the record's miniflow.
 *
 * Thread-safety: readFlow, readFlowTerse and readFlowRest may run on any
 * thread, beside the writer, and retry when they race it; copyFlowOut is
 * the owning PMD's only.
 */
import { FLOW_WORDS } from "../flow/mod.ts";
import {
  M_ACT,
  M_ACTB,
  M_GEN,
  M_MASK,
  M_SEQ,
  M_STATE,
  M_TCPF,
  MAP_WORDS,
  META,
  S_BYTES,
  S_PACKETS,
  S_USED,
  SLOT_LIVE,
} from "./_flow_layout.ts";
import type { FlowSnapshot } from "./_flow_layout.ts";
import type { FlowTable } from "./flow_table.ts";

/** Copies a live slot into `out`; false if the slot is free. Lock-free. */
export function readFlow(t: FlowTable, slot: number, out: FlowSnapshot): boolean {
  const i32 = t.i32, u32 = t.u32, f64 = t.f64;
  const m = t.metaBase + slot * META;
  for (;;) {
    const seq = Atomics.load(i32, m + M_SEQ);
    if (seq & 1) continue;
    if (i32[m + M_STATE] !== SLOT_LIVE) {
      if (Atomics.load(i32, m + M_SEQ) === seq) return false;
      continue;
    }
    const maskId = i32[m + M_MASK];
    const nAct = i32[m + M_ACTB];
    const a = i32[m + M_ACT];
    out.tcpFlags = i32[m + M_TCPF];
    out.generation = i32[m + M_GEN];
    const u = t.ufidBase + slot * 4;
    for (let i = 0; i < 4; i++) out.ufid[i] = u32[u + i];
    readMask(t, maskId, out);
    expandKey(t, (a + nAct + 3) >> 2, out.key, 0);
    const u8 = t.u8;
    for (let i = 0; i < nAct; i++) out.actions[i] = u8[a + i];
    out.nActionBytes = nAct;
    const s = t.statsBase + slot * 4;
    out.packets = f64[s + S_PACKETS];
    out.bytes = f64[s + S_BYTES];
    out.used = f64[s + S_USED];
    if (Atomics.load(i32, m + M_SEQ) === seq) {
      out.slot = slot;
      return true;
    }
    // Raced a write: what was copied, the mask too, may be torn.
    out.maskId = -1;
  }
}

/**
 * read() of a terse dump (dpif_flow_dump_create's `terse`): the UFID,
 * statistics and generation only; `out`'s key, mask and actions are
 * left as they were. Lock-free.
 */
export function readFlowTerse(t: FlowTable, slot: number, out: FlowSnapshot): boolean {
  const i32 = t.i32, u32 = t.u32, f64 = t.f64;
  const m = t.metaBase + slot * META;
  for (;;) {
    const seq = Atomics.load(i32, m + M_SEQ);
    if (seq & 1) continue;
    if (i32[m + M_STATE] !== SLOT_LIVE) {
      if (Atomics.load(i32, m + M_SEQ) === seq) return false;
      continue;
    }
    out.tcpFlags = i32[m + M_TCPF];
    out.generation = i32[m + M_GEN];
    const u = t.ufidBase + slot * 4;
    out.ufid[0] = u32[u];
    out.ufid[1] = u32[u + 1];
    out.ufid[2] = u32[u + 2];
    out.ufid[3] = u32[u + 3];
    const s = t.statsBase + slot * 4;
    out.packets = f64[s + S_PACKETS];
    out.bytes = f64[s + S_BYTES];
    out.used = f64[s + S_USED];
    if (Atomics.load(i32, m + M_SEQ) === seq) {
      out.slot = slot;
      return true;
    }
  }
}

/**
 * Completes a terse read: `out`'s key, mask and actions from its slot,
 * if the flow `out.ufid` names is still there (a slot is reused once its
 * flow is deleted). Lock-free.
 */
export function readFlowRest(t: FlowTable, out: FlowSnapshot): boolean {
  const i32 = t.i32, u32 = t.u32, u8 = t.u8;
  const slot = out.slot;
  const m = t.metaBase + slot * META;
  const u = t.ufidBase + slot * 4;
  for (;;) {
    const seq = Atomics.load(i32, m + M_SEQ);
    if (seq & 1) continue;
    if (
      i32[m + M_STATE] !== SLOT_LIVE || u32[u] !== out.ufid[0] || u32[u + 1] !== out.ufid[1] ||
      u32[u + 2] !== out.ufid[2] || u32[u + 3] !== out.ufid[3]
    ) {
      if (Atomics.load(i32, m + M_SEQ) === seq) return false;
      continue;
    }
    readMask(t, i32[m + M_MASK], out);
    const nAct = i32[m + M_ACTB];
    const a = i32[m + M_ACT];
    expandKey(t, (a + nAct + 3) >> 2, out.key, 0);
    for (let i = 0; i < nAct; i++) out.actions[i] = u8[a + i];
    out.nActionBytes = nAct;
    if (Atomics.load(i32, m + M_SEQ) === seq) return true;
    out.maskId = -1;
  }
}

/**
 * Copies mask `maskId` into `out.mask` unless `out` holds it already (the
 * same table, id and generation), inside the caller's seqlock read: a
 * mask is rewritten only after its last flow is gone, which moves the
 * slot's seq, so when the read ends on an unchanged seq the id and
 * generation read here match the words. A read that must be retried
 * makes `out` name no mask (its copy may be torn).
 */
function readMask(t: FlowTable, maskId: number, out: FlowSnapshot): void {
  const gen = t.i32[t.maskGenBase + maskId];
  if (out.maskId === maskId && out.maskGen === gen && out.maskTable === t.sab) return;
  out.maskId = -1;
  const u32 = t.u32, mask = out.mask;
  const mk = t.maskBase + maskId * FLOW_WORDS;
  for (let i = 0; i < FLOW_WORDS; i++) mask[i] = u32[mk + i];
  out.maskTable = t.sab;
  out.maskGen = gen;
  out.maskId = maskId;
}

/**
 * Writes the full key of the miniflow at word `mf` into `dst` from
 * `at`. A torn read may hand it garbage: writes past `dst` are dropped
 * by the typed array and the caller's seq check retries.
 */
function expandKey(t: FlowTable, mf: number, dst: Uint32Array, at: number): void {
  const u32 = t.u32;
  dst.fill(0, at, at + FLOW_WORDS);
  let v = mf + MAP_WORDS;
  for (let w = 0; w < MAP_WORDS; w++) {
    let bits = u32[mf + w];
    while (bits !== 0) {
      const low = bits & -bits;
      dst[at + w * 32 + 31 - Math.clz32(low)] = u32[v++];
      bits ^= low;
    }
  }
}

/**
 * Copies live slot `slot`'s key and mask into `dst` at word indices
 * `keyAt` and `maskAt`, and its actions into `dst8` from byte `actAt`;
 * returns the action byte count. Writer only (no seqlock).
 */
export function copyFlowOut(
  t: FlowTable,
  slot: number,
  dst: Uint32Array,
  keyAt: number,
  maskAt: number,
  dst8: Uint8Array,
  actAt: number,
): number {
  const m = t.metaBase + slot * META, i32 = t.i32, u32 = t.u32, u8 = t.u8;
  const mk = t.maskBase + i32[m + M_MASK] * FLOW_WORDS;
  for (let i = 0; i < FLOW_WORDS; i++) dst[maskAt + i] = u32[mk + i];
  const a = i32[m + M_ACT], nAct = i32[m + M_ACTB];
  expandKey(t, (a + nAct + 3) >> 2, dst, keyAt);
  for (let i = 0; i < nAct; i++) dst8[actAt + i] = u8[a + i];
  return nAct;
}

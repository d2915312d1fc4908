/**
 * The udpif half of `ofproto/detrace UFID [pmd=PMD-ID]` (OVS 3.4, commit
 * 600125b2c "ofproto: Add ofproto/detrace command to map UFIDs to
 * OpenFlow.", with b272282ab "ofproto: Fix default pmd_id for
 * ofproto/detrace."): find the ukey, and if it is in use (VISIBLE or
 * OPERATIONAL) and a revalidator built its xlate cache, ask that
 * revalidator's worker what the cache recorded. The daemon formats the
 * rules (it owns the OpenFlow tables).
 *
 * Main thread only. The answer comes between the revalidator's phases, so
 * it waits at most for one phase (or a timeout, for a dead worker).
 */
import { CommandError } from "../lib/mod.ts";
import type { XcacheDescription } from "./ports.ts";
import type { Udpif } from "./udpif.ts";
import { UKEY_OPERATIONAL, UKEY_VISIBLE } from "./ukey_table.ts";

/** The pmd id handlers give the ukeys of the main thread's flows (handler.ts). */
const MAIN_THREAD_PMD = 0;
/** NON_PMD_CORE_ID: how `pmd=-1` (as dpctl/dump-flows names the main thread) reads unsigned. */
const NON_PMD_CORE_ID = 0xffffffff;

/** What one udpif knows about a UFID. */
export type DetraceResult =
  | { kind: "no-ufid" }
  | { kind: "no-cache" }
  | { kind: "cache"; description: XcacheDescription };

/** odp_ufid_from_string(): `ufid:` and a UUID, anything after it ignored. */
export function parseDetraceUfid(text: string): Uint32Array {
  const m =
    /^ufid:([0-9a-f]{8})-([0-9a-f]{4})-([0-9a-f]{4})-([0-9a-f]{4})-([0-9a-f]{4})([0-9a-f]{8})/i
      .exec(text);
  if (!m) throw new CommandError("failed to parse ufid");
  const n = (x: string) => parseInt(x, 16);
  return Uint32Array.of(
    n(m[1]),
    ((n(m[2]) << 16) | n(m[3])) >>> 0,
    ((n(m[4]) << 16) | n(m[5])) >>> 0,
    n(m[6]),
  );
}

/**
 * `pmd=PMD-ID` as OVS scans it (`pmd=%d`, read unsigned), as the pmd id
 * udpif's ukeys carry; undefined without the argument (the main thread's).
 */
export function parseDetracePmd(text: string | undefined): number {
  if (text === undefined) return MAIN_THREAD_PMD;
  const m = /^pmd=\s*([+-]?\d+)/.exec(text);
  if (!m) throw new CommandError("Invalid pmd argument format. Expecting 'pmd=PMD-ID'");
  const id = Number(BigInt.asUintN(32, BigInt(m[1])));
  return id === NON_PMD_CORE_ID ? MAIN_THREAD_PMD : id;
}

/** The ukey with `ufid` on `pmdId` in `u`, and its xlate cache if it has one in use. */
export async function detraceUkey(
  u: Udpif,
  ufid: Uint32Array,
  pmdId: number,
): Promise<DetraceResult> {
  const { ukeys } = u;
  const slot = ukeys.lookup(ufid, pmdId);
  if (slot < 0) return { kind: "no-ufid" };
  // Read under the ukey's lock, as OVS does (held for one flow's work at most).
  ukeys.lock(slot);
  const state = ukeys.state(slot);
  const owner = ukeys.xcacheOwner(slot);
  const gen = ukeys.gen(slot);
  ukeys.unlock(slot);
  if ((state !== UKEY_VISIBLE && state !== UKEY_OPERATIONAL) || owner === 0) {
    return { kind: "no-cache" };
  }
  const description = await u.workers.queryXcache(owner - 1, slot, gen);
  return description ? { kind: "cache", description } : { kind: "no-cache" };
}

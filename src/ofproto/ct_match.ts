/**
 * The prerequisite of the original-direction conntrack fields in a match
 * (MFP_CT_VALID, is_ct_valid with a mask): ct_nw_src and its siblings
 * mean something only for a packet whose ct_state the rule pins to a
 * valid connection, one of new, est, rel, rpl, snat, dnat matched set, or
 * trk set with inv matched clear.
 */
import {
  CS_DST_NAT,
  CS_ESTABLISHED,
  CS_INVALID,
  CS_NEW,
  CS_RELATED,
  CS_REPLY_DIR,
  CS_SRC_NAT,
  CS_TRACKED,
  F,
} from "../flow/mod.ts";
import { MF_FIELDS } from "./meta_flow.ts";
import type { Match } from "./match.ts";

const VALID = CS_NEW | CS_ESTABLISHED | CS_RELATED | CS_REPLY_DIR | CS_SRC_NAT | CS_DST_NAT;

/** Whether match key `k` under mask `w` implies a valid conntrack entry. */
function ctValid(k: Uint8Array, w: Uint8Array): boolean {
  const state = k[F.ct_state.off], mask = w[F.ct_state.off];
  return (state & VALID) !== 0 ||
    ((state & CS_TRACKED) !== 0 && (mask & CS_INVALID) !== 0 && !(state & CS_INVALID));
}

/** The first ct field `m` matches without its prerequisite, or null (OFPBMC_BAD_PREREQ). */
export function ctFieldLackingPrereq(m: Match): string | null {
  const k = new Uint8Array(m.key.buffer, m.key.byteOffset, m.key.byteLength);
  const w = new Uint8Array(m.mask.buffer, m.mask.byteOffset, m.mask.byteLength);
  if (ctValid(k, w)) return null;
  for (const fl of MF_FIELDS) {
    if (fl.prereq !== "ct") continue;
    for (let i = 0; i < fl.nBytes; i++) if (w[fl.off + i]) return fl.name;
  }
  return null;
}

/**
 * Connections of protocols without a tracker of their own (UDP and the
 * rest), as OVS's lib/conntrack-other.c: first packet, several in one
 * direction, then both directions. The state is one word of the slot
 * (S_PSTATE). Allocates nothing.
 */
import { S_PSTATE } from "./_table.ts";
import { type CtTimeout, TM } from "./_timeouts.ts";
import { CT_UPDATE_VALID, CT_UPDATE_VALID_NEW } from "./tcp.ts";

const OTHERS_FIRST = 0, OTHERS_MULTIPLE = 1, OTHERS_BIDIR = 2;

/** other_conn_update: the slot at `b` sees a packet; returns CT_UPDATE_*. */
export function otherConnUpdate(w: Int32Array, b: number, reply: boolean): number {
  const s = w[b + S_PSTATE];
  if (reply && s !== OTHERS_BIDIR) w[b + S_PSTATE] = OTHERS_BIDIR;
  else if (s === OTHERS_FIRST) w[b + S_PSTATE] = OTHERS_MULTIPLE;
  return w[b + S_PSTATE] === OTHERS_BIDIR ? CT_UPDATE_VALID : CT_UPDATE_VALID_NEW;
}

/** The timeout of the connection at slot base `b` in its state. */
export function otherTimeout(w: Int32Array, b: number): CtTimeout {
  const s = w[b + S_PSTATE];
  return s === OTHERS_BIDIR
    ? TM.OTHER_BIDIR
    : s === OTHERS_MULTIPLE
    ? TM.OTHER_MULTIPLE
    : TM.OTHER_FIRST;
}

/**
 * The life of a udpif key, as ofproto-dpif-upcall.c's enum ukey_state and
 * transition_ukey_at(): a ukey is CREATED private to one thread, becomes
 * VISIBLE in its umap while its flow install is queued, OPERATIONAL once
 * the flow is in the datapath, INCONSISTENT when a revalidator's modify of
 * its flow failed (OVS 3.2, cf11766cb "ofproto-dpif-upcall: Fix push_dp_ops
 * to handle all errors."; the next dump or sweep deletes the flow),
 * EVICTING while a delete is queued, EVICTED when the flow is gone, and
 * DELETED when it has left the umap and waits to be freed. The numbers
 * are the newest OVS's; OVS 3.1 had no INCONSISTENT, so the later states
 * were one less, and its log lines print that (`ukeyStateNumber`).
 *
 * States only advance, one step at a time, except that a VISIBLE ukey may
 * go to any state short of DELETED (EVICTED: the handler's install failed;
 * EVICTING: a revalidator swept the ukey before dumping its flow), an
 * OPERATIONAL one may skip INCONSISTENT to EVICTING, and asking an
 * OPERATIONAL ukey to become OPERATIONAL again is no change. Anything else
 * is refused: OVS aborts the process on a backward step and warns (rate
 * limited) on the others; a worker here must not die, so both are logged,
 * rate limited, and the state is left as it was.
 */
import { getLogger } from "../lib/mod.ts";
import { RateLimit } from "./_rate_limit.ts";

export const UKEY_CREATED = 0;
export const UKEY_VISIBLE = 1;
export const UKEY_OPERATIONAL = 2;
export const UKEY_INCONSISTENT = 3;
export const UKEY_EVICTING = 4;
export const UKEY_EVICTED = 5;
export const UKEY_DELETED = 6;

/** A ukey state (enum ukey_state). */
export type UkeyState =
  | typeof UKEY_CREATED
  | typeof UKEY_VISIBLE
  | typeof UKEY_OPERATIONAL
  | typeof UKEY_INCONSISTENT
  | typeof UKEY_EVICTING
  | typeof UKEY_EVICTED
  | typeof UKEY_DELETED;

/** What transition_ukey_at() makes of a step from `src` to `dst`. */
export type UkeyTransition = "advance" | "unchanged" | "backwards" | "refused";

export function ukeyTransition(src: number, dst: UkeyState): UkeyTransition {
  if (dst < src) return "backwards";
  if (src === dst && dst === UKEY_OPERATIONAL) return "unchanged";
  if (
    src === dst - 1 || (src === UKEY_VISIBLE && dst < UKEY_DELETED) ||
    (src === UKEY_OPERATIONAL && dst === UKEY_EVICTING)
  ) return "advance";
  return "refused";
}

/** The number OVS's logs print for `state`: OVS 3.1's enum had no INCONSISTENT. */
export function ukeyStateNumber(state: number, compat31: boolean): number {
  return compat31 && state > UKEY_INCONSISTENT ? state - 1 : state;
}

const log = getLogger("ofproto_dpif_upcall");
/** OVS's file-wide `rl` in ofproto-dpif-upcall.c: VLOG_RATE_LIMIT_INIT(1, 5). */
const rl = new RateLimit(1, 5);

/**
 * Logs a refused step, OVS's words for each kind; `ufid` is the ukey's, as
 * odp_format_ufid prints it; the states numbered as the OVS followed does.
 */
export function logRefusedTransition(
  kind: UkeyTransition,
  ufid: string,
  from: number,
  to: number,
  compat31: boolean,
) {
  if (!rl.allow()) return;
  const src = ukeyStateNumber(from, compat31), dst = ukeyStateNumber(to, compat31);
  if (kind === "backwards") log.error(`Invalid ukey transition ${src}->${dst} for ukey ${ufid}`);
  else log.warn(`Invalid state transition for ukey ${ufid}: ${src} -> ${dst}`);
}

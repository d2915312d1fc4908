/**
 * The life of a udpif key, as ofproto-dpif-upcall.c's enum ukey_state and
 * transition_ukey_at(): a ukey is CREATED private to one thread, becomes
 * VISIBLE in its umap while its flow install is queued, OPERATIONAL once
 * the flow is in the datapath, EVICTING while a delete is queued, EVICTED
 * when the flow is gone, and DELETED when it has left the umap and waits
 * to be freed.
 *
 * States only advance, one step at a time, except that a VISIBLE ukey may
 * go to any state short of DELETED (EVICTED: the handler's install failed;
 * EVICTING: a revalidator swept the ukey before dumping its flow), and asking an
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
export const UKEY_EVICTING = 3;
export const UKEY_EVICTED = 4;
export const UKEY_DELETED = 5;

/** A ukey state (enum ukey_state). */
export type UkeyState =
  | typeof UKEY_CREATED
  | typeof UKEY_VISIBLE
  | typeof UKEY_OPERATIONAL
  | typeof UKEY_EVICTING
  | typeof UKEY_EVICTED
  | typeof UKEY_DELETED;

/** What transition_ukey_at() makes of a step from `src` to `dst`. */
export type UkeyTransition = "advance" | "unchanged" | "backwards" | "refused";

export function ukeyTransition(src: number, dst: UkeyState): UkeyTransition {
  if (dst < src) return "backwards";
  if (src === dst && dst === UKEY_OPERATIONAL) return "unchanged";
  if (src === dst - 1 || (src === UKEY_VISIBLE && dst < UKEY_DELETED)) return "advance";
  return "refused";
}

const log = getLogger("ofproto_dpif_upcall");
/** OVS's file-wide `rl` in ofproto-dpif-upcall.c: VLOG_RATE_LIMIT_INIT(1, 5). */
const rl = new RateLimit(1, 5);

/** Logs a refused step, OVS's words for each kind; `ufid` is the ukey's, as odp_format_ufid prints it. */
export function logRefusedTransition(kind: UkeyTransition, ufid: string, src: number, dst: number) {
  if (!rl.allow()) return;
  if (kind === "backwards") log.error(`Invalid ukey transition ${src}->${dst} for ukey ${ufid}`);
  else log.warn(`Invalid state transition for ukey ${ufid}: ${src} -> ${dst}`);
}

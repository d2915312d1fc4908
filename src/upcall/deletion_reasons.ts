/**
 * Why a ukey was deleted: OVS's enum flow_del_reason (OVS 3.4, commit
 * 86b9e653e "revalidator: Add a USDT probe during flow deletion with purge
 * reason", which added FDR_FLOW_MISSING_DP in 180ab2fd6 "ofproto-dpif-upcall:
 * Avoid stale ukeys leaks"). OVS hands the reason to a USDT probe only;
 * udpif counts deletions per reason in the udpif's shared block (any
 * thread) and logs each one at debug level, so `upcall/show --reasons`
 * and `vlog/set ofproto_dpif_upcall:dbg` show what OVS's
 * flow_reval_monitor.py would. Both are udpif's additions and change
 * nothing OVS 3.1 shows, so they work in either compat mode.
 */
import { odpFormatUfid } from "../flow/mod.ts";
import { getLogger, vlogDebugEnabled } from "../lib/mod.ts";
import { N_DEL_REASONS, type UdpifShared } from "./shared.ts";

/** No delete reason specified. */
export const FDR_NONE = 0;
/** Cache avoidance flag set. */
export const FDR_AVOID_CACHING = 1;
/** Bad ODP flow fit. */
export const FDR_BAD_ODP_FIT = 2;
/** Flow idle timeout. */
export const FDR_FLOW_IDLE = 3;
/** Kill all flows condition reached. */
export const FDR_FLOW_LIMIT = 4;
/** Flow needs a narrower wildcard mask. */
export const FDR_FLOW_WILDCARDED = 5;
/** Bridge not found. */
export const FDR_NO_OFPROTO = 6;
/** User requested flow deletion. */
export const FDR_PURGE = 7;
/** Too expensive to revalidate. */
export const FDR_TOO_EXPENSIVE = 8;
/** Datapath update failed. */
export const FDR_UPDATE_FAIL = 9;
/** Flow translation error. */
export const FDR_XLATION_ERROR = 10;
/** Flow is missing from the datapath. */
export const FDR_FLOW_MISSING_DP = 11;

/** Each reason's short name (its FDR_ name in lower case) and OVS's description of it. */
export const DEL_REASONS: ReadonlyArray<readonly [string, string]> = [
  ["none", "No delete reason specified"],
  ["avoid_caching", "Cache avoidance flag set"],
  ["bad_odp_fit", "Bad ODP flow fit"],
  ["flow_idle", "Flow idle timeout"],
  ["flow_limit", "Kill all flows condition reached"],
  ["flow_wildcarded", "Flow needs a narrower wildcard mask"],
  ["no_ofproto", "Bridge not found"],
  ["purge", "User requested flow deletion"],
  ["too_expensive", "Too expensive to revalidate"],
  ["update_fail", "Datapath update failed"],
  ["xlation_error", "Flow translation error"],
  ["flow_missing_dp", "Flow is missing from the datapath"],
];
if (DEL_REASONS.length !== N_DEL_REASONS) {
  throw new Error("deletion reasons and their counters differ");
}

const MODULE = "ofproto_dpif_upcall";
const log = getLogger(MODULE);

/**
 * Records that the ukey with `ufid` is being deleted for `reason`: one
 * count, and a debug line when debug logging is on (the text is built
 * only then).
 */
export function noteDeletion(shared: UdpifShared, ufid: Uint32Array, reason: number): void {
  shared.countDeletion(reason);
  if (vlogDebugEnabled(MODULE)) {
    const [name, text] = DEL_REASONS[reason];
    log.debug(`deleting ukey ${odpFormatUfid(ufid)}: ${text} (${name})`);
  }
}

/**
 * `upcall/show --reasons`' section for one udpif: every reason, its
 * short name padded to one column, then the ukeys deleted for it since
 * the daemon started.
 */
export function formatDeletionReasons(shared: UdpifShared): string {
  let s = "  ukeys deleted, by reason:\n";
  DEL_REASONS.forEach(([name], i) => (s += `    ${name.padEnd(16)}: ${shared.deletions(i)}\n`));
  return s;
}

/** The same counts as a JSON object, keyed by short name. */
export function deletionReasonsJson(shared: UdpifShared): Record<string, number> {
  return Object.fromEntries(DEL_REASONS.map(([name], i) => [name, shared.deletions(i)]));
}

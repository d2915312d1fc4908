/**
 * What a replay may take from its environment: time limits, the settle
 * pause, where to keep run directories, and how `ovs-ofctl` reaches udpif.
 */
import type { OfctlMode } from "./wrappers.ts";

export interface ReplayConfig {
  /** The udpif launcher (the repository's bin/udpif). */
  udpif: string;
  /** Default pause before each coverage snapshot, in seconds (the oracle's --settle). */
  settleSeconds: number;
  /** Time limit of one command (control call, ofctl, shell line), in ms. */
  commandTimeoutMs: number;
  /** Time limit of the whole case, in ms: later steps are not run. */
  caseTimeoutMs: number;
  /** Copy of the run directory is left here when set (logs for a failing case). */
  keepDir?: string;
  /** How `ovs-ofctl` reaches udpif (CONFORMANCE_OFCTL): `udpif ofctl` (the default), or the real one over OpenFlow. */
  ofctl?: OfctlMode;
}

/**
 * The configuration from the environment: CONFORMANCE_SETTLE, CONFORMANCE_TIMEOUT
 * (per command), CONFORMANCE_CASE_TIMEOUT (per case), CONFORMANCE_KEEP,
 * CONFORMANCE_OFCTL (`wire`: the real ovs-ofctl over OpenFlow; default
 * `unixctl`: `udpif ofctl`). Throws on a mode it does not know.
 */
export function configFromEnv(udpif: string): ReplayConfig {
  // OVS needs 1.1 s (threads fold their counters into the totals once a
  // second); udpif's coverage/show folds when it is read, so none by default.
  const settle = Number(Deno.env.get("CONFORMANCE_SETTLE") ?? "0");
  const timeout = Number(Deno.env.get("CONFORMANCE_TIMEOUT") ?? "30");
  const caseTimeout = Number(Deno.env.get("CONFORMANCE_CASE_TIMEOUT") ?? "90");
  const ofctl = Deno.env.get("CONFORMANCE_OFCTL") || "unixctl";
  if (ofctl !== "unixctl" && ofctl !== "wire") {
    throw new Error(`CONFORMANCE_OFCTL=${ofctl}: not a mode (unixctl or wire)`);
  }
  return {
    ofctl,
    udpif,
    settleSeconds: Number.isFinite(settle) && settle >= 0 ? settle : 0,
    commandTimeoutMs: (Number.isFinite(timeout) && timeout > 0 ? timeout : 30) * 1000,
    caseTimeoutMs: (Number.isFinite(caseTimeout) && caseTimeout > 0 ? caseTimeout : 90) * 1000,
    keepDir: Deno.env.get("CONFORMANCE_KEEP") || undefined,
  };
}

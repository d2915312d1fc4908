/**
 * The self-tuning flow limit (udpif_revalidator's bookkeeping): after each
 * dump the leader scales the dynamic limit by how long the dump took, so
 * that a full dump stays near one second.
 *
 * Since OVS 3.3 each step is counted (commit 969b3a570 "ofproto-dpif-upcall:
 * Add flow_limit coverage counters") and a slow dump is a warning, not an
 * informational message (92ff2a201 "ofproto-dpif-upcall: Change flow dump
 * duration message to WARN level"); OVS 3.1 did neither, so with
 * `ovs-compat=3.1` neither does udpif (coverage deltas stay comparable).
 */
import { coverageCounter } from "../lib/mod.ts";

const covGrew = coverageCounter("upcall_flow_limit_grew");
const covReduced = coverageCounter("upcall_flow_limit_reduced");
const covScaled = coverageCounter("upcall_flow_limit_scaled");

/** The limit a fresh udpif starts with. */
export function initialFlowLimit(cfgFlowLimit: number): number {
  return Math.min(cfgFlowLimit, 10000);
}

/**
 * The limit after a dump of `durationMs` (>= 1) that began with `nFlows`
 * flows: a dump over 2 s divides the limit by its whole seconds, one over
 * 1.3 s takes a quarter off, and a fast dump (< 1 s) with the limit below
 * what that speed could handle adds 1000. The result is clamped to
 * [1000, cfgFlowLimit] (the upper bound wins if cfgFlowLimit < 1000).
 * With `countSteps`, the step taken is counted (upcall_flow_limit_scaled,
 * _reduced or _grew), whatever the clamp then makes of it, as OVS counts.
 */
export function nextFlowLimit(
  limit: number,
  durationMs: number,
  nFlows: number,
  cfgFlowLimit: number,
  countSteps = false,
): number {
  let l = limit >>> 0;
  if (durationMs > 2000) {
    l = Math.floor(l / Math.floor(durationMs / 1000));
    if (countSteps) covScaled.inc();
  } else if (durationMs > 1300) {
    l = Math.floor((l * 3) / 4);
    if (countSteps) covReduced.inc();
  } else if (durationMs < 1000 && l < Math.floor((nFlows * 1000) / durationMs)) {
    l += 1000;
    if (countSteps) covGrew.inc();
  }
  return Math.min(cfgFlowLimit, Math.max(l, 1000));
}

/** OVS's log line for a slow dump, or undefined when the dump was fast enough. */
export function slowDumpWarning(durationMs: number): string | undefined {
  return durationMs > 2000 ? `Spent an unreasonably long ${durationMs}ms dumping flows` : undefined;
}

/** The revalidation period: how long the leader sleeps between dumps. */
export function revalidationPeriod(maxIdle: number, maxRevalidator: number): number {
  return Math.min(maxIdle, maxRevalidator);
}

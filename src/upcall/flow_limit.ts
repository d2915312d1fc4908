/**
 * The self-tuning flow limit (udpif_revalidator's bookkeeping): after each
 * dump the leader scales the dynamic limit by how long the dump took, so
 * that a full dump stays near one second.
 */
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
 *
 * OVS 3.1 counts none of these steps (upcall_flow_limit_grew and friends
 * came later), so neither do we: coverage deltas stay comparable.
 */
export function nextFlowLimit(
  limit: number,
  durationMs: number,
  nFlows: number,
  cfgFlowLimit: number,
): number {
  let l = limit >>> 0;
  if (durationMs > 2000) {
    l = Math.floor(l / Math.floor(durationMs / 1000));
  } else if (durationMs > 1300) {
    l = Math.floor((l * 3) / 4);
  } else if (durationMs < 1000 && l < Math.floor((nFlows * 1000) / durationMs)) {
    l += 1000;
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

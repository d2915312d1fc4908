/**
 * The coverage part of a conformance run, as the oracle script takes it:
 * `coverage/show` filtered to the upcall, revalidator, dpif and datapath
 * counters, snapshotted once after the rules are loaded and once at the
 * end; the report keeps the totals (tagged, dropped by the normalizer) and
 * the non-zero differences, in the order of the final listing.
 */

/** Counter names the oracle keeps (its COV_RE). */
export const COVERAGE_COUNTERS =
  /^(upcall_|revalidate_|dumped_|handler_|ukey|dpif_|datapath_drop|drop_action|rev_|xlate_actions|ofproto_dpif_expired|flow_extract|netdev_received|netdev_sent|mac_learning)/;

const TOTAL = /^([a-z_0-9]*) .*total: ([0-9]*)$/;

/** The kept `coverage/show` lines, unchanged. */
export function coverageLines(show: string): string[] {
  return show.split("\n").filter((l) => COVERAGE_COUNTERS.test(l));
}

/** `[name, total]` for each kept counter line, in listing order. */
export function coverageTotals(show: string): Array<[string, number]> {
  const out: Array<[string, number]> = [];
  for (const line of coverageLines(show)) {
    const m = TOTAL.exec(line);
    if (m) out.push([m[1], Number(m[2] === "" ? 0 : m[2])]);
  }
  return out;
}

/** `name +N` for every counter whose total changed, in the order of `after`. */
export function coverageDelta(
  before: Array<[string, number]>,
  after: Array<[string, number]>,
): string[] {
  const base = new Map(before);
  const out: string[] = [];
  for (const [name, total] of after) {
    const d = total - (base.get(name) ?? 0);
    if (d !== 0) out.push(`${name} +${d}`);
  }
  return out;
}

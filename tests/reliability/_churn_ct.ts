/**
 * The conntrack part of the churn's rules: ct_state, ct_mark and ct_zone
 * matches, and ct() (commit, exec, zone, nat, recirculation to a later
 * table) and ct_clear actions, for IP rules only as check_CT requires.
 */
import type { Rng } from "./_daemon.ts";

/** Rules with conntrack: only IP rules may use ct() (check_CT). */
export const CT_L3 = ["ip", "tcp", "udp", "icmp", "ipv6", "tcp6"];
export const CT_STATES = ["-trk", "+trk+new", "+trk+est", "+trk", "+trk-new"];

/** A ct() or ct_clear; a recirculation goes to a later table, so none loops. */
export function ctAction(r: Rng, table: number, nTables: number): string {
  const later = table < nTables - 1 ? table + 1 + r.int(nTables - 1 - table) : -1;
  const forms = [
    "ct(commit)",
    "ct(commit,zone=5,exec(set_field:0x1->ct_mark))",
    "ct_clear",
  ];
  if (later >= 0) forms.push(`ct(table=${later})`, `ct(table=${later},zone=5,nat)`);
  return r.pick(forms);
}

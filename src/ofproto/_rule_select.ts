/**
 * Which rules a flow_mod selects, following OVS's collect_rules_loose and
 * collect_rules_strict (cls_rule_is_loose_match, the cookie and out_port
 * tests, rule_is_hidden), and the check_overlap test an add with
 * OFPFF_CHECK_OVERLAP runs against its table (classifier_rule_overlaps).
 */
import { FLOW_WORDS } from "../flow/mod.ts";
import type { OfAction } from "./of_action.ts";
import { FF_CHECK_OVERLAP, type FlowMod } from "./flow_mod.ts";
import type { Match } from "./match.ts";
import type { Rule } from "./rule.ts";
import { OfctlError } from "./ofctl_error.ts";

/** OpenFlow's highest priority; rules above it are the switch's own, hidden (OVS's rule_is_hidden). */
export const MAX_VISIBLE_PRIORITY = 0xffff;

/** cls_rule_is_loose_match: `rule` is at least as specific as `target` and agrees on it. */
function looseMatch(rule: Match, target: Match): boolean {
  for (let w = 0; w < FLOW_WORDS; w++) {
    const tm = target.mask[w];
    if ((~rule.mask[w] & tm) !== 0) return false;
    if (((rule.key[w] ^ target.key[w]) & tm) !== 0) return false;
  }
  return true;
}

function sameMatch(a: Match, b: Match): boolean {
  for (let w = 0; w < FLOW_WORDS; w++) {
    if (a.mask[w] !== b.mask[w] || a.key[w] !== b.key[w]) return false;
  }
  return true;
}

/** Some packet matches both: the keys agree wherever both masks look. */
function overlaps(a: Match, b: Match): boolean {
  for (let w = 0; w < FLOW_WORDS; w++) {
    if (((a.key[w] ^ b.key[w]) & a.mask[w] & b.mask[w]) !== 0) return false;
  }
  return true;
}

function outputsTo(actions: OfAction[], port: number): boolean {
  return actions.some((a) =>
    (a.type === "output" || a.type === "enqueue" || a.type === "output_trunc") &&
      a.port === port ||
    a.type === "controller" && port === 0xfffd
  );
}

/** Whether a mod, del or dump described by `fm` selects rule `r`. */
export function flowModSelects(fm: FlowMod, r: Rule): boolean {
  // Hidden rules (fail-open's) are invisible to OpenFlow and ovs-ofctl,
  // whose priorities stop at 65535 (rule_is_hidden): only a strict mod
  // naming the hidden priority, which only the switch can make, selects one.
  if (r.priority > MAX_VISIBLE_PRIORITY && !(fm.strict && fm.priority === r.priority)) {
    return false;
  }
  if (fm.tableId !== undefined && r.tableId !== fm.tableId) return false;
  if (((r.cookie ^ fm.cookie) & fm.cookieMask) !== 0n) return false;
  if (fm.outPort !== undefined && !outputsTo(r.actions, fm.outPort)) return false;
  if (fm.strict) return r.priority === fm.priority && sameMatch(r.match, fm.match);
  return looseMatch(r.match, fm.match);
}

/**
 * check_overlap: an add with the flag fails with OFPFMFC_OVERLAP if a rule
 * of the same priority, not identical, could match the same packet,
 * counting the adds before it in the same batch. `tableRules` gives the
 * rules a table holds now.
 */
export function checkOverlaps(
  mods: FlowMod[],
  tableRules: (tableId: number) => Iterable<Rule>,
): void {
  for (let i = 0; i < mods.length; i++) {
    const fm = mods[i];
    if (fm.command !== "add" || !(fm.flags & FF_CHECK_OVERLAP)) continue;
    const tableId = fm.tableId ?? 0;
    const others: Match[] = [];
    for (const r of tableRules(tableId)) {
      if (r.priority === fm.priority) others.push(r.match);
    }
    for (let j = 0; j < i; j++) {
      const o = mods[j];
      if (o.command === "add" && (o.tableId ?? 0) === tableId && o.priority === fm.priority) {
        others.push(o.match);
      }
    }
    if (others.some((m) => sameMatch(m, fm.match))) continue;
    if (others.some((m) => overlaps(m, fm.match))) throw new OfctlError("OFPFMFC_OVERLAP");
  }
}

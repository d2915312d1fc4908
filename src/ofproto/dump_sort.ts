/**
 * `ovs-ofctl dump-flows --sort[=FIELD]` / `--rsort[=FIELD]`: rules ordered
 * by priority or by a field's matched value (compare_flows). Rules that do
 * not match the field sort last either way; a final descending-priority
 * pass breaks ties, then the dump's own order.
 */
import { bytesOf } from "../flow/mod.ts";
import { mfByName, type MfField, mfGet, prereqOk } from "./meta_flow.ts";
import { OfctlError } from "./ofctl_error.ts";
import type { Rule } from "./rule.ts";

export interface SortCriterion {
  /** An mf field name, or "priority". */
  field: string;
  descending: boolean;
}

interface Resolved {
  field: MfField | null;
  descending: boolean;
}

function compareOn(c: Resolved, a: Rule, b: Rule): number {
  const f = c.field;
  let ret: number;
  if (!f) {
    ret = Math.sign(a.priority - b.priority);
  } else {
    const has = (r: Rule) =>
      prereqOk(f.prereq, bytesOf(r.match.key)) && mfGet(f, r.match.mask) !== 0n;
    const ina = has(a);
    const inb = has(b);
    if (ina !== inb) return ina ? -1 : 1;
    const av = mfGet(f, a.match.key);
    const bv = mfGet(f, b.match.key);
    ret = av < bv ? -1 : av > bv ? 1 : 0;
  }
  return c.descending ? -ret : ret;
}

/** The rules in `--sort`/`--rsort` order; `criteria` empty leaves them as they are. */
export function sortRules(rules: Rule[], criteria: readonly SortCriterion[]): Rule[] {
  if (!criteria.length) return rules;
  const resolved: Resolved[] = criteria.map((c) => {
    if (c.field.toLowerCase() === "priority") return { field: null, descending: c.descending };
    const field = mfByName(c.field);
    if (!field) throw new OfctlError(`${c.field}: unknown field name`);
    return { field, descending: c.descending };
  });
  resolved.push({ field: null, descending: true });
  return rules
    .map((r, i) => [r, i] as const)
    .sort(([a, ai], [b, bi]) => {
      for (const c of resolved) {
        const ret = compareOn(c, a, b);
        if (ret) return ret;
      }
      return ai - bi;
    })
    .map(([r]) => r);
}

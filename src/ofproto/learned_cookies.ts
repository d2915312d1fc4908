/**
 * delete_learned (ofproto.c's learned_cookies): a rule whose learn action
 * has delete_learned takes its learned flows with it. When the last rule
 * with such a learn for a (table, cookie) pair leaves the tables, every
 * flow in that table with that cookie is deleted too.
 */
import { LEARN_F_DELETE_LEARNED, type OfAction } from "./of_action.ts";
import { learnActionsOf } from "./learn_action.ts";
import type { Rule } from "./rule.ts";

/** A table and an exact cookie whose flows are to be deleted. */
export interface LearnedCookie {
  tableId: number;
  cookie: bigint;
}

function deleteLearnedPairs(actions: readonly OfAction[]): LearnedCookie[] {
  return learnActionsOf(actions)
    .filter((l) => l.flags & LEARN_F_DELETE_LEARNED)
    .map((l) => ({ tableId: l.tableId, cookie: l.cookie }));
}

/**
 * The (table, cookie) pairs that `removed` rules held and no rule of
 * `remaining` holds any more: learned_cookies_flush's work list.
 */
export function learnedCookiesToFlush(
  removed: readonly Rule[],
  remaining: Iterable<Rule>,
): LearnedCookie[] {
  const gone = removed.flatMap((r) => deleteLearnedPairs(r.actions));
  if (!gone.length) return [];
  const held = new Set<string>();
  for (const r of remaining) {
    for (const p of deleteLearnedPairs(r.actions)) held.add(`${p.tableId}/${p.cookie}`);
  }
  const out: LearnedCookie[] = [];
  const seen = new Set<string>();
  for (const p of gone) {
    const k = `${p.tableId}/${p.cookie}`;
    if (held.has(k) || seen.has(k)) continue;
    seen.add(k);
    out.push(p);
  }
  return out;
}

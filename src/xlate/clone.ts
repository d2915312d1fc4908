/**
 * clone(...) in translation (ofproto-dpif-xlate.c clone_xlate_actions and
 * reversible_actions, OVS 3.1). A clone's actions must not change what
 * the actions after it see. When each of its actions can be undone by
 * later datapath actions (header rewrites are: the next output commits
 * them back), or when nothing follows it, the actions are translated in
 * line and only the OpenFlow flow is put back afterwards. Otherwise
 * (conntrack, nat, output_trunc: the datapath cannot undo them) the pending header
 * changes are committed first and the actions go inside a datapath
 * `clone(...)`, which runs them on a copy of the packet; an empty one is
 * left out. udpif's datapath always supports clone (dpif-netdev does), so
 * OVS's `sample` fallback for older datapaths is not needed.
 *
 * Output to a patch port translates the peer bridge's rule the same way
 * (patch.ts): its actions are the clone's.
 */
import type { OfAction } from "../ofproto/mod.ts";
import type { XlateCtx } from "./context.ts";
import { doXlateActions } from "./actions.ts";
import { commitActions } from "./output.ts";

/**
 * The OpenFlow actions udpif has whose datapath translation later actions
 * cannot undo (reversible_actions' list: ct, nat, output_trunc, meter,
 * encap, decap, dec_nsh_ttl; udpif has the first three).
 */
const IRREVERSIBLE: ReadonlySet<OfAction["type"]> = new Set(["ct", "nat", "output_trunc"]);

/**
 * reversible_actions: whether `actions` (their top level only, as in
 * OVS: a resubmit or a nested clone counts as reversible) can be undone.
 */
export function reversibleActions(actions: readonly OfAction[]): boolean {
  for (const a of actions) if (IRREVERSIBLE.has(a.type)) return false;
  return true;
}

/** clone_xlate_actions: `actions` as a clone's, `isLast` when nothing follows the clone. */
export function xlateClone(ctx: XlateCtx, actions: readonly OfAction[], isLast: boolean): void {
  const oldFlow = ctx.flow.slice();
  if (reversibleActions(actions) || isLast) {
    doXlateActions(ctx, actions, isLast);
    ctx.flow.set(oldFlow);
    return;
  }
  // Committed now, the clone and the actions after it both start from them.
  commitActions(ctx);
  const oldBase = ctx.base.slice();
  const oldConntracked = ctx.conntracked;
  const start = ctx.actions.length;
  doXlateActions(ctx, actions, true);
  const nested = ctx.actions.splice(start);
  if (nested.length) ctx.actions.push({ type: "clone", actions: nested });
  // The clone's conntrack and rewrites happened to the copy only.
  ctx.conntracked = oldConntracked;
  ctx.base.set(oldBase);
  ctx.flow.set(oldFlow);
}

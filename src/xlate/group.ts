/**
 * The group action (ofproto-dpif-xlate.c xlate_group_action,
 * xlate_group_action__, xlate_group_bucket, xlate_group_stats): all and
 * indirect groups run every bucket, select and fast-failover groups one.
 * A bucket's actions are an action set (ofpacts_execute_action_set) run
 * on a copy of the packet: the flow is put back after each bucket, so the
 * next bucket and the actions after the group see the packet as it was.
 * Each use is recorded in the xlate cache (group and bucket statistics).
 */
import type { Bucket, Group, OfAction } from "../ofproto/mod.ts";
import { doXlateActions } from "./actions.ts";
import type { XlateCtx } from "./context.ts";
import { firstLiveBucket, pickSelectBucket } from "./group_select.ts";
import { freezeWithHash } from "./group_freeze.ts";
import { resourceCheck } from "./table.ts";

/** The action-set slots, in execution order (ACTION_SET_ORDER). */
const SLOTS: readonly OfAction["type"][][] = [["strip_vlan", "pop_vlan"], ["push_vlan"], [
  "dec_ttl",
]];
/** Final actions by priority (ACTION_SET_FINAL_PRIORITY): the set runs only with one. */
const FINALS: readonly OfAction["type"][][] = [
  ["ct"],
  ["ct_clear"],
  ["resubmit"],
  ["output", "controller"],
  ["group"],
];
const SET_OR_MOVE: ReadonlySet<OfAction["type"]> = new Set([
  "mod",
  "set_field",
  "load",
  "move",
  "set_queue",
]);

/** ofpacts_execute_action_set: a bucket's actions as the list that runs. */
export function actionSetToList(set: readonly OfAction[]): OfAction[] {
  const slots: (OfAction | undefined)[] = SLOTS.map(() => undefined);
  const moves: OfAction[] = [];
  let final: OfAction | undefined, finalClass = -1;
  for (const a of set) {
    const slot = SLOTS.findIndex((types) => types.includes(a.type));
    const fin = FINALS.findIndex((types) => types.includes(a.type));
    if (slot >= 0) slots[slot] = a;
    else if (fin >= 0 && fin >= finalClass) [final, finalClass] = [a, fin];
    else if (SET_OR_MOVE.has(a.type)) moves.push(a);
  }
  if (!final) return [];
  return [...slots.filter((a): a is OfAction => a !== undefined), ...moves, final];
}

/** Each bucket's action list, worked out once: buckets never change (a mod-group makes new ones). */
const bucketLists = new WeakMap<Bucket, OfAction[]>();

function bucketActions(b: Bucket): OfAction[] {
  let list = bucketLists.get(b);
  if (!list) bucketLists.set(b, list = actionSetToList(b.actions));
  return list;
}

function xlateBucket(ctx: XlateCtx, b: Bucket, isLast: boolean): void {
  const oldTrace = ctx.trace;
  if (ctx.trace) ctx.trace = ctx.report("bucket", `bucket ${b.id}`);
  const oldFlow = ctx.flow.slice();
  ctx.depth++;
  doXlateActions(ctx, bucketActions(b), isLast);
  ctx.depth--;
  // Roll back: as if each bucket had its own copy of the packet.
  ctx.flow.set(oldFlow);
  ctx.exit = false;
  ctx.trace = oldTrace;
}

function xlateGroup(
  ctx: XlateCtx,
  g: Group,
  sel: Parameters<typeof pickSelectBucket>[2],
  action: OfAction,
  isLast: boolean,
): void {
  if (g.type === "all" || g.type === "indirect") {
    // Only the final bucket may be last (xlate_group_action__).
    g.buckets.forEach((b, i) => xlateBucket(ctx, b, isLast && i === g.buckets.length - 1));
    ctx.cache.addGroup(g.id, -1);
    return;
  }
  const recirculate = (alg: number, basis: number) => freezeWithHash(ctx, action, alg, basis);
  const i = g.type === "select"
    ? pickSelectBucket(ctx, g, sel, recirculate)
    : firstLiveBucket(ctx, g, 0);
  if (i < 0) {
    ctx.report("detail", "no live bucket");
    return;
  }
  ctx.report("detail", `using bucket ${g.buckets[i].id}`);
  xlateBucket(ctx, g.buckets[i], isLast);
  ctx.cache.addGroup(g.id, i);
}

/**
 * group:N (`action`); returns true when the group does not exist, which
 * ends the action list. `isLast`: no action follows.
 */
export function xlateGroupAction(
  ctx: XlateCtx,
  action: OfAction & { type: "group" },
  isLast = false,
): boolean {
  const groupId = action.groupId;
  if (!resourceCheck(ctx)) return false;
  const found = ctx.xin.tables.group?.(groupId);
  if (!found) {
    ctx.report("warn", `output to nonexistent group ${groupId}`);
    return true;
  }
  xlateGroup(ctx, found.group, found.selection, action, isLast);
  return false;
}

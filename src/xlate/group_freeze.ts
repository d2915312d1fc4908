/**
 * A dp_hash select group's recirculation (ofproto-dpif-xlate.c
 * ctx_trigger_recirculate_with_hash and finish_freezing__'s hash branch):
 * the first pass, with no dp_hash yet, commits the header changes made so
 * far, freezes "this group action and the rest of the rule's actions",
 * and emits `hash(ALG(BASIS)),recirc(ID)`; the datapath hashes the packet
 * and sends it back with recirc_id(ID), and that translation resumes the
 * frozen actions, where the group now picks its bucket by dp_hash.
 *
 * OVS freezes the actions themselves; here the frozen state names them:
 * the rule (by id, the same in every replica) and the group action's
 * index. A group reached other than from a rule's own action list (a
 * bucket, a packet-out) cannot be named so; the caller then chooses in
 * translation. Actions left in the resubmits around the rule are not
 * resumed (OVS would unroll them too).
 */
import type { OfAction } from "../ofproto/mod.ts";
import { doXlateActions } from "./actions.ts";
import type { XlateCtx } from "./context.ts";
import { allocRecircId, frozenStateOf } from "./freeze.ts";
import { commitActions } from "./output.ts";
import { FS_RESUME_ACTION, FS_RESUME_RULE } from "./recirc.ts";

/**
 * Freezes at `action` (a group action of the current rule) behind a
 * hash of `alg` and `basis`; false when the action is not the rule's own.
 */
export function freezeWithHash(
  ctx: XlateCtx,
  action: OfAction,
  alg: number,
  basis: number,
): boolean {
  const rule = ctx.rule;
  const index = rule ? rule.actions.indexOf(action) : -1;
  if (!rule || index < 0) return false;
  commitActions(ctx);
  const state = frozenStateOf(ctx, ctx.tableId);
  state[FS_RESUME_RULE] = rule.id + 1;
  state[FS_RESUME_ACTION] = index;
  const id = allocRecircId(ctx, state);
  if (id) ctx.actions.push({ type: "hash", alg, basis }, { type: "recirc", id });
  ctx.exit = true;
  return true;
}

/**
 * The thawed side: runs the frozen rule's actions from the group action
 * on, as OVS runs a frozen state's ofpacts (no rule lookup, no rule stats).
 */
export function resumeFrozen(ctx: XlateCtx, table: number): void {
  const rule = ctx.xin.tables.ruleById?.(ctx.resumeRule - 1);
  const first = rule?.actions[ctx.resumeAction];
  if (!rule || first?.type !== "group") {
    ctx.report("error", "Frozen actions not found (their rule changed)");
    ctx.error = "No recirculation context";
    return;
  }
  ctx.tableId = table;
  ctx.rule = rule;
  ctx.ruleCookie = rule.cookie;
  doXlateActions(ctx, rule.actions.slice(ctx.resumeAction));
}

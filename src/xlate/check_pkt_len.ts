/**
 * check_pkt_larger(LEN)->DST (xlate_check_pkt_larger): the datapath
 * compares each packet's length, so the translation cannot. The actions
 * after this one are translated twice, once with DST set to 1 and once
 * with 0, into the two branches of a datapath
 * `check_pkt_len(size=LEN,gt(...),le(...))`; what follows the rule's
 * action list (a resubmit's caller) continues after it, from the flow as
 * it was.
 */
import { mfByName, mfSetMasked, type OfAction } from "../ofproto/mod.ts";
import type { XlateCtx } from "./context.ts";
import { commitActions } from "./output.ts";
import { doXlateActions } from "./actions.ts";

function writeBit(ctx: XlateCtx, a: OfAction & { type: "check_pkt_larger" }, bit: 0n | 1n) {
  const m = 1n << BigInt(a.dst.ofs);
  mfSetMasked(mfByName(a.dst.field)!, ctx.flow, bit ? m : 0n, m);
}

export function xlateCheckPktLarger(
  ctx: XlateCtx,
  a: OfAction & { type: "check_pkt_larger" },
  rest: readonly OfAction[],
): void {
  const oldFlow = ctx.flow.slice();
  commitActions(ctx);
  const oldBase = ctx.base.slice();
  const start = ctx.actions.length;

  writeBit(ctx, a, 1n);
  doXlateActions(ctx, rest);
  const gt = ctx.actions.splice(start);
  ctx.base.set(oldBase);
  ctx.flow.set(oldFlow);

  const oldExit = ctx.exit;
  ctx.exit = false;
  writeBit(ctx, a, 0n);
  doXlateActions(ctx, rest);
  const le = ctx.actions.splice(start);

  ctx.actions.push({ type: "check_pkt_len", size: a.pktLen, gt, le });
  ctx.base.set(oldBase);
  ctx.flow.set(oldFlow);
  ctx.exit = oldExit;
}

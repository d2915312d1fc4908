/**
 * The learn and fin_timeout actions in translation
 * (xlate_learn_action, xlate_fin_timeout) and their xlate cache entries
 * (XC_LEARN, XC_FIN_TIMEOUT).
 *
 * The megaflow matches every source field a learn copies (learn_mask).
 * With side effects allowed (a handler's upcall; a revalidator pushing
 * packets) the learned flow_mod goes to the caller's `LearnSink`, which
 * gets it to the OpenFlow tables; with an xlate cache being built, the
 * learn is recorded so that each later stats push with packets learns
 * again, which refreshes the learned flow's hard timeout or reinstates
 * it, as OVS's XC_LEARN does. ofproto/trace shows the flow_mod.
 *
 * Without side effects (a revalidator's translation) a learn cannot
 * learn, so it counts as learned and its result_dst says 1; but a learn
 * with a `limit` whose flow is not in the table as it would learn it
 * marks the translation `avoidCaching`: with the flow gone, the next
 * packet's learn is the one that decides (the limit may refuse it), so
 * the revalidator deletes the datapath flow rather than keep or modify
 * it (xlate_learn_action's temp rule not RULE_INSERTED).
 */
import { F, type FlowKey } from "../flow/mod.ts";
import {
  type FlowMod,
  formatActions,
  formatMatch,
  LEARN_F_WRITE_RESULT,
  type LearnAction,
  learnActionsOf,
  learnFlowMod,
  learnMask,
} from "../ofproto/mod.ts";
import type { XlateCtx } from "./context.ts";
import { regLoad, reportSubfield } from "./ext_actions.ts";

const TCP_FIN = 0x01;
const TCP_RST = 0x04;

/** Where translation's learning side effects go (the bridge's queue to its tables). */
export interface LearnSink {
  /**
   * Learns `fm`, made by learn action number `ordinal` of rule `ruleId`
   * from `flow` (null `fm`: a refresh from the xlate cache); `ruleId` -1
   * for a learn in a packet-out's own actions. Returns false
   * when the learn's `limit` refuses it (a new flow where the table
   * already has `limit` flows with its cookie).
   */
  learn(ruleId: number, ordinal: number, flow: FlowKey, fm: FlowMod | null, limit: number): boolean;
  /**
   * Whether the flow `fm` learns is in the tables now exactly as learning
   * would leave it (match, priority, cookie, timeouts, send_flow_rem,
   * actions): what a translation without side effects asks of a learn
   * with a limit. Reads the calling thread's tables; never blocks.
   */
  isLearned(fm: FlowMod): boolean;
  /** ofproto_rule_reduce_timeouts for rule `ruleId`. */
  reduceTimeouts(ruleId: number, idle: number, hard: number): void;
}

/** XC_LEARN: learn action `ordinal` of rule `ruleId` of bridge `bridge` ran on `flow`. */
export interface XcLearn {
  readonly bridge: number;
  readonly ruleId: number;
  readonly ordinal: number;
  readonly flow: FlowKey;
  readonly limit: number;
}

/** XC_FIN_TIMEOUT of rule `ruleId` of bridge `bridge`. */
export interface XcFin {
  readonly bridge: number;
  readonly ruleId: number;
  readonly idle: number;
  readonly hard: number;
}

/** The trace line: "table=1 MATCH priority=N [cookie=] [idle=] [hard=] actions=...". */
function describe(fm: FlowMod): string {
  let s = `table=${fm.tableId}`;
  const m = formatMatch(fm.match, 0x8000);
  if (m) s += ` ${m}`;
  s += ` priority=${fm.priority}`;
  if (fm.newCookie) s += ` cookie=0x${fm.newCookie.toString(16)}`;
  if (fm.idleTimeout) s += ` idle=${fm.idleTimeout}`;
  if (fm.hardTimeout) s += ` hard=${fm.hardTimeout}`;
  if (fm.flags & 1) s += " send_flow_rem";
  return `${s} actions=${formatActions(fm.actions ?? [])}`;
}

export function xlateLearn(ctx: XlateCtx, learn: LearnAction): void {
  learnMask(learn, ctx.wc);
  const xin = ctx.xin;
  if (!xin.sideEffects && !xin.buildCache) {
    ctx.report("warn", "suppressing side effects, so learn action ignored");
    return;
  }
  const fm = learnFlowMod(learn, ctx.flow);
  if (ctx.trace) ctx.report("detail", describe(fm));
  // A packet-out's own actions learn outside any rule.
  const rule = ctx.rule;
  const ordinal = rule ? learnActionsOf(rule.actions).indexOf(learn) : -1;
  let success = true;
  if (xin.sideEffects) {
    if (xin.learnSink) {
      success = xin.learnSink.learn(rule?.id ?? -1, ordinal, ctx.flow, fm, learn.limit);
    }
  } else if (learn.limit && xin.learnSink && !xin.learnSink.isLearned(fm)) {
    ctx.avoidCaching = true;
  }
  if (learn.flags & LEARN_F_WRITE_RESULT) {
    regLoad(ctx, learn.resultDst!, success ? 1 : 0);
    reportSubfield(ctx, learn.resultDst!, success ? 1 : 0);
  }
  if (success && xin.buildCache && rule) {
    ctx.cache.addLearn({
      bridge: ctx.cache.bridge,
      ruleId: rule.id,
      ordinal,
      flow: ctx.flow.slice(),
      limit: learn.limit,
    });
  }
  if (!success) ctx.report("detail", "Limit exceeded, learn failed");
}

export function xlateFinTimeout(ctx: XlateCtx, idle: number, hard: number): void {
  // Whether the flow is TCP decides whether FIN and RST can come.
  ctx.w[F.nw_proto.off] = 0xff;
  const rule = ctx.rule;
  if (!rule) return;
  const flags = ctx.xin.tcpFlags ?? 0;
  if (ctx.xin.sideEffects && flags & (TCP_FIN | TCP_RST) && (idle || hard)) {
    ctx.xin.learnSink?.reduceTimeouts(rule.id, idle, hard);
  }
  if (ctx.xin.buildCache) {
    ctx.cache.addFin({ bridge: ctx.cache.bridge, ruleId: rule.id, idle, hard });
  }
}

/**
 * The learning part of xlate_push_stats: with packets, every recorded
 * learn runs again and every fin_timeout whose flags saw FIN or RST
 * reduces its rule's timeouts, each in the sink of the bridge whose rule
 * it is (`sinkOf`: a patch port's peer bridge has its own).
 */
export function xlateCachePushLearn(
  learns: readonly XcLearn[],
  fins: readonly XcFin[],
  nPackets: number,
  tcpFlags: number,
  sinkOf: (bridge: number) => LearnSink | undefined,
): void {
  if (nPackets <= 0) return;
  for (const l of learns) sinkOf(l.bridge)?.learn(l.ruleId, l.ordinal, l.flow, null, l.limit);
  if (tcpFlags & (TCP_FIN | TCP_RST)) {
    for (const f of fins) {
      if (f.idle || f.hard) sinkOf(f.bridge)?.reduceTimeouts(f.ruleId, f.idle, f.hard);
    }
  }
}

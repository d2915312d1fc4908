/**
 * Table lookups during translation (xlate_table_action and
 * rule_dpif_lookup_from_table): resubmit and goto_table look a table up,
 * possibly as if the packet came in on another port, and translate the
 * rule found. A miss lands on OVS's internal "no packet-in" rule, which
 * drops, or, where the lookup may send packet-ins (the first table's and
 * goto_table's) and a pre-1.3 controller wants misses
 * (`packetInOnMiss`), on its "miss" rule: controller(reason=no_match),
 * sent as OFPR_IMPLICIT_MISS. Resubmitting to the same or an earlier table deepens the
 * recursion, which stops at 64 levels or 4096 resubmits.
 */
import { F, type FieldSpan, FRAG_ANY, getUint, setUint } from "../flow/mod.ts";
import type { OfAction } from "../ofproto/mod.ts";
import { doXlateActions } from "./actions.ts";
import { MAX_DEPTH, MAX_RESUBMITS, type XlateCtx, type XlateRule } from "./context.ts";
import { isIpAny } from "./flow_ops.ts";
import { xlateController } from "./output.ts";

/**
 * How a rule's actions are translated (xlate_actions_handler): as a list
 * of their own (doXlateActions) or, beyond a patch port, as a clone's.
 */
export type ActionsXlator = (
  ctx: XlateCtx,
  actions: readonly OfAction[],
  isLast: boolean,
) => void;

/** OVS's internal reason of the miss rule's controller action. */
const OFPR_IMPLICIT_MISS = 7;

/** xlate_resubmit_resource_check: depth and resubmit limits, reported when hit. */
export function resourceCheck(ctx: XlateCtx): boolean {
  if (ctx.depth >= MAX_DEPTH) {
    ctx.report("error", `over max translation depth ${MAX_DEPTH}`);
    ctx.error = "Recursion too deep";
  } else if (ctx.resubmits >= MAX_RESUBMITS) {
    ctx.report("error", `over ${MAX_RESUBMITS} resubmit actions`);
    ctx.error = "Too many resubmits";
  } else {
    return true;
  }
  return false;
}

/**
 * Looks `tableId` up as if the packet came in on `inPort`. IP fragments are
 * looked up with zero L4 ports (OVS's "normal" fragment handling).
 */
export function lookupRule(ctx: XlateCtx, tableId: number, inPort: number): XlateRule | null {
  const f = ctx.f;
  const oldIn = getUint(f, F.in_port.off, 4);
  const oldSrc = getUint(f, F.tp_src.off, 2);
  const oldDst = getUint(f, F.tp_dst.off, 2);
  if (f[F.nw_frag.off] & FRAG_ANY) {
    setUint(f, F.tp_src.off, 2, 0);
    setUint(f, F.tp_dst.off, 2, 0);
  }
  setUint(f, F.in_port.off, 4, inPort);
  const rule = ctx.xin.tables.lookup(tableId, ctx.flow, ctx.wc);
  setUint(f, F.in_port.off, 4, oldIn);
  setUint(f, F.tp_src.off, 2, oldSrc);
  setUint(f, F.tp_dst.off, 2, oldDst);
  return rule;
}

/**
 * The packet's 5-tuple changes places with the connection's original one
 * (tuple_swap), in the flow and in the wildcards alike, so that what the
 * lookup matched on is unwildcarded in the conntrack fields it really read.
 * Applied twice, it undoes itself.
 */
function swapCtOrigTuple(ctx: XlateCtx): void {
  const ipv4 = getUint(ctx.f, F.dl_type.off, 2) === ETH_TYPE_IP;
  const pairs = ipv4 ? CT_ORIG_PAIRS_V4 : CT_ORIG_PAIRS_V6;
  for (const [a, b] of pairs) {
    swapBytes(ctx.f, a, b);
    swapBytes(ctx.w, a, b);
  }
}

function swapBytes(k: Uint8Array, a: FieldSpan, b: FieldSpan): void {
  for (let i = 0; i < a.len; i++) {
    const t = k[a.off + i];
    k[a.off + i] = k[b.off + i];
    k[b.off + i] = t;
  }
}

const ETH_TYPE_IP = 0x0800;
const CT_ORIG_COMMON: readonly (readonly [FieldSpan, FieldSpan])[] = [
  [F.nw_proto, F.ct_nw_proto],
  [F.tp_src, F.ct_tp_src],
  [F.tp_dst, F.ct_tp_dst],
];
const CT_ORIG_PAIRS_V4 = [...CT_ORIG_COMMON, [F.nw_src, F.ct_nw_src], [
  F.nw_dst,
  F.ct_nw_dst,
]] as const;
const CT_ORIG_PAIRS_V6 = [
  ...CT_ORIG_COMMON,
  [F.ipv6_src, F.ct_ipv6_src],
  [F.ipv6_dst, F.ct_ipv6_dst],
] as const;

/** The trace line of a table visit (xlate_report_table). */
function reportTable(ctx: XlateCtx, rule: XlateRule | null, tableId: number): void {
  if (!ctx.trace) return;
  let text = `${String(tableId).padStart(2)}. `;
  if (!rule) {
    text += "No match.";
  } else {
    text += ctx.xin.formatMatch?.(rule) ?? "";
    if (!text.endsWith(" ")) text += ", ";
    text += `priority ${rule.priority}`;
    if (rule.cookie) text += `, cookie 0x${rule.cookie.toString(16)}`;
  }
  ctx.trace = ctx.report("table", text);
}

/**
 * Translates `rule` (null: the internal rule of a miss) found in
 * `tableId`, with its trace nodes nested under the table's line, by
 * `xlator`; `isLast`: no action follows the one that led here.
 */
export function xlateRule(
  ctx: XlateCtx,
  rule: XlateRule | null,
  tableId: number,
  deepens: boolean,
  mayPacketIn = false,
  isLast = false,
  xlator: ActionsXlator = doXlateActions,
): void {
  ctx.cache.addLookup(tableId, rule ? rule.id : -1);
  if (rule) ctx.cache.addRule(rule.id);
  const oldTrace = ctx.trace;
  const oldRule = ctx.rule;
  const oldCookie = ctx.ruleCookie;
  reportTable(ctx, rule, tableId);
  if (deepens) ctx.depth++;
  ctx.rule = rule;
  ctx.ruleCookie = rule ? rule.cookie : 0n;
  if (!rule && mayPacketIn && ctx.xin.packetInOnMiss) {
    xlateController(ctx, 0xffff, OFPR_IMPLICIT_MISS, 0);
  } else {
    xlator(ctx, rule ? rule.actions : [], isLast);
  }
  ctx.rule = oldRule;
  ctx.ruleCookie = oldCookie;
  if (deepens) ctx.depth--;
  ctx.trace = oldTrace;
}

/** resubmit(PORT,TABLE), goto_table (which may send a miss to the controller) and output:TABLE. */
export function xlateTable(
  ctx: XlateCtx,
  inPort: number,
  tableId: number,
  mayPacketIn = false,
  withCtOrig = false,
  isLast = false,
  xlator: ActionsXlator = doXlateActions,
): void {
  if (!resourceCheck(ctx)) return;
  if (withCtOrig && (ctx.f[F.ct_nw_proto.off] === 0 || !isIpAny(ctx.f))) {
    ctx.report("error", "resubmit(ct) with non-tracked or non-IP packet!");
    return;
  }
  const oldTable = ctx.tableId;
  ctx.tableId = tableId;
  if (withCtOrig) swapCtOrigTuple(ctx);
  const rule = lookupRule(ctx, tableId, inPort);
  if (withCtOrig) swapCtOrigTuple(ctx);
  ctx.resubmits++;
  xlateRule(ctx, rule, tableId, tableId <= oldTable, mayPacketIn, isLast, xlator);
  ctx.tableId = oldTable;
}

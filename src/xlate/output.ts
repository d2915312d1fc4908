/**
 * Output actions: to a port (after committing header changes), to the
 * input port, FLOOD, ALL, LOCAL, the controller (a datapath `userspace`
 * action carrying a controller cookie and a recirculation id for the
 * frozen state, as OVS 3.1 does), the dispatch of the reserved ports,
 * and output_trunc (`trunc(N)` before the output it cuts).
 */
import { F, getUint } from "../flow/mod.ts";
import {
  formatPort,
  OFPP_ALL,
  OFPP_CONTROLLER,
  OFPP_FLOOD,
  OFPP_IN_PORT,
  OFPP_NONE,
  OFPP_NORMAL,
  OFPP_TABLE,
} from "../ofproto/mod.ts";
import { encodeControllerCookie } from "./cache.ts";
import { allocRecircId, frozenStateOf } from "./freeze.ts";
import { commitOdpActions } from "./commit.ts";
import { OFPR_ACTION, OFPR_EXPLICIT_MISS, type XlateCtx } from "./context.ts";
import { xlateNormal } from "./normal.ts";
import { xlateTable } from "./table.ts";
import { patchPortOutput } from "./patch.ts";

export function inPort(ctx: XlateCtx): number {
  return getUint(ctx.f, F.in_port.off, 4);
}

/** Turns pending header changes into datapath actions (xlate_commit_actions). */
export function commitActions(ctx: XlateCtx): void {
  ctx.slow |= commitOdpActions(ctx);
}

/**
 * Outputs to `ofport` as it is, or not at all (compose_output_action).
 * `isLast`: no action follows (a patch port then needs no clone).
 */
export function composeOutput(ctx: XlateCtx, ofport: number, isLast = false): void {
  const port = ctx.xin.bridge.port(ofport);
  if (!port) {
    ctx.report("warn", "Nonexistent output port");
    return;
  }
  if (port.noForward) {
    ctx.report("detail", "OFPPC_NO_FWD set, skipping output");
    return;
  }
  if (port.peer !== null) {
    patchPortOutput(ctx, port, isLast);
    return;
  }
  commitActions(ctx);
  ctx.actions.push(port.output);
}

/** FLOOD or ALL: every port but the input port (flood_packets); only the final one may be last. */
function flood(ctx: XlateCtx, all: boolean, isLast: boolean): void {
  const in_ = inPort(ctx);
  let prev = -1;
  for (const p of ctx.xin.bridge.ports) {
    if (p.ofport === in_) continue;
    if (all || !p.noFlood) {
      if (prev >= 0) composeOutput(ctx, prev);
      prev = p.ofport;
    }
  }
  if (prev >= 0) composeOutput(ctx, prev, isLast);
}

/** output:PORT with the reserved ports (xlate_output_action); `isLast`: no action follows. */
export function xlateOutputAction(
  ctx: XlateCtx,
  port: number,
  maxLen: number,
  isLast = false,
): void {
  switch (port) {
    case OFPP_IN_PORT:
      composeOutput(ctx, inPort(ctx), isLast);
      return;
    case OFPP_TABLE:
      xlateTable(ctx, inPort(ctx), 0);
      return;
    case OFPP_NORMAL:
      xlateNormal(ctx);
      return;
    case OFPP_FLOOD:
      flood(ctx, false, isLast);
      return;
    case OFPP_ALL:
      flood(ctx, true, isLast);
      return;
    case OFPP_CONTROLLER:
      xlateController(ctx, maxLen, OFPR_ACTION, 0);
      return;
    case OFPP_NONE:
      return;
    default:
      if (port !== inPort(ctx)) composeOutput(ctx, port, isLast);
      else ctx.report("warn", "skipping output to input port");
  }
}

/**
 * output(port=N,max_len=M) (xlate_output_trunc_action): `trunc(M)` then
 * the output, which the datapath cuts. Reserved ports other than LOCAL and
 * IN_PORT, and patch ports, cannot be truncated to.
 */
export function xlateOutputTrunc(
  ctx: XlateCtx,
  port: number,
  maxLen: number,
  isLast: boolean,
): void {
  switch (port) {
    case OFPP_TABLE:
    case OFPP_NORMAL:
    case OFPP_FLOOD:
    case OFPP_ALL:
    case OFPP_CONTROLLER:
    case OFPP_NONE:
      ctx.report("warn", `output_trunc does not support port: ${formatPort(port)}`);
      return;
  }
  if (port === inPort(ctx)) {
    ctx.report("warn", "skipping output to input port");
    return;
  }
  const xport = ctx.xin.bridge.port(port);
  if (!xport || xport.peer !== null) {
    ctx.report("error", `output_trunc does not support patch port ${formatPort(port)}`);
    return;
  }
  ctx.actions.push({ type: "trunc", maxLen });
  xlateOutputAction(ctx, port, 0, isLast);
}

/**
 * Sends the packet to the controller through a `userspace` action
 * (xlate_controller_action). The recirculation id names the frozen state
 * (table, in_port, registers, metadata) a continuation would resume from.
 */
export function xlateController(
  ctx: XlateCtx,
  maxLen: number,
  reason: number,
  controllerId: number,
): void {
  commitActions(ctx);
  const rule = ctx.rule;
  if (reason === OFPR_ACTION && rule && rule.priority === 0 && isCatchall(rule.match.mask)) {
    reason = OFPR_EXPLICIT_MISS;
  }
  const recircId = allocRecircId(ctx, frozenStateOf(ctx, ctx.tableId));
  if (!recircId) return;
  const dontSend = !ctx.xin.sideEffects && !ctx.xin.buildCache;
  ctx.actions.push({
    type: "userspace",
    pid: 0,
    userdata: encodeControllerCookie({
      dontSend,
      continuation: false,
      reason,
      recircId,
      ruleCookie: ctx.ruleCookie,
      controllerId,
      maxLen,
      ofprotoUuid: ctx.xin.ofprotoUuid,
    }),
  });
  ctx.packetIns++;
}

function isCatchall(mask: Uint32Array): boolean {
  for (let i = 0; i < mask.length; i++) if (mask[i] !== 0) return false;
  return true;
}

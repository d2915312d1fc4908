/**
 * Packets the switch consumes itself instead of forwarding
 * (ofproto-dpif-xlate.c process_special): a LACPDU received on a member
 * of a bond running LACP goes to the bond's LACP (lacp_process_packet)
 * when there is a packet, and its flow is slow-pathed (SLOW_LACP), so
 * that every later LACPDU comes up to userspace too.
 */
import { F, getUint } from "../flow/mod.ts";
import type { XlateCtx } from "./context.ts";
import { inPort } from "./output.ts";

const ETH_TYPE_LACP = 0x8809;
/** enum slow_path_reason's SLOW_LACP. */
export const SLOW_LACP = 1 << 2;

/** process_special: true when the packet was consumed (no actions to translate). */
export function processSpecial(ctx: XlateCtx): boolean {
  const port = ctx.xin.bridge.port(inPort(ctx));
  const lacp = port?.bond?.lacp;
  if (!port || !lacp || getUint(ctx.f, F.dl_type.off, 2) !== ETH_TYPE_LACP) return false;
  const packet = ctx.xin.packet;
  if (packet && ctx.xin.sideEffects) {
    lacp.processPacket(port.bond!.memberIndex(port.ofport), packet, ctx.xin.nowMs);
  }
  ctx.slow |= SLOW_LACP;
  return true;
}

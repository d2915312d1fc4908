/**
 * log_unexpected_stats_jump() (OVS 3.2, 59c908410 "ofproto-dpif-upcall:
 * Don't set statistics to 0 when they jump back."): a datapath flow's
 * packet counter below what its ukey last saw is worth a warning naming
 * the flow, rate limited as OVS does (1 per 5 s).
 */
import { type FlowKey, formatOdpActions, formatOdpKey, odpFormatUfid } from "../flow/mod.ts";
import { getLogger } from "../lib/mod.ts";
import type { UdpifContext } from "./handler.ts";
import type { DpFlowStats, DumpedFlow } from "./ports.ts";
import { RateLimit } from "./_rate_limit.ts";

const log = getLogger("ofproto_dpif_upcall");
const rl = new RateLimit(1, 5);
const ufid = new Uint32Array(4);

export function logUnexpectedStatsJump(
  ctx: UdpifContext,
  slot: number,
  from: number,
  to: number,
  key: FlowKey,
  stats: DpFlowStats,
): void {
  if (!rl.allow()) return;
  const flow = "ufid" in stats ? stats as DumpedFlow : undefined;
  const actions = flow ? formatOdpActions(ctx.dpif.flowActions(flow)) : "";
  log.warn(
    `Unexpected jump in packet stats from ${from} to ${to} when handling ukey ${
      odpFormatUfid(ctx.ukeys.ufid(slot, ufid))
    }, ${formatOdpKey(key, null)}, actions:${actions}`,
  );
}

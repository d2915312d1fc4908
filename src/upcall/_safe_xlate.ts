/**
 * Translation that cannot take a worker down: an exception (a bug, or a
 * packet translation did not expect) becomes a failed translation, which
 * udpif treats as OVS treats an xlate error (the packet is dropped, the
 * flow deleted), and is logged at a limited rate.
 *
 * `releaseRecircs` gives back the recirculation ids a result holds when
 * nothing (no ukey) takes them over.
 */
import { getLogger } from "../lib/mod.ts";
import type { UdpifXlate, XlateRequest, XlateResult } from "./ports.ts";
import { RateLimit } from "./_rate_limit.ts";

const log = getLogger("ofproto_dpif_upcall");
const rl = new RateLimit(1, 5);

export function translateSafely(xlate: UdpifXlate, req: XlateRequest): XlateResult {
  try {
    return xlate.translate(req);
  } catch (err) {
    if (rl.allow()) {
      log.warn(`xlate failed: ${err instanceof Error ? err.message : String(err)}`);
    }
    return { actions: undefined, slow: 0, avoidCaching: false, ofpInPort: 0, xcache: null };
  }
}

/** Gives back every recirculation id reference `res` holds (xlate_out_uninit). */
export function releaseRecircs(xlate: UdpifXlate, res: XlateResult): void {
  const ids = res.recircs;
  if (!ids) return;
  for (let i = 0; i < ids.length; i++) xlate.releaseRecirc?.(ids[i]);
}

/**
 * Credits a flow's stats delta to the rules its key translates through,
 * for a flow with no translation cache at hand (xlate_push_stats after a
 * fresh translation), and gives back the recirculation ids it took.
 */
export function pushStatsByTranslation(
  xlate: UdpifXlate,
  key: XlateRequest["key"],
  packets: number,
  bytes: number,
  used: number,
  tcpFlags: number,
): void {
  const res = translateSafely(xlate, {
    key,
    packet: null,
    packets,
    bytes,
    tcpFlags,
    used,
    wc: null,
    wantXcache: false,
  });
  releaseRecircs(xlate, res);
}

/**
 * Translation that cannot take a worker down: an exception (a bug, or a
 * packet translation did not expect) becomes a failed translation, which
 * udpif treats as OVS treats an xlate error (the packet is dropped, the
 * flow deleted), and is logged at a limited rate.
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

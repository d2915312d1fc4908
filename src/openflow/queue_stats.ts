/**
 * Queue stats requests (OVS's lib/ofp-queue.c
 * ofputil_decode_queue_stats_request): which port (any or one) and which
 * queue (all or one).
 */
import { WireReader } from "./_buf.ts";
import { portFromOf11 } from "./port_number.ts";
import { OFP10_VERSION } from "./types.ts";

/** All queues of a port. */
export const OFPQ_ALL = 0xffffffff;
const OFPP10_ALL = 0xfffc;
const OFPP10_NONE = 0xffff;
const OFPP11_ANY = 0xffffffff;

export interface QueueStatsRequest {
  /** undefined: every port (OpenFlow 1.0's ALL, 1.1+'s ANY). */
  portNo: number | undefined;
  queueId: number;
}

export function decodeQueueStatsRequest(msg: Uint8Array, version: number): QueueStatsRequest {
  const r = new WireReader(msg, "OFPBRC_BAD_LEN", version === OFP10_VERSION ? 12 : 16);
  if (version === OFP10_VERSION) {
    const port = r.u16();
    r.skip(2);
    const queueId = r.u32();
    // OVS reads 1.0's ALL as "any port", as NONE (its OFPP_ANY) is.
    return { portNo: port === OFPP10_ALL || port === OFPP10_NONE ? undefined : port, queueId };
  }
  const port = r.u32();
  const queueId = r.u32();
  return { portNo: port === OFPP11_ANY ? undefined : portFromOf11(port), queueId };
}

/**
 * A connection's stats (multipart) requests, as ofproto.c's
 * handle_desc_stats_request, handle_table_stats_request,
 * handle_port_stats_request, handle_port_desc_stats_request,
 * handle_table_features_request, handle_queue_stats_request, the group
 * stats, desc and features requests (ofconn_groups.ts) and
 * handle_flow_stats_request/handle_aggregate_stats_request answer them:
 * the reply's parts, or an OfpError naming OVS's error.
 *
 * Thread-safety: main thread (reads the master OpenFlow tables).
 */
import { coverageCounter } from "../lib/mod.ts";
import {
  decodeFlowStatsRequest,
  decodePortStatsRequest,
  decodeQueueStatsRequest,
  NX_VENDOR_ID,
  NXST_AGGREGATE,
  NXST_FLOW,
  OFP10_VERSION,
  OfpError,
  OFPQ_ALL,
  OFPST13_TABLE_FEATURES,
  OFPST_AGGREGATE,
  OFPST_DESC,
  OFPST_FLOW,
  OFPST_PORT,
  OFPST_PORT_DESC,
  OFPST_QUEUE,
  OFPST_TABLE,
  OFPST_VENDOR,
  putAggregate,
  putDescStats,
  putFlowStats,
  putPortDescs,
  putPortStats,
  putTableFeatures,
  putTableStats,
  StatsReplyBuilder,
  WireReader,
} from "../openflow/mod.ts";
import type { OfSwitch } from "./of_switch.ts";
import {
  groupStats,
  NXST_GROUP,
  NXST_GROUP_DESC,
  NXST_GROUP_FEATURES,
  OFPMP_GROUP,
  OFPMP_GROUP_DESC,
  OFPMP_GROUP_FEATURES,
} from "./ofconn_groups.ts";

const covQueueReq = coverageCounter("ofproto_queue_req");

/** The reply to one stats request `msg` of a connection speaking `version`. */
export function answerStats(
  sw: OfSwitch,
  version: number,
  xid: number,
  msg: Uint8Array,
): Uint8Array[] {
  const v = version;
  const r = new WireReader(msg, "OFPBRC_BAD_LEN", 8);
  const statsType = r.u16();
  if (statsType === OFPST_VENDOR && v === OFP10_VERSION) {
    r.skip(2);
    if (r.u32() !== NX_VENDOR_ID) throw new OfpError("OFPBRC_BAD_VENDOR");
    const subtype = r.u32();
    if (
      subtype === NXST_GROUP || subtype === NXST_GROUP_DESC || subtype === NXST_GROUP_FEATURES
    ) {
      const b = new StatsReplyBuilder(v, xid, statsType, subtype);
      return groupStats(b, sw, statsType, msg, v, subtype);
    }
    if (subtype !== NXST_FLOW && subtype !== NXST_AGGREGATE) {
      throw new OfpError("OFPBRC_BAD_SUBTYPE");
    }
    return flowStats(sw, v, xid, msg, statsType, subtype === NXST_AGGREGATE, subtype);
  }
  const b = new StatsReplyBuilder(v, xid, statsType);
  switch (statsType) {
    case OFPST_DESC:
      b.add((w) => putDescStats(w, sw.desc()));
      return b.finish();
    case OFPST_TABLE:
      for (const t of sw.tableStats()) b.add((w) => putTableStats(w, t, v));
      return b.finish();
    case OFPST_PORT_DESC:
      putPortDescs(b, sw.ports(), v);
      return b.finish();
    case OFPST_PORT: {
      const port = decodePortStatsRequest(msg, v);
      const stats = sw.portStats().filter((s) => port === undefined || s.portNo === port);
      // A port that does not exist gets an empty reply, as in OVS.
      for (const s of stats) b.add((w) => putPortStats(w, s, v));
      return b.finish();
    }
    case OFPST_QUEUE:
      return queueStats(sw, v, msg, b);
    case OFPST13_TABLE_FEATURES: {
      // A query (empty body) gets each table's features; changing them is refused.
      if (v === OFP10_VERSION) break;
      if (msg.length > 16) throw new OfpError("OFPBRC_EPERM");
      const n = sw.features().nTables;
      for (let t = 0; t < n; t++) b.add((w) => putTableFeatures(w, t, n));
      return b.finish();
    }
    case OFPMP_GROUP:
    case OFPMP_GROUP_DESC:
    case OFPMP_GROUP_FEATURES:
      if (v === OFP10_VERSION) break;
      return groupStats(b, sw, statsType, msg, v);
    case OFPST_FLOW:
    case OFPST_AGGREGATE:
      if (v !== OFP10_VERSION) {
        return flowStats(sw, v, xid, msg, statsType, statsType === OFPST_AGGREGATE);
      }
  }
  throw new OfpError("OFPBRC_BAD_STAT");
}

/**
 * handle_queue_stats_request: udpif's ports have no QoS queues, so (as
 * OVS with netdevs whose qdisc has none) all queues of any or all ports
 * is an empty reply, a queue by number OFPQOFC_BAD_QUEUE, and a port
 * that does not exist OFPQOFC_BAD_PORT.
 */
function queueStats(
  sw: OfSwitch,
  version: number,
  msg: Uint8Array,
  b: StatsReplyBuilder,
): Uint8Array[] {
  covQueueReq.inc();
  const { portNo, queueId } = decodeQueueStatsRequest(msg, version);
  if (portNo !== undefined && !sw.ports().some((p) => p.portNo === portNo)) {
    throw new OfpError("OFPQOFC_BAD_PORT");
  }
  if (queueId !== OFPQ_ALL) throw new OfpError("OFPQOFC_BAD_QUEUE");
  return b.finish();
}

function flowStats(
  sw: OfSwitch,
  version: number,
  xid: number,
  msg: Uint8Array,
  statsType: number,
  aggregate: boolean,
  nxSubtype?: number,
): Uint8Array[] {
  const filter = decodeFlowStatsRequest(msg, version);
  const rules = sw.selectRules(filter);
  const b = new StatsReplyBuilder(version, xid, statsType, nxSubtype);
  if (aggregate) b.add((w) => putAggregate(w, rules, version));
  else {
    const now = sw.nowMs();
    for (const rule of rules) b.add((w) => putFlowStats(w, rule, version, now));
  }
  return b.finish();
}

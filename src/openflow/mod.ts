/**
 * openflow: OpenFlow messages on the wire, decoded and encoded, one module
 * per message family as OVS's lib/ofp-*.c: the header, framing, hello and
 * version negotiation, echo and barrier (header.ts); errors with OVS's
 * type/code per version (errors.ts); NXM/OXM matches (nx_match.ts) and the
 * OpenFlow 1.0 match (of10_match.ts); actions and instructions
 * (actions.ts, Nicira's in _nx_actions.ts, the conntrack ones, NXAST_CT with
 * its nested actions, NXAST_NAT and NXAST_CT_CLEAR, in _ct_actions.ts; learn, clone, sample,
 * multipath, bundle, fin_timeout and check_pkt_larger in
 * _nx_ext_actions.ts); flow-mods (flow_mod.ts) and
 * flow-removed (flow_removed.ts); flow and aggregate stats
 * (flow_stats.ts); features, switch config, desc, port descriptions,
 * port and table stats, port-mod, port status (switch.ts); queue stats requests
 * (queue_stats.ts); packet-out (packet_out.ts);
 * the checks vconn and ofpraw_pull make before any handler: a message's
 * version against the connection's and its size against its type's
 * (msg_check.ts);
 * packet-in in the standard, NXT_PACKET_IN and NXT_PACKET_IN2 formats
 * (packet_in.ts); controller roles (role.ts); group-mods and group desc,
 * stats and features replies of OpenFlow 1.1 to 1.4 (group_mod.ts) and in
 * 1.5's layout as OVS's Nicira extensions over 1.0 (group_mod15.ts);
 * OpenFlow 1.5 statistics as OXS (oxs.ts).
 * Versions: OpenFlow 1.0 with the Nicira extensions ovs-ofctl uses by
 * default, and OpenFlow 1.3, 1.4 and 1.5 (ports with properties from
 * 1.4; flow stats, aggregate and flow-removed with OXS stats, packet-out
 * with a match, in 1.5).
 *
 * This layer speaks ofproto's types: a flow-mod decodes to the same
 * `FlowMod` ovs-ofctl text parses to, actions to the same `OfAction`s
 * (converted between versions by ofproto's `actionsOverWire`), so it sits
 * just above ofproto. It does no I/O: src/daemon's connection manager
 * reads the bytes, calls in here and writes what comes back. Bad input
 * throws `OfpError` naming the OpenFlow error OVS would send
 * (`encodeError` builds the reply); nothing here trusts a length field.
 *
 * Thread-safety: pure functions and per-call objects, no shared state;
 * used on the main thread, which owns the OpenFlow tables.
 */
export * from "./types.ts";
export {
  encodeError,
  errorCode,
  errorName,
  finishMessage,
  OfpError,
  type OfpErrorName,
} from "./errors.ts";
export {
  decodeHeader,
  encodeBarrierReply,
  encodeEchoReply,
  encodeHeader,
  encodeHello,
  frameLength,
  helloVersions,
  negotiateVersion,
  OFP_HEADER_LEN,
  type OfpHeader,
} from "./header.ts";
export { WireReader, WireWriter } from "./_buf.ts";
export { answerOtherVersion, checkRequestLength } from "./msg_check.ts";
export {
  fieldHeader,
  fieldOfHeader,
  pullNxEntries,
  pullOxmMatch,
  putNxEntries,
  putOxmMatch,
} from "./nx_match.ts";
export { pullOf10Match, putOf10Match } from "./of10_match.ts";
export { encodeFlowRemoved } from "./flow_removed.ts";
export { pullActions, pullInstructions, putActions10, putInstructions } from "./actions.ts";
export { decodeFlowMod, type FlowModContext } from "./flow_mod.ts";
export {
  decodeFlowStatsRequest,
  NX_STATS_HEADER_LEN,
  OF13_STATS_HEADER_LEN,
  putAggregate,
  putFlowStats,
  StatsReplyBuilder,
} from "./flow_stats.ts";
export {
  decodePortMod,
  decodePortStatsRequest,
  decodeSetConfig,
  type DescStats,
  encodeFeaturesReply,
  encodeGetConfigReply,
  encodePortStatus,
  OFPPC10_NO_FLOOD,
  OFPPC_PORT_DOWN,
  OFPPR_ADD,
  OFPPR_DELETE,
  OFPPR_MODIFY,
  type PortDesc,
  type PortMod,
  type PortStats,
  putDescStats,
  putPortDescs,
  putPortStats,
  putTableFeatures,
  putTableStats,
  type SwitchConfig,
  type SwitchFeatures,
  type TableStats,
} from "./switch.ts";
export { portFromOf11, portToOf11 } from "./port_number.ts";
export { decodePacketOut, type PacketOut } from "./packet_out.ts";
export { type OxsStats, putOxsStats } from "./oxs.ts";
export { decodeQueueStatsRequest, OFPQ_ALL, type QueueStatsRequest } from "./queue_stats.ts";
export {
  decodePacketInFormat,
  encodePacketIn,
  NXT_PACKET_IN,
  NXT_PACKET_IN2,
  OFPR_ACTION,
  OFPR_EXPLICIT_MISS,
  OFPR_IMPLICIT_MISS,
  OFPR_INVALID_TTL,
  OFPR_NO_MATCH,
  type PacketInFormat,
  type PacketInMessage,
  wireReason,
} from "./packet_in.ts";
export {
  type ControllerRole,
  decodeRoleRequest,
  encodeRoleReply,
  type RoleRequest,
} from "./role.ts";
export {
  decodeGroupMod,
  decodeGroupStatsRequest,
  OFPMP_GROUP,
  OFPMP_GROUP_DESC,
  OFPMP_GROUP_FEATURES,
  putGroupDesc,
  putGroupFeatures,
  putGroupStats,
} from "./group_mod.ts";
export {
  decodeGroupMod15,
  NXST_GROUP,
  NXST_GROUP_DESC,
  NXST_GROUP_FEATURES,
  NXT_GROUP_MOD,
  putGroupDesc15,
} from "./group_mod15.ts";

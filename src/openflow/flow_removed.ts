/**
 * Flow-removed messages (ofputil_encode_flow_removed in OVS's
 * lib/ofp-flow.c): a rule with send_flow_rem left the tables, idle or
 * hard timeout or delete, with its age and counters. OpenFlow 1.0 sends
 * OFPT_FLOW_REMOVED with an ofp_match, or NXT_FLOW_REMOVED with NXM once
 * the connection chose the NXM flow format; 1.3 and 1.4 send
 * OFPT_FLOW_REMOVED with OXM, 1.5 its ofp15_flow_removed with the
 * counters as OXS stats.
 */
import type { Rule, RuleRemovedReason } from "../ofproto/mod.ts";
import { WireWriter } from "./_buf.ts";
import { encodeHeader } from "./header.ts";
import { finishMessage } from "./errors.ts";
import { putOf10Match } from "./of10_match.ts";
import { putNxEntries, putOxmMatch } from "./nx_match.ts";
import { putOxsStats } from "./oxs.ts";
import {
  NX_VENDOR_ID,
  NXFF_NXM,
  OFP10_VERSION,
  OFP15_VERSION,
  OFPT_FLOW_REMOVED,
  OFPT_VENDOR,
} from "./types.ts";

const REASONS: Record<RuleRemovedReason, number> = { idle: 0, hard: 1, delete: 2 };
const NXT_FLOW_REMOVED = 14;

/** The message for `rule`, removed at `nowMs`, on a connection of `version` and `flowFormat`. */
export function encodeFlowRemoved(
  rule: Rule,
  reason: RuleRemovedReason,
  nowMs: number,
  version: number,
  flowFormat: number,
): Uint8Array {
  const w = new WireWriter();
  const durationMs = Math.max(0, Math.floor(nowMs - rule.createdMs));
  const duration = () => w.u32(Math.floor(durationMs / 1000)).u32((durationMs % 1000) * 1_000_000);
  const counters = () => w.u64(BigInt(rule.nPackets)).u64(BigInt(rule.nBytes));
  if (version >= OFP15_VERSION) {
    encodeHeader(w, version, OFPT_FLOW_REMOVED, 0);
    w.u8(rule.tableId).u8(REASONS[reason]).u16(rule.priority);
    w.u16(rule.idleTimeout).u16(rule.hardTimeout).u64(rule.cookie);
    putOxmMatch(w, rule.match);
    putOxsStats(w, { durationMs, packets: BigInt(rule.nPackets), bytes: BigInt(rule.nBytes) });
  } else if (version !== OFP10_VERSION) {
    encodeHeader(w, version, OFPT_FLOW_REMOVED, 0);
    w.u64(rule.cookie).u16(rule.priority).u8(REASONS[reason]).u8(rule.tableId);
    duration();
    w.u16(rule.idleTimeout).u16(rule.hardTimeout);
    counters();
    putOxmMatch(w, rule.match);
  } else if (flowFormat === NXFF_NXM) {
    encodeHeader(w, version, OFPT_VENDOR, 0);
    w.u32(NX_VENDOR_ID).u32(NXT_FLOW_REMOVED);
    w.u64(rule.cookie).u16(rule.priority).u8(REASONS[reason]).u8(rule.tableId);
    duration();
    w.u16(rule.idleTimeout);
    const matchLenAt = w.length;
    w.u16(0);
    counters();
    w.setU16(matchLenAt, putNxEntries(w, rule.match, false));
    w.pad8();
  } else {
    encodeHeader(w, version, OFPT_FLOW_REMOVED, 0);
    putOf10Match(w, rule.match);
    w.u64(rule.cookie).u16(rule.priority).u8(REASONS[reason]).zeros(1);
    duration();
    w.u16(rule.idleTimeout).zeros(2);
    counters();
  }
  return finishMessage(w);
}

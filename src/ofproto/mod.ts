/**
 * ofproto: the OpenFlow side of the switch. Rules in ovs-ofctl syntax go
 * in (add-flow, mod-flows, del-flows), sit in tables 0..254, and come back
 * out of dump-flows in ovs-ofctl's text; translation asks the tables which
 * rule a flow hits and learns, through the wildcards, which bits of the
 * flow that answer depended on.
 *
 * Main types:
 * - `OfTables`: the 255 tables of a bridge and the flow-table commands
 *   with OVS's semantics (strict and loose, cookie masks, out_port,
 *   check_overlap, OpenFlow 1.0 versus 1.3 modify), idle and hard
 *   timeouts against a clock value, rule stats, the tables `version`, and
 *   the `TablesUpdate`s (one per change, or a snapshot) that replicas apply.
 *   Which rules a flow_mod selects, and check_overlap, are in the private
 *   _rule_select.ts (collect_rules_loose/strict).
 * - `Classifier`: one table's rules by priority, with OVS 3.1's staged
 *   lookup, prefix tries on the table's prefix fields (default ip_dst and
 *   ip_src; IPv6 addresses when configured) and per-subtable ports tries, so that lookups un-wildcard exactly the bits
 *   OVS's do: the megaflow shapes. Dumps follow OVS's order (subtables by
 *   priority, rules by insertion, exact cookies by the cookie index).
 * - `Rule`: id, table, priority, cookie, match (key + mask in the flow
 *   layout), `OfAction`s, timeouts, flags and stats.
 * - `MF_FIELDS` / `mfByName`: OVS field names mapped to flow-key bits and
 *   prerequisites, shared by matching, set_field, load and move.
 * - `MacLearning`: the shared-memory MAC table behind the NORMAL action.
 * - Bonds (bond_config.ts, bond.ts, bond_run.ts): `BondConfig` and its
 *   defaults, `Bond`, the per-packet decisions every
 *   translating thread makes over a bond's shared state (admissibility,
 *   output member, SLB buckets), and `BondRunner`, the main thread's
 *   member enabling, active-member choice, bond/... commands and
 *   bond/show text (ofproto/bond.c), moving SLB/TCP buckets by their
 *   load (bond_rebalance.ts), the gratuitous learning packets after a
 *   failover (`composeLearningPacket`); `Lacp` (lacp.ts), a bond's LACP
 *   partners, attachment, LACPDUs and counters (lib/lacp.c), printed by
 *   `lacpShowText` and `lacpStatsText` (lacp/show, lacp/show-stats).
 * - Groups: `parseGroupMod`/`formatGroup` (ovs-ofctl's group syntax) and
 *   the `GroupTable` each `OfTables` carries (`groupMod`, versioned with
 *   the rules and replicated through the same updates), with each select
 *   group's selection setup (`GroupSelection`: dp_hash table, hash fields)
 *   and group/bucket stats credited through negative rule-stats ids
 *   (`groupStatsId`, read back by `decodeGroupStatsId`).
 * - Conntrack: `ct(...)`, `nat(...)` and `ct_clear` as OfActions
 *   (ct_action.ts: parse, print, the nesting rules and check_CT), the
 *   ct_* match fields (ct_state's flag syntax in field_value.ts, their
 *   printing in ct_match_format.ts, MFP_CT_VALID in ct_match.ts).
 * - Learning (learn_action.ts, learned_cookies.ts): the learn action's
 *   text, the flow_mod it makes of a flow (`learnFlowMod`) and the bits it
 *   looks at (`learnMask`); `delete_learned` removes a learning rule's
 *   flows with it (OfTables, through `learnedCookiesToFlush`).
 * - Packet-outs: `parsePacketOut` reads ovs-ofctl's packet-out text.
 * - Text: `parseFlowMod`, `parseActions`, `formatRule`, `formatActions`,
 *   `formatMatch`, in OpenFlow 1.0 or 1.3 spelling; errors are
 *   `OfctlError`s, one line naming the bad part, worded as ovs-ofctl's.
 *
 * Thread-safety: the master copy of the tables lives on the main thread,
 * which alone runs flow-table commands and expiry and owns rule stats.
 * Each handler and revalidator worker holds its own replica, built from
 * the same `TablesUpdate` messages (in version order, via `applyUpdate`;
 * `snapshotUpdate` starts a late one), and only reads it: a lookup is
 * single-threaded per replica and allocates nothing. A new version is the
 * caller's cue to bump reval_seq. Workers report rule stats back to the
 * main thread by rule id (`creditStats`), ids being the same everywhere.
 * A bond's state is shared memory behind one Atomics lock: the main
 * thread's `BondRunner` enables members, picks the active one and moves
 * buckets; any translating thread may fill an empty SLB bucket, and any
 * thread pushing a flow's statistics adds to its bucket's byte count
 * (`Bond.account`).
 */
export {
  type HashFields,
  LEARN_F_DELETE_LEARNED,
  LEARN_F_SEND_FLOW_REM,
  LEARN_F_WRITE_RESULT,
  type LearnAction,
  type LearnSpec,
  type OfAction,
} from "./of_action.ts";
export * from "./of_action.ts";
export { OfctlError } from "./ofctl_error.ts";
export {
  ETH_TYPE_ARP,
  ETH_TYPE_IP,
  ETH_TYPE_IPV6,
  ETH_TYPE_RARP,
  IPPROTO_ICMP,
  IPPROTO_ICMPV6,
  IPPROTO_SCTP,
  IPPROTO_TCP,
  IPPROTO_UDP,
  MF_FIELDS,
  mfByName,
  type MfField,
  mfGet,
  mfSet,
  mfSetMasked,
  mfValueMask,
  type Prereq,
  prereqOk,
} from "./meta_flow.ts";
export {
  cloneMatch,
  isProtocolName,
  type Match,
  matchSetField,
  matchSetIpv6Label,
  newMatch,
  normalizeMatch,
  parseMatchItem,
} from "./match.ts";
export { type KeyValue, parseKeyValues } from "./key_value.ts";
export { formatFdbShow } from "./fdb_show.ts";
export {
  MAC_DEFAULT_MAX,
  MAC_ENTRY_DEFAULT_IDLE_TIME,
  type MacEntryView,
  MacLearning,
} from "./mac_learning.ts";
export { DEFAULT_PRIORITY, formatMatch } from "./match_format.ts";
export { Bond, BOND_BUCKETS, type BondInit, type BondVerdict } from "./bond.ts";
export {
  BOND_MODES,
  type BondConfig,
  type BondMode,
  defaultBondConfig,
  type LacpMode,
  type MemberLacpConfig,
} from "./bond_config.ts";
export { BondCommandError, bondHashCommand, BondRunner } from "./bond_run.ts";
export { composeLearningPacket, maySendLearningPackets } from "./bond_learning.ts";
export { Lacp, LACP_DST_MAC, type LacpConfig, type LacpInit, type LacpSnapshot } from "./lacp.ts";
export { lacpShowText, lacpStatsText } from "./lacp_show.ts";
export { ctFieldLackingPrereq } from "./ct_match.ts";
export { parseActions } from "./action_parse.ts";
export { parseSubfield } from "./field_action_parse.ts";
export {
  packetFromHex,
  packetOutPort,
  type PacketOutSpec,
  parsePacketOut,
} from "./packet_out_parse.ts";
export { formatActions, formatSubfield, OFP10_VERSION, OFP13_VERSION } from "./action_format.ts";
export {
  checkActions,
  FF_CHECK_OVERLAP,
  FF_NO_BYT_COUNTS,
  FF_NO_PKT_COUNTS,
  FF_RESET_COUNTS,
  FF_SEND_FLOW_REM,
  FLAG_NAMES,
  type FlowMod,
  type FlowModCommand,
  type FlowModOptions,
  newFlowMod,
  parseFlowMod,
  parseFlowModLine,
  retargetL4,
} from "./flow_mod.ts";
export { actionsOverWire } from "./action_wire.ts";
export { learnActionsOf, learnFlowMod, learnMask } from "./learn_action.ts";
export { learnedCookiesToFlush } from "./learned_cookies.ts";
export { modAction } from "./field_action_parse.ts";
export { Classifier, type ClsRule } from "./classifier.ts";
export { type SortCriterion, sortRules } from "./dump_sort.ts";
export { DEFAULT_PREFIX_FIELDS, MAX_PREFIX_FIELDS } from "./prefix_fields.ts";
export {
  dumpFlowsHeader,
  formatRule,
  type FormatRuleOptions,
  type Rule,
  type RuleJson,
  ruleJson,
} from "./rule.ts";
export {
  type Bucket,
  BUCKET_ALL,
  BUCKET_FIRST,
  BUCKET_LAST,
  bucketHasLiveness,
  formatBucketId,
  formatGroup,
  type Group,
  type GroupMod,
  type GroupModCommand,
  type GroupProps,
  type GroupType,
  hasBucketIds,
  type HashField,
  OFP15_VERSION,
  OFPG_ALL,
  OFPG_ANY,
  parseGroupMod,
} from "./group.ts";
export {
  dumpGroupFeatures,
  dumpGroups,
  dumpGroupStats,
  formatFlowModRefused,
  formatGroupModError,
  groupRefCount,
} from "./group_dump.ts";
export {
  decodeGroupStatsId,
  GroupModError,
  type GroupOp,
  type GroupSelection,
  type GroupStats,
  groupStatsId,
  GroupTable,
} from "./groups.ts";
export {
  FlowModRefused,
  MAX_VISIBLE_PRIORITY,
  N_TABLES,
  OfTables,
  type RuleRemovedReason,
  type RuleSnapshot,
  type TablesOp,
  type TablesUpdate,
} from "./tables.ts";
export {
  formatFieldValue,
  formatIpv4,
  formatIpv6,
  formatMac,
  formatPort,
  type MaskedValue,
  parseFieldValue,
  parseIpv4,
  parseIpv6,
  parsePort,
  type PortNames,
} from "./field_value.ts";

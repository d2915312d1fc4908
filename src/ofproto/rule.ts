/**
 * An OpenFlow rule and its flow-stats line as `ovs-ofctl dump-flows`
 * prints it (ofputil_flow_stats_format).
 */
import type { OfAction } from "./of_action.ts";
import { type Match, oxmRoundTrip } from "./match.ts";
import { DEFAULT_PRIORITY, formatMatch } from "./match_format.ts";
import { formatActions, OFP10_VERSION } from "./action_format.ts";
import { actionsOverWire } from "./action_wire.ts";
import { FLAG_NAMES } from "./flow_mod.ts";

export interface Rule {
  /** Unique within a tables master copy and its replicas; never reused. */
  id: number;
  tableId: number;
  priority: number;
  cookie: bigint;
  match: Match;
  actions: OfAction[];
  /** Seconds; 0 = none. */
  idleTimeout: number;
  hardTimeout: number;
  /** FF_* flow-mod flags the rule keeps (send_flow_rem, check_overlap, reset_counts, ...). */
  flags: number;
  nPackets: number;
  nBytes: number;
  createdMs: number;
  /** Last time a packet hit the rule (starts at createdMs). */
  usedMs: number;
  /** Last add/modify: hard_timeout counts from here, hard_age shows it. */
  modifiedMs: number;
}

export interface FormatRuleOptions {
  /** OpenFlow version of the dump (OFP10_VERSION or OFP13_VERSION). */
  version?: number;
  /** With the clock: duration, idle_age, hard_age as OVS prints them. */
  nowMs?: number;
  /** Leave out duration/idle_age/hard_age (as the oracle's normalizer does). */
  noTimes?: boolean;
  /** Port numbers to names: ovs-ofctl --names. */
  namesByPort?: ReadonlyMap<number, string>;
}

/** ofp_print_duration: seconds, then 3 decimals when there are milliseconds. */
export function formatDuration(ms: number): string {
  const sec = Math.floor(ms / 1000);
  const rest = ms - sec * 1000;
  return rest > 0 ? `${sec}.${String(rest).padStart(3, "0")}s` : `${sec}s`;
}

const ageSecs = (ms: number) => (ms < 0 ? 0 : ms >= 65535000 ? 65535 : Math.floor(ms / 1000));

/** One dump-flows line, with its leading space. */
export function formatRule(rule: Rule, opts: FormatRuleOptions = {}): string {
  const version = opts.version ?? OFP10_VERSION;
  const now = opts.nowMs ?? rule.createdMs;
  const times = !opts.noTimes && opts.nowMs !== undefined;
  const parts: string[] = [`cookie=0x${rule.cookie.toString(16)}`];
  const durationMs = Math.max(0, Math.floor(now - rule.createdMs));
  if (times) parts.push(`duration=${formatDuration(durationMs)}`);
  parts.push(`table=${rule.tableId}`, `n_packets=${rule.nPackets}`, `n_bytes=${rule.nBytes}`);
  if (rule.idleTimeout) parts.push(`idle_timeout=${rule.idleTimeout}`);
  if (rule.hardTimeout) parts.push(`hard_timeout=${rule.hardTimeout}`);
  // OpenFlow 1.0 flow stats have no flags field; 1.3's do.
  let flags = "";
  if (version !== OFP10_VERSION) {
    for (const [name, bit] of FLAG_NAMES) if (rule.flags & bit) flags += `${name} `;
  }
  if (times && version === OFP10_VERSION) {
    parts.push(`idle_age=${ageSecs(now - rule.usedMs)}`);
    const hardAge = ageSecs(now - rule.modifiedMs);
    if (hardAge !== Math.floor(durationMs / 1000)) parts.push(`hard_age=${hardAge}`);
  }
  const match = formatMatch(
    version === OFP10_VERSION ? rule.match : oxmRoundTrip(rule.match),
    rule.priority,
    opts.namesByPort,
  );
  const head = ` ${parts.join(", ")}, ${flags}${match}`;
  const actions = formatActions(
    actionsOverWire(rule.actions, version, rule.match),
    opts.namesByPort,
  );
  return `${match ? head + " " : head}actions=${actions}`;
}

/** The reply header line, without the xid that the oracle normalizes away. */
export function dumpFlowsHeader(version = OFP10_VERSION): string {
  return version === OFP10_VERSION ? "NXST_FLOW reply:" : `OFPST_FLOW reply (OF1.${version - 1}):`;
}

/** A rule for `--format json`: the dump-flows line's fields, by name. */
export interface RuleJson {
  cookie: string;
  table: number;
  priority: number;
  match: string;
  actions: string;
  n_packets: number;
  n_bytes: number;
  idle_timeout: number;
  hard_timeout: number;
  flags: string[];
  duration_ms?: number;
  idle_age?: number;
}

export function ruleJson(rule: Rule, opts: FormatRuleOptions = {}): RuleJson {
  const version = opts.version ?? OFP10_VERSION;
  const out: RuleJson = {
    cookie: `0x${rule.cookie.toString(16)}`,
    table: rule.tableId,
    priority: rule.priority,
    match: formatMatch(
      version === OFP10_VERSION ? rule.match : oxmRoundTrip(rule.match),
      DEFAULT_PRIORITY,
    ),
    actions: formatActions(actionsOverWire(rule.actions, version, rule.match)),
    n_packets: rule.nPackets,
    n_bytes: rule.nBytes,
    idle_timeout: rule.idleTimeout,
    hard_timeout: rule.hardTimeout,
    flags: FLAG_NAMES.filter(([, bit]) => rule.flags & bit).map(([name]) => name),
  };
  if (opts.nowMs !== undefined) {
    out.duration_ms = Math.max(0, opts.nowMs - rule.createdMs);
    out.idle_age = ageSecs(opts.nowMs - rule.usedMs);
  }
  return out;
}

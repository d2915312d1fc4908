/**
 * One flow in ovs-ofctl syntax turned into a flow-mod description
 * (parse_ofp_str): the match, priority, table, cookie, timeouts, actions,
 * checked the way ovs-ofctl checks them before anything reaches a table.
 */
import { bytesOf, F } from "../flow/mod.ts";
import { type OfAction, OFPP_NONE } from "./of_action.ts";
import { OfctlError } from "./ofctl_error.ts";
import { parseKeyValues } from "./key_value.ts";
import {
  fitsOf10,
  type Match,
  matchOverNxm,
  type MatchUsage,
  newMatch,
  normalizeMatch,
  of10RoundTrip,
  oxmRoundTrip,
  parseMatchItem,
} from "./match.ts";
import { DEFAULT_PRIORITY } from "./match_format.ts";
import { actionField, parseActions } from "./action_parse.ts";
import { checkCtDecodable, ctActionFits } from "./ct_action.ts";
import { ctFieldLackingPrereq } from "./ct_match.ts";
import { actionsOverWire } from "./action_wire.ts";
import { OFP10_VERSION } from "./action_format.ts";
import { IPPROTO_SCTP, IPPROTO_UDP, mfByName, prereqOk } from "./meta_flow.ts";
import { parsePort, parseUint, type PortNames } from "./field_value.ts";

export type FlowModCommand = "add" | "modify" | "delete";

/** Flow-mod flags (OFPUTIL_FF_*), kept in rules and shown by OpenFlow 1.3 dumps. */
export const FF_SEND_FLOW_REM = 1 << 0;
export const FF_CHECK_OVERLAP = 1 << 1;
export const FF_RESET_COUNTS = 1 << 2;
export const FF_NO_PKT_COUNTS = 1 << 3;
export const FF_NO_BYT_COUNTS = 1 << 4;

/** The flag keywords, in the order ofputil_flow_mod_flags_format prints them. */
export const FLAG_NAMES: ReadonlyArray<[string, number]> = [
  ["send_flow_rem", FF_SEND_FLOW_REM],
  ["check_overlap", FF_CHECK_OVERLAP],
  ["reset_counts", FF_RESET_COUNTS],
  ["no_packet_counts", FF_NO_PKT_COUNTS],
  ["no_byte_counts", FF_NO_BYT_COUNTS],
];

/** OpenFlow version of the ovs-ofctl connection (OFP10_VERSION by default). */
export interface FlowModOptions {
  version?: number;
  /** The bridge's port names, so that `in_port=p1` and `output:p2` work. */
  portNames?: PortNames;
}

export interface FlowMod {
  command: FlowModCommand;
  /** --strict: exact match and priority, not "at least as specific". */
  strict: boolean;
  match: Match;
  priority: number;
  /** undefined: every table (mod/del), table 0 for add. */
  tableId: number | undefined;
  cookie: bigint;
  /** For mod/del: which cookie bits must equal `cookie` (0: any cookie). */
  cookieMask: bigint;
  /**
   * For mod: the cookie the rules get. Without `cookie=` and without a
   * cookie mask it is 0, as ovs-ofctl sends it in OpenFlow 1.0.
   */
  newCookie: bigint | undefined;
  idleTimeout: number;
  hardTimeout: number;
  /** undefined for del-flows. */
  actions: OfAction[] | undefined;
  /** del/mod filter: only rules that output to this port. */
  outPort: number | undefined;
  /** FF_* bits. */
  flags: number;
}

function u16(value: string, name: string): number {
  const v = parseUint(value);
  if (v === undefined || v > 0xffffn) throw new OfctlError(`invalid ${name} "${value}"`);
  return Number(v);
}

function u64(value: string): bigint {
  if (value === "-1") return (1n << 64n) - 1n;
  const v = parseUint(value);
  if (v === undefined || v >= 1n << 64n) throw new OfctlError(`invalid numeric format ${value}`);
  return v;
}

/** Splits off the text after `actions=` (ofp_extract_actions). */
export function extractActions(text: string): [string, string | undefined] {
  const i = text.indexOf("action");
  if (i < 0) return [text, undefined];
  const eq = text.indexOf("=", i);
  if (eq < 0) return [text.slice(0, i), undefined];
  return [text.slice(0, i), text.slice(eq + 1)];
}

/** mod_tp_* writes the L4 port of whatever protocol the rule matches. */
export function retargetL4(actions: OfAction[], m: Match): void {
  const proto = bytesOf(m.key)[F.nw_proto.off];
  const l4 = proto === IPPROTO_UDP ? "udp" : proto === IPPROTO_SCTP ? "sctp" : "tcp";
  for (const a of actions) {
    if (a.type === "mod" && (a.name === "mod_tp_src" || a.name === "mod_tp_dst")) {
      a.field = `${l4}_${a.name === "mod_tp_src" ? "src" : "dst"}`;
    }
  }
}

const CS_INVALID = 0x10;
const CS_TRACKED = 0x20;

/** is_ct_valid: the match requires +trk and -inv. */
function ctValid(m: Match): boolean {
  const k = bytesOf(m.key)[F.ct_state.off], w = bytesOf(m.mask)[F.ct_state.off];
  return (w & k & CS_TRACKED) !== 0 && (w & CS_INVALID) !== 0 && (k & CS_INVALID) === 0;
}

/** ofpacts_check: each written field's prerequisites must hold in the match. */
export function checkActions(actions: OfAction[], m: Match): void {
  const k = bytesOf(m.key);
  // A VLAN header exists if the match requires one or an action pushed it.
  let vlanPushed = (k[F.vlan0_tci.off] & 0x10) !== 0;
  for (const a of actions) {
    if (a.type === "clone") checkActions(a.actions, m);
    // resubmit(,N,ct) needs a tracked, valid connection (is_ct_valid).
    if (a.type === "resubmit" && a.ct && !ctValid(m)) {
      throw new OfctlError("actions are invalid with specified match (OFPBAC_MATCH_INCONSISTENT)");
    }
    if (a.type === "push_vlan" || (a.type === "mod" && a.name.startsWith("mod_vlan"))) {
      vlanPushed = true;
    }
    if (a.type === "strip_vlan" || a.type === "pop_vlan") vlanPushed = false;
    if ((a.type === "ct" || a.type === "nat") && !ctActionFits(a, k)) {
      throw new OfctlError("actions are invalid with specified match (OFPBAC_MATCH_INCONSISTENT)");
    }
    if (a.type === "ct") checkCtDecodable(a);
    const fl = actionField(a);
    if (fl?.name === "vlan_vid" && a.type !== "move" && !vlanPushed) {
      throw new OfctlError("actions are invalid with specified match (OFPBAC_MATCH_INCONSISTENT)");
    }
    const fields = a.type === "move" ? [fl, mfByName(a.src.field)] : [fl];
    for (const f of fields) {
      if (!f || f.prereq === "none") continue;
      if (f.prereq === "vlan" && vlanPushed) continue;
      // OF1.0's mod_* actions are accepted on any match (a no-op where the
      // header is absent), as OVS allows them for OpenFlow 1.0.
      if (a.type === "mod") continue;
      if (!prereqOk(f.prereq, k)) {
        throw new OfctlError(
          "actions are invalid with specified match (OFPBAC_MATCH_INCONSISTENT)",
        );
      }
    }
  }
}

/**
 * A flow_mod with nothing but its command, match and priority set: no
 * table, cookie, timeouts, actions, out_port or flags (what ovs-ofctl's
 * text and an OpenFlow message both start from).
 */
export function newFlowMod(
  command: FlowModCommand,
  strict: boolean,
  match: Match,
  priority: number,
): FlowMod {
  return {
    command,
    strict,
    match,
    priority,
    tableId: undefined,
    cookie: 0n,
    cookieMask: 0n,
    newCookie: undefined,
    idleTimeout: 0,
    hardTimeout: 0,
    actions: undefined,
    outPort: undefined,
    flags: 0,
  };
}

/**
 * Parses `[table=N,][priority=N,]MATCH...[,actions=ACTIONS]` for `command`
 * (with `strict`: --strict), as ovs-ofctl would send it in `opts.version`.
 * add and mod need actions; del takes none, nor timeouts, nor (unless
 * strict) a priority.
 */
export function parseFlowMod(
  text: string,
  command: FlowModCommand = "add",
  strict = false,
  opts: FlowModOptions = {},
): FlowMod {
  const of10 = (opts.version ?? 1) === 1;
  const [matchText, actText] = command === "delete" ? [text, undefined] : extractActions(text);
  if (command !== "delete" && actText === undefined) {
    throw new OfctlError("must specify an action");
  }
  const allowPriority = command !== "delete" || strict;
  const allowTimeouts = command !== "delete";
  const fm = newFlowMod(command, strict, newMatch(), DEFAULT_PRIORITY);
  const usage: MatchUsage = { nxmOnly: false };
  for (const { key, value } of parseKeyValues(matchText)) {
    if (parseMatchItem(fm.match, key, value, usage, opts.portNames)) continue;
    const flag = FLAG_NAMES.find(([name]) => name === key);
    if (flag && command !== "delete") {
      fm.flags |= flag[1];
      continue;
    }
    if (key === "no_readonly_table" || key === "allow_hidden_fields") continue;
    if (value === "") throw new OfctlError(`field ${key} missing value`);
    switch (key) {
      case "table": {
        const t = parseUint(value);
        if (t === undefined || t > 255n) throw new OfctlError(`unknown table "${value}"`);
        fm.tableId = t === 255n ? undefined : Number(t);
        break;
      }
      case "priority":
        if (!allowPriority) throw new OfctlError(`unknown keyword ${key}`);
        fm.priority = u16(value, "priority");
        break;
      case "idle_timeout":
        if (!allowTimeouts) throw new OfctlError(`unknown keyword ${key}`);
        fm.idleTimeout = u16(value, "idle_timeout");
        break;
      case "hard_timeout":
        if (!allowTimeouts) throw new OfctlError(`unknown keyword ${key}`);
        fm.hardTimeout = u16(value, "hard_timeout");
        break;
      case "cookie": {
        const slash = value.indexOf("/");
        if (slash >= 0) {
          if (command === "add") throw new OfctlError("flow additions cannot use a cookie mask");
          fm.cookie = u64(value.slice(0, slash));
          fm.cookieMask = u64(value.slice(slash + 1));
        } else {
          if (command === "delete") {
            throw new OfctlError(
              `cannot set cookie (to match on a cookie, specify a mask, e.g. cookie=${value}/-1)`,
            );
          }
          fm.newCookie = u64(value);
          if (command === "add") fm.cookie = fm.newCookie;
        }
        break;
      }
      case "out_port": {
        if (command !== "delete") throw new OfctlError(`unknown keyword ${key}`);
        const p = parsePort(value, opts.portNames);
        if (p === undefined) throw new OfctlError(`${value} is not a valid OpenFlow port`);
        // OFPP_NONE (OF1.0's "any port") filters nothing.
        fm.outPort = p === OFPP_NONE ? undefined : p;
        break;
      }
      case "duration":
      case "n_packets":
      case "n_bytes":
      case "idle_age":
      case "hard_age":
        break;
      default:
        throw new OfctlError(`unknown keyword ${key}`);
    }
  }
  normalizeMatch(fm.match);
  const lacking = ctFieldLackingPrereq(fm.match);
  if (lacking) {
    // The switch refuses it when decoding (nx_pull_raw's prerequisite check).
    throw new OfctlError(
      `OFPT_ERROR: OFPBMC_BAD_PREREQ (${lacking} needs a ct_state matching a valid connection)`,
    );
  }
  // The switch keeps the match as it arrives: as OXM over OpenFlow 1.2+,
  // as an ofp_match over OpenFlow 1.0 when it fits one, else as NXM.
  if (!of10) fm.match = oxmRoundTrip(matchOverNxm(fm.match));
  else if (fitsOf10(fm.match, usage)) fm.match = of10RoundTrip(fm.match);
  else fm.match = matchOverNxm(fm.match);
  // OpenFlow 1.1+ has no "all tables" for a modify: ovs-ofctl sends table 0
  // (ofputil_encode_flow_mod), so only table 0's rules change.
  if (command === "modify" && !of10 && fm.tableId === undefined) fm.tableId = 0;
  if (command === "modify") {
    // An OpenFlow 1.0 modify always carries a new cookie (0 unless given) and
    // adds the flow when nothing matches; OpenFlow 1.2+ carries neither.
    if (!of10) fm.newCookie = undefined;
    else if (fm.cookieMask === 0n && fm.newCookie === undefined) fm.newCookie = 0n;
  }
  // In OpenFlow 1.0 an add always resets counters, and the rule remembers it.
  if (command === "add" && of10) fm.flags |= FF_RESET_COUNTS;
  if (actText !== undefined) {
    const parsed = parseActions(actText, opts.portNames);
    if (of10 && parsed.some((a) => a.type === "push_vlan")) {
      // ofctl's protocol negotiation: push_vlan needs OpenFlow 1.1 or later.
      throw new OfctlError(
        "none of the usable flow formats (OXM,OpenFlow11) is among the allowed flow formats (OpenFlow10,NXM)",
      );
    }
    checkActions(parsed, fm.match);
    // Before the trip over the wire too: OpenFlow 1.2+ carries mod_tp_*
    // as a set_field of the rule's own protocol.
    retargetL4(parsed, fm.match);
    // The switch keeps the actions as they arrive in the negotiated version.
    fm.actions = actionsOverWire(parsed, opts.version ?? OFP10_VERSION, fm.match);
    retargetL4(fm.actions, fm.match);
  }
  return fm;
}

const FILE_COMMANDS: ReadonlyArray<[string, FlowModCommand, boolean]> = [
  ["add", "add", false],
  ["delete", "delete", false],
  ["delete_strict", "delete", true],
  ["modify", "modify", false],
  ["modify_strict", "modify", true],
];

/**
 * One line of an add-flows file, which may start with its own command
 * (`add`, `delete`, `delete_strict`, `modify`, `modify_strict`, or any
 * prefix of one, checked in that order as ovs-ofctl does); plain flows add.
 */
export function parseFlowModLine(line: string, opts: FlowModOptions = {}): FlowMod {
  const text = line.replace(/^[ \t\r\n]+/, "");
  const token = /^[^, \t\r\n]*/.exec(text)![0];
  for (const [word, command, strict] of FILE_COMMANDS) {
    if (token !== "" && word.startsWith(token)) {
      return parseFlowMod(text.slice(token.length), command, strict, opts);
    }
  }
  return parseFlowMod(text, "add", false, opts);
}

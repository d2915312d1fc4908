/**
 * ovs-ofctl action syntax to OfAction lists (ofpacts_parse), with the
 * same error wording for the common mistakes.
 */
import {
  type OfAction,
  OFPP_CONTROLLER,
  OFPP_IN_PORT,
  OFPP_LOCAL,
  OFPP_MAX,
  OFPP_NONE,
} from "./of_action.ts";
import { OfctlError } from "./ofctl_error.ts";
import { parseCt, parseNat, verifyOutsideCt } from "./ct_action.ts";
import {
  parseBundle,
  parseCheckPktLarger,
  parseFinTimeout,
  parseMultipath,
  parseSample,
} from "./ext_actions.ts";
import { parseLearn } from "./learn_action.ts";
import {
  isModAction,
  parseLoad,
  parseMod,
  parseMove,
  parseSetField,
  parseSubfield,
} from "./field_action_parse.ts";
import { parseKeyValues } from "./key_value.ts";
import { mfByName, type MfField } from "./meta_flow.ts";
import { parsePort, parseUint, type PortNames } from "./field_value.ts";

const RESERVED_OUTPUTS = ["in_port", "normal", "flood", "all", "local", "controller"];

function u16(s: string, what: string): number {
  const v = parseUint(s);
  if (v === undefined || v > 0xffffn) throw new OfctlError(`invalid ${what} "${s}"`);
  return Number(v);
}

const badOutPort = () =>
  new OfctlError("actions are invalid with specified match (OFPBAC_BAD_OUT_PORT)");

function parseOutput(arg: string, names?: PortNames): OfAction {
  const port = parsePort(arg, names);
  if (port === undefined) throw new OfctlError(`${arg}: output to unknown port`);
  // ofpact_check_output_port: a real port or a reserved one, never NONE.
  if ((port >= OFPP_MAX && port < OFPP_IN_PORT) || port === OFPP_NONE) throw badOutPort();
  if (port === OFPP_CONTROLLER) return { type: "controller", maxLen: 65535 };
  return { type: "output", port };
}

/** parse_truncate_subfield: `port=N,max_len=M`. */
function parseOutputTrunc(arg: string, names?: PortNames): OfAction {
  const a: OfAction & { type: "output_trunc" } = { type: "output_trunc", port: 0, maxLen: 0 };
  for (const { key, value } of parseKeyValues(arg)) {
    if (key === "port") {
      const port = parsePort(value, names);
      if (port === undefined) throw new OfctlError(`output to unknown truncate port: ${value}`);
      if (port > OFPP_MAX && port !== OFPP_LOCAL && port !== OFPP_IN_PORT) {
        throw new OfctlError(`output to unsupported truncate port: ${value}`);
      }
      a.port = port;
    } else if (key === "max_len") {
      a.maxLen = strToU32(value);
      if (a.maxLen < ETH_HEADER_LEN) {
        throw new OfctlError(
          `max_len ${a.maxLen} is less than the minimum value ${ETH_HEADER_LEN}`,
        );
      }
    } else throw new OfctlError(`invalid key '${key}' in output_trunc argument`);
  }
  // check_OUTPUT_TRUNC (ofpact_check_output_port).
  if (a.port === OFPP_MAX) throw badOutPort();
  return a;
}

const ETH_HEADER_LEN = 14;

/** OVS's str_to_u32: strtoul's unsigned long, stored in 32 bits. */
function strToU32(s: string): number {
  if (s === "") throw new OfctlError("missing required numeric argument");
  const v = parseUint(s);
  if (v === undefined || v >= 1n << 64n) throw new OfctlError(`invalid numeric format ${s}`);
  return Number(v & 0xffffffffn);
}

function parseController(arg: string, paren: boolean): OfAction {
  if (!paren && arg !== "" && parseUint(arg) === undefined) {
    throw new OfctlError(`unknown key "${arg}" parsing controller action`);
  }
  if (!paren) return { type: "controller", maxLen: arg === "" ? 65535 : u16(arg, "max_len") };
  const a: OfAction & { type: "controller" } = { type: "controller", maxLen: 65535 };
  for (const { key, value } of parseKeyValues(arg)) {
    if (key === "max_len") a.maxLen = u16(value, "max_len");
    else if (key === "reason") {
      if (
        !["action", "no_match", "invalid_ttl", "action_set", "group", "packet_out"].includes(value)
      ) {
        throw new OfctlError(`unknown reason "${value}"`);
      }
      if (value !== "action") a.reason = value;
    } else if (key === "id") {
      // id=0 is the default controller, printed as if no id was given.
      const id = u16(value, "controller id");
      if (id !== 0) a.id = id;
      else delete a.id;
    } else throw new OfctlError(`unknown key "${key}" parsing controller action`);
  }
  return a;
}

function parseResubmit(arg: string, paren: boolean, names?: PortNames): OfAction {
  const [ps, ts, extra] = paren ? arg.split(",") : [arg, undefined, undefined];
  if (extra !== undefined && extra !== "ct") throw new OfctlError(`${arg}: bad resubmit`);
  const a: OfAction & { type: "resubmit" } = { type: "resubmit" };
  if (extra === "ct") a.ct = true;
  if (ps !== undefined && ps !== "") {
    const p = parsePort(ps, names);
    if (p === undefined) throw new OfctlError(`${ps}: resubmit to unknown port`);
    if (p !== OFPP_IN_PORT) a.port = p;
  }
  if (ts !== undefined && ts !== "") {
    const t = parseUint(ts);
    if (t === undefined || t > 254n) throw new OfctlError(`${ts}: resubmit to unknown table`);
    a.table = Number(t);
  }
  if (a.port === undefined && a.table === undefined) {
    throw new OfctlError('at least one "in_port" or "table" must be specified  on resubmit');
  }
  return a;
}

function parseNote(arg: string): OfAction {
  const hex = arg.replaceAll(".", "");
  if (!/^([0-9a-f]{2})*$/i.test(hex)) throw new OfctlError("bad hex digit in `note' argument");
  // NXAST_NOTE is 10 bytes of header plus the note, padded to 8 bytes; the
  // padding comes back as zero bytes when the switch returns the action.
  const n = hex.length / 2;
  const bytes = new Uint8Array(Math.ceil((10 + n) / 8) * 8 - 10);
  for (let i = 0; i < n; i++) bytes[i] = parseInt(hex.slice(2 * i, 2 * i + 2), 16);
  return { type: "note", bytes };
}

function parseOne(key: string, value: string, paren: boolean, names?: PortNames): OfAction {
  const name = key.toLowerCase();
  if (/^\d+$/.test(key) || RESERVED_OUTPUTS.includes(name) || names?.has(key)) {
    if (name === "controller") return parseController(value, paren);
    return parseOutput(key, names);
  }
  if (isModAction(name)) return parseMod(name, value);
  switch (name) {
    case "output":
      // parse_OUTPUT: output(port=N,max_len=M) is output_trunc.
      if (value.includes("port") && value.includes("max_len")) {
        return parseOutputTrunc(value, names);
      }
      return parseOutput(value, names);
    case "enqueue": {
      const [p, q] = value.split(/[:,]/);
      const port = parsePort(p ?? "", names);
      if (port === undefined || !q) {
        throw new OfctlError(`"enqueue" syntax is "enqueue:PORT:QUEUE" or "enqueue(PORT,QUEUE)"`);
      }
      // check_ENQUEUE: a real port, IN_PORT or LOCAL.
      if (port >= OFPP_MAX && port !== OFPP_IN_PORT && port !== OFPP_LOCAL) throw badOutPort();
      return { type: "enqueue", port, queue: strToU32(q) };
    }
    case "strip_vlan":
      return { type: "strip_vlan" };
    case "pop_vlan":
      return { type: "pop_vlan" };
    case "push_vlan": {
      const t = parseUint(value);
      if (t === undefined || (t !== 0x8100n && t !== 0x88a8n)) {
        throw new OfctlError(`${value}: not a valid VLAN ethertype`);
      }
      return { type: "push_vlan", ethertype: Number(t) };
    }
    case "set_field":
      return parseSetField(value);
    case "load":
      return parseLoad(value);
    case "move":
      return parseMove(value);
    case "dec_ttl":
      return { type: "dec_ttl" };
    case "resubmit":
      return parseResubmit(value, paren, names);
    case "goto_table": {
      const t = parseUint(value);
      if (t === undefined || t > 254n) throw new OfctlError(`unknown table "${value}"`);
      return { type: "goto_table", table: Number(t) };
    }
    case "write_metadata": {
      const [vs, ms] = value.split("/");
      const u64 = (t: string) => {
        const n = parseUint(t);
        if (n === undefined || n >= 1n << 64n) throw new OfctlError(`invalid numeric format ${t}`);
        return n;
      };
      return {
        type: "write_metadata",
        value: u64(vs),
        mask: ms === undefined ? (1n << 64n) - 1n : u64(ms),
      };
    }
    case "note":
      return parseNote(value);
    case "set_queue":
      return { type: "set_queue", queue: strToU32(value) };
    case "pop_queue":
      return { type: "pop_queue" };
    case "group":
      return { type: "group", groupId: strToU32(value) };
    case "ct":
      return parseCt(value, (t) => parseActionList(t, names), parseSubfield);
    case "ct_clear":
      return { type: "ct_clear" };
    case "nat":
      return parseNat(value);
    case "learn":
      return parseLearn(value, names);
    case "clone":
      return { type: "clone", actions: parseActions(value, names) };
    case "sample":
      return parseSample(value, names);
    case "multipath":
      return parseMultipath(value);
    case "bundle":
    case "bundle_load":
      return parseBundle(value, name === "bundle_load", names);
    case "fin_timeout":
      return parseFinTimeout(value);
    case "check_pkt_larger":
      return parseCheckPktLarger(value);
  }
  throw new OfctlError(`unknown action ${key}`);
}

/**
 * Parses the text after `actions=`. `drop` (or nothing) is the empty list.
 * `mod_tp_src`/`mod_tp_dst` write tcp_src/tcp_dst here; parseFlowMod
 * retargets them from the rule's match.
 */
export function parseActions(text: string, names?: PortNames): OfAction[] {
  const out = parseActionList(text, names);
  for (const a of out) verifyOutsideCt(a);
  return out;
}

/** An action list at any nesting level (ofpacts_parse__ without the nesting checks). */
function parseActionList(text: string, names?: PortNames): OfAction[] {
  const out: OfAction[] = [];
  let drop = false;
  let n = 0;
  for (const { key, value, paren } of parseKeyValues(text)) {
    n++;
    if (key.toLowerCase() === "drop") {
      drop = true;
      continue;
    }
    out.push(parseOne(key, value, paren, names));
  }
  if (drop && n > 1) {
    throw new OfctlError(`"drop" must not be accompanied by any other action or instruction`);
  }
  return out;
}

/** The field an action writes, for prerequisite checks; undefined if none. */
export function actionField(a: OfAction): MfField | undefined {
  switch (a.type) {
    case "mod":
    case "set_field":
      return mfByName(a.field);
    case "load":
      return mfByName(a.dst.field);
    case "move":
      return mfByName(a.dst.field);
    case "multipath":
    case "check_pkt_larger":
      return mfByName(a.dst.field);
    case "bundle":
      return a.dst && mfByName(a.dst.field);
    default:
      return undefined;
  }
}

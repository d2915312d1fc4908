/**
 * Flow-mod messages (ofputil_decode_flow_mod in OVS's lib/ofp-flow.c):
 * OpenFlow 1.0's OFPT_FLOW_MOD (ofp_match and 1.0 actions), Nicira's
 * NXT_FLOW_MOD (an NXM match, which may carry a cookie mask), and
 * OpenFlow 1.3's OFPT_FLOW_MOD (OXM match and instructions), decoded into
 * ofproto's `FlowMod`, the same structure ovs-ofctl text becomes, so the
 * tables treat both alike. Cookie rules follow OVS: in OpenFlow 1.0 the
 * cookie is the new cookie; in 1.3 it matches (with its mask) except in
 * an add. With the flow_mod_table_id extension (NXT_FLOW_MOD_TABLE_ID) an
 * OpenFlow 1.0 command's high byte is the table.
 */
import {
  checkActions,
  FF_RESET_COUNTS,
  type FlowMod,
  type FlowModCommand,
  type Match,
  newFlowMod,
  type OfAction,
  OfctlError,
  OFPP_NONE,
  retargetL4,
} from "../ofproto/mod.ts";
import { OfpError } from "./errors.ts";
import { WireReader } from "./_buf.ts";
import { OFPFW10_ALL, pullOf10Match } from "./of10_match.ts";
import { pullNxEntries, pullOxmMatch } from "./nx_match.ts";
import { pullActions, pullInstructions } from "./actions.ts";
import { portFromOf11 } from "./port_number.ts";
import { OFP10_VERSION, OFPP11_ANY, OFPTT_ALL } from "./types.ts";

const COMMANDS: ReadonlyArray<[FlowModCommand, boolean]> = [
  ["add", false],
  ["modify", false],
  ["modify", true],
  ["delete", false],
  ["delete", true],
];

/** Flag bits each version defines (OFPFF_*); others are refused. */
const FLAGS10 = 0x7;
const FLAGS13 = 0x1f;
const OFPFF10_EMERG = 0x4;
const ALL_ONES64 = (1n << 64n) - 1n;

export interface FlowModContext {
  version: number;
  /** NXT_FLOW_MOD_TABLE_ID was enabled on this connection. */
  tableIdExtension: boolean;
}

function checked(actions: OfAction[], match: Match): OfAction[] {
  try {
    checkActions(actions, match);
  } catch (e) {
    if (e instanceof OfctlError) {
      throw new OfpError(
        e.message.includes("BAD_OUT_PORT") ? "OFPBAC_BAD_OUT_PORT" : "OFPBAC_MATCH_INCONSISTENT",
      );
    }
    throw e;
  }
  retargetL4(actions, match);
  return actions;
}

function commandOf(raw: number): [FlowModCommand, boolean] {
  const c = COMMANDS[raw];
  if (!c) throw new OfpError("OFPFMFC_BAD_COMMAND");
  return c;
}

/** OFPT_FLOW_MOD (1.0) or NXT_FLOW_MOD, `r` just past its fixed header(s). */
function decode10(r: WireReader, nx: boolean, ctx: FlowModContext): FlowMod {
  let match: Match;
  let wildcards = 1;
  let cookie = 0n, cookieMask = 0n;
  let newCookie: bigint;
  let fixed: {
    command: number;
    idle: number;
    hard: number;
    priority: number;
    outPort: number;
    flags: number;
  };
  const readFixed = () => ({
    command: r.u16(),
    idle: r.u16(),
    hard: r.u16(),
    priority: r.u16(),
    bufferId: r.u32(),
    outPort: r.u16(),
    flags: r.u16(),
  });
  if (nx) {
    newCookie = r.u64();
    fixed = readFixed();
    const matchLen = r.u16();
    r.skip(6);
    const pulled = pullNxEntries(r, matchLen);
    r.skip((8 - (matchLen % 8)) % 8);
    match = pulled.match;
    cookie = pulled.cookie;
    cookieMask = pulled.cookieMask;
    if ((fixed.command & 0xff) === 0 && cookieMask) throw new OfpError("NXBRC_NXM_INVALID");
  } else {
    const m = pullOf10Match(r);
    match = m.match;
    wildcards = m.wildcards;
    newCookie = r.u64();
    fixed = readFixed();
  }
  if (fixed.flags & ~FLAGS10 || fixed.flags & OFPFF10_EMERG) {
    throw new OfpError("OFPFMFC_BAD_COMMAND");
  }
  const tableId = ctx.tableIdExtension ? fixed.command >> 8 : OFPTT_ALL;
  const [command, strict] = commandOf(ctx.tableIdExtension ? fixed.command & 0xff : fixed.command);
  const fm = newFlowMod(command, strict, match, 0);
  fm.priority = nx || wildcards & OFPFW10_ALL ? fixed.priority : 0xffff;
  fm.tableId = tableId === OFPTT_ALL ? undefined : tableId;
  fm.cookie = cookie;
  fm.cookieMask = cookieMask;
  // A delete sets no cookie; all-ones means "leave the cookie" (modify_cookie false).
  fm.newCookie = command === "delete" || newCookie === ALL_ONES64 ? undefined : newCookie;
  if (command === "add") fm.cookie = newCookie;
  fm.idleTimeout = fixed.idle;
  fm.hardTimeout = fixed.hard;
  fm.outPort = fixed.outPort === OFPP_NONE ? undefined : fixed.outPort;
  fm.flags = fixed.flags & 0x3;
  // An OpenFlow 1.0 add always resets the counters of a flow it replaces.
  if (command === "add") fm.flags |= FF_RESET_COUNTS;
  if (command !== "delete") fm.actions = checked(pullActions(r, r.remaining, OFP10_VERSION), match);
  return fm;
}

function decode13(r: WireReader, version: number): FlowMod {
  const cookie = r.u64();
  const cookieMask = r.u64();
  const tableId = r.u8();
  const [command, strict] = commandOf(r.u8());
  const idle = r.u16();
  const hard = r.u16();
  const priority = r.u16();
  r.u32(); // buffer_id: udpif buffers no packets
  const outPort = r.u32();
  r.u32(); // out_group: udpif has no groups
  const flags = r.u16();
  r.skip(2);
  if (flags & ~FLAGS13) throw new OfpError("OFPFMFC_BAD_COMMAND");
  if (tableId === OFPTT_ALL && command !== "delete") throw new OfpError("OFPFMFC_BAD_TABLE_ID");
  const { match } = pullOxmMatch(r);
  const fm = newFlowMod(command, strict, match, 0);
  fm.priority = priority;
  fm.tableId = tableId === OFPTT_ALL ? undefined : tableId;
  if (command === "add") {
    fm.cookie = cookie;
    fm.newCookie = cookie;
  } else {
    fm.cookie = cookie;
    fm.cookieMask = cookieMask;
  }
  fm.idleTimeout = idle;
  fm.hardTimeout = hard;
  fm.outPort = outPort === OFPP11_ANY ? undefined : portFromOf11(outPort);
  fm.flags = flags;
  if (command !== "delete") fm.actions = checked(pullInstructions(r, r.remaining, version), match);
  return fm;
}

/**
 * A flow-mod message (its header included). `nx`: an NXT_FLOW_MOD, whose
 * vendor header (16 bytes) comes first. Throws OfpError with the error
 * OVS would send.
 */
export function decodeFlowMod(msg: Uint8Array, ctx: FlowModContext, nx = false): FlowMod {
  const r = new WireReader(msg, "OFPBRC_BAD_LEN", nx ? 16 : 8);
  return ctx.version === OFP10_VERSION ? decode10(r, nx, ctx) : decode13(r, ctx.version);
}

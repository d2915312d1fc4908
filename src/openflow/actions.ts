/**
 * OpenFlow actions and instructions on the wire (OVS's lib/ofp-actions.c):
 * OpenFlow 1.0 actions, OpenFlow 1.3 actions inside an APPLY_ACTIONS
 * instruction plus the GOTO_TABLE and WRITE_METADATA instructions, and
 * the Nicira extension actions (vendor 0x2320, _nx_actions.ts) both
 * versions share.
 *
 * Decoding gives `OfAction`s as the switch keeps them, exactly the form
 * ofproto's `actionsOverWire` predicts for actions sent in that version,
 * so a rule added over the wire and one added with `udpif ofctl` are the
 * same rule. Encoding takes stored actions, converts them for the
 * connection's version through `actionsOverWire` (one conversion, shared
 * with the text dumps) and writes them (ofpacts_put_openflow_actions).
 * Actions udpif does not implement get OFPBAC_BAD_TYPE or
 * OFPBAC_BAD_VENDOR_TYPE; malformed lengths OFPBAC_BAD_LEN.
 */
import {
  actionsOverWire,
  type Match,
  modAction,
  newMatch,
  type OfAction,
  OFPP_CONTROLLER,
} from "../ofproto/mod.ts";
import { OfpError } from "./errors.ts";
import { WireReader, WireWriter } from "./_buf.ts";
import { fieldHeader } from "./nx_match.ts";
import { fieldOf, NXAST, OFPAT_VENDOR, pullVendor, putNx, vendorHeader } from "./_nx_actions.ts";
import { pullNxExt, putNxExt } from "./_nx_ext_actions.ts";
import { portFromOf11, portToOf11 } from "./port_number.ts";
import { OFP10_VERSION } from "./types.ts";

/** OpenFlow 1.0 action types. */
const OF10 = {
  OUTPUT: 0,
  SET_VLAN_VID: 1,
  SET_VLAN_PCP: 2,
  STRIP_VLAN: 3,
  SET_DL_SRC: 4,
  SET_DL_DST: 5,
  SET_NW_SRC: 6,
  SET_NW_DST: 7,
  SET_NW_TOS: 8,
  SET_TP_SRC: 9,
  SET_TP_DST: 10,
  ENQUEUE: 11,
} as const;

/** OpenFlow 1.1+ action types used by 1.3. */
const OF13 = {
  OUTPUT: 0,
  PUSH_VLAN: 17,
  POP_VLAN: 18,
  SET_QUEUE: 21,
  GROUP: 22,
  SET_NW_TTL: 23,
  DEC_NW_TTL: 24,
  SET_FIELD: 25,
} as const;

const MOD10: Record<number, [string, number]> = {
  [OF10.SET_VLAN_VID]: ["mod_vlan_vid", 2],
  [OF10.SET_VLAN_PCP]: ["mod_vlan_pcp", 1],
  [OF10.SET_DL_SRC]: ["mod_dl_src", 6],
  [OF10.SET_DL_DST]: ["mod_dl_dst", 6],
  [OF10.SET_NW_SRC]: ["mod_nw_src", 4],
  [OF10.SET_NW_DST]: ["mod_nw_dst", 4],
  [OF10.SET_NW_TOS]: ["mod_nw_tos", 1],
  [OF10.SET_TP_SRC]: ["mod_tp_src", 2],
  [OF10.SET_TP_DST]: ["mod_tp_dst", 2],
};
const MOD10_BY_NAME = new Map(Object.entries(MOD10).map(([t, [n, len]]) => [n, [Number(t), len]]));

function pullOf10(type: number, r: WireReader): OfAction {
  if (type === OF10.OUTPUT) {
    const port = r.u16();
    const maxLen = r.u16();
    return port === OFPP_CONTROLLER ? { type: "controller", maxLen } : { type: "output", port };
  }
  if (type === OF10.STRIP_VLAN) return { type: "strip_vlan" };
  if (type === OF10.ENQUEUE) {
    const port = r.u16();
    r.skip(6);
    return { type: "enqueue", port, queue: r.u32() };
  }
  const mod = MOD10[type];
  if (!mod) throw new OfpError("OFPBAC_BAD_TYPE");
  const value = r.uint(mod[1]);
  if (mod[0] === "mod_vlan_vid" && value > 0xfffn) throw new OfpError("OFPBAC_BAD_ARGUMENT");
  if (mod[0] === "mod_vlan_pcp" && value > 7n) throw new OfpError("OFPBAC_BAD_ARGUMENT");
  if (mod[0] === "mod_nw_tos" && value & 3n) throw new OfpError("OFPBAC_BAD_ARGUMENT");
  return modAction(mod[0], value);
}

function pullOf13(type: number, r: WireReader): OfAction[] {
  switch (type) {
    case OF13.OUTPUT: {
      const port = portFromOf11(r.u32());
      const maxLen = r.u16();
      return [port === OFPP_CONTROLLER ? { type: "controller", maxLen } : { type: "output", port }];
    }
    case OF13.PUSH_VLAN: {
      const ethertype = r.u16();
      if (ethertype !== 0x8100 && ethertype !== 0x88a8) throw new OfpError("OFPBAC_BAD_ARGUMENT");
      return [{ type: "push_vlan", ethertype }];
    }
    case OF13.POP_VLAN:
      return [{ type: "pop_vlan" }];
    case OF13.SET_QUEUE:
      return [{ type: "set_queue", queue: r.u32() }];
    case OF13.GROUP:
      return [{ type: "group", groupId: r.u32() }];
    case OF13.SET_NW_TTL:
      return [modAction("mod_nw_ttl", BigInt(r.u8()))];
    case OF13.DEC_NW_TTL:
      return [{ type: "dec_ttl" }];
    case OF13.SET_FIELD: {
      const header = r.u32();
      const { mf, len } = fieldOf(header);
      if ((header >>> 8) & 1) throw new OfpError("OFPBAC_BAD_SET_ARGUMENT");
      const value = r.uint(len);
      if (!mf.writable || value >> BigInt(mf.nBits)) throw new OfpError("OFPBAC_BAD_SET_ARGUMENT");
      return [{ type: "set_field", field: mf.name, value }];
    }
  }
  throw new OfpError("OFPBAC_BAD_TYPE");
}

/** ofpacts_pull_openflow_actions: `len` bytes of `version` actions. */
export function pullActions(r: WireReader, len: number, version: number): OfAction[] {
  if (len % 8) throw new OfpError("OFPBAC_BAD_LEN");
  const body = r.sub(len, "OFPBAC_BAD_LEN");
  const out: OfAction[] = [];
  while (body.remaining > 0) {
    const type = body.u16();
    const alen = body.u16();
    if (alen < 8 || alen % 8 || alen - 4 > body.remaining) throw new OfpError("OFPBAC_BAD_LEN");
    const a = body.sub(alen - 4, "OFPBAC_BAD_LEN");
    if (type === OFPAT_VENDOR) {
      out.push(
        pullNxExt(a, (r, n) => pullActions(r, n, version)) ??
          pullVendor(a, (n, l) => pullActions(n, l, version)),
      );
    } else if (version === OFP10_VERSION) out.push(pullOf10(type, a));
    else out.push(...pullOf13(type, a));
  }
  return out;
}

const OFPIT_GOTO_TABLE = 1;
const OFPIT_WRITE_METADATA = 2;
const OFPIT_WRITE_ACTIONS = 3;
const OFPIT_APPLY_ACTIONS = 4;
const OFPIT_CLEAR_ACTIONS = 5;
const OFPIT_METER = 6;

/** OpenFlow 1.1+ instructions: apply-actions, write-metadata, goto-table. */
export function pullInstructions(r: WireReader, len: number, version: number): OfAction[] {
  const body = r.sub(len, "OFPBAC_BAD_LEN");
  const apply: OfAction[] = [];
  const tail: OfAction[] = [];
  while (body.remaining > 0) {
    const type = body.u16();
    const ilen = body.u16();
    if (ilen < 8 || ilen % 8 || ilen - 4 > body.remaining) throw new OfpError("OFPBAC_BAD_LEN");
    const i = body.sub(ilen - 4, "OFPBAC_BAD_LEN");
    switch (type) {
      case OFPIT_APPLY_ACTIONS:
        i.skip(4);
        apply.push(...pullActions(i, i.remaining, version));
        break;
      case OFPIT_WRITE_METADATA: {
        i.skip(4);
        tail.unshift({ type: "write_metadata", value: i.u64(), mask: i.u64() });
        break;
      }
      case OFPIT_GOTO_TABLE: {
        const table = i.u8();
        if (table > 254) throw new OfpError("OFPBIC_BAD_TABLE_ID");
        tail.push({ type: "goto_table", table });
        break;
      }
      case OFPIT_WRITE_ACTIONS:
      case OFPIT_CLEAR_ACTIONS:
      case OFPIT_METER:
        // Instructions OpenFlow defines that udpif does not run.
        throw new OfpError("OFPBIC_UNSUP_INST");
      default:
        throw new OfpError("OFPBIC_UNKNOWN_INST");
    }
  }
  return [...apply, ...tail];
}

function putOf10(w: WireWriter, a: OfAction): void {
  switch (a.type) {
    case "output":
      w.u16(OF10.OUTPUT).u16(8).u16(a.port).u16(0);
      return;
    case "controller":
      if (a.reason || a.id) break;
      w.u16(OF10.OUTPUT).u16(8).u16(OFPP_CONTROLLER).u16(a.maxLen);
      return;
    case "strip_vlan":
      w.u16(OF10.STRIP_VLAN).u16(8).zeros(4);
      return;
    case "enqueue":
      w.u16(OF10.ENQUEUE).u16(16).u16(a.port).zeros(6).u32(a.queue);
      return;
    case "set_queue":
      vendorHeader(w, 16, NXAST.SET_QUEUE);
      w.zeros(2).u32(a.queue);
      return;
    case "dec_ttl":
      vendorHeader(w, 16, NXAST.DEC_TTL);
      w.zeros(6);
      return;
    case "mod": {
      const [type, len] = MOD10_BY_NAME.get(a.name) ?? [];
      if (type === undefined || len === undefined) break;
      const total = len === 6 ? 16 : 8;
      w.u16(type).u16(total).uint(a.value, len).zeros(total - 4 - len);
      return;
    }
  }
  if (putNxExt(w, a, (list) => list.forEach((x) => putOf10(w, x)))) return;
  if (!putNx(w, a, (n, list) => list.forEach((x) => putOf10(n, x)))) {
    throw new Error(`${a.type}: no OpenFlow 1.0 encoding`);
  }
}

function putOf13(w: WireWriter, a: OfAction): void {
  switch (a.type) {
    case "output":
      w.u16(OF13.OUTPUT).u16(16).u32(portToOf11(a.port)).u16(0).zeros(6);
      return;
    case "controller":
      if (a.reason || a.id) break;
      w.u16(OF13.OUTPUT).u16(16).u32(portToOf11(OFPP_CONTROLLER)).u16(a.maxLen).zeros(6);
      return;
    case "push_vlan":
      w.u16(OF13.PUSH_VLAN).u16(8).u16(a.ethertype).zeros(2);
      return;
    case "pop_vlan":
      w.u16(OF13.POP_VLAN).u16(8).zeros(4);
      return;
    case "set_queue":
      w.u16(OF13.SET_QUEUE).u16(8).u32(a.queue);
      return;
    case "group":
      w.u16(OF13.GROUP).u16(8).u32(a.groupId);
      return;
    case "dec_ttl":
      w.u16(OF13.DEC_NW_TTL).u16(8).zeros(4);
      return;
    case "mod":
      if (a.name !== "mod_nw_ttl") break;
      w.u16(OF13.SET_NW_TTL).u16(8).u8(Number(a.value)).zeros(3);
      return;
    case "set_field": {
      const header = fieldHeader(a.field, true);
      if (header === undefined) break;
      const len = header & 0xff;
      const total = Math.ceil((8 + len) / 8) * 8;
      w.u16(OF13.SET_FIELD).u16(total).u32(header).uint(a.value, len).zeros(total - 8 - len);
      return;
    }
  }
  if (putNxExt(w, a, (list) => list.forEach((x) => putOf13(w, x)))) return;
  if (!putNx(w, a, (n, list) => list.forEach((x) => putOf13(n, x)))) {
    throw new Error(`${a.type}: no OpenFlow 1.3 encoding`);
  }
}

/** OpenFlow 1.0 actions for stored `actions` of a rule matching `match`. */
export function putActions10(w: WireWriter, actions: readonly OfAction[], match: Match): void {
  for (const a of actionsOverWire(actions, OFP10_VERSION, match)) putOf10(w, a);
}

/** OpenFlow 1.1+ actions (a group bucket's) for stored `actions`. */
export function putActions13(w: WireWriter, actions: readonly OfAction[], version: number): void {
  for (const a of actionsOverWire(actions, version, newMatch())) putOf13(w, a);
}

/**
 * OpenFlow 1.1+ instructions for stored `actions`: APPLY_ACTIONS with the
 * actions (left out when there are none), then WRITE_METADATA and
 * GOTO_TABLE.
 */
export function putInstructions(
  w: WireWriter,
  actions: readonly OfAction[],
  version: number,
  match: Match,
): void {
  const wire = actionsOverWire(actions, version, match);
  const apply = wire.filter((a) => a.type !== "goto_table" && a.type !== "write_metadata");
  if (apply.length) {
    const start = w.length;
    w.u16(OFPIT_APPLY_ACTIONS).u16(0).zeros(4);
    for (const a of apply) putOf13(w, a);
    w.setU16(start + 2, w.length - start);
  }
  for (const a of wire) {
    if (a.type === "write_metadata") {
      w.u16(OFPIT_WRITE_METADATA).u16(24).zeros(4).u64(a.value).u64(a.mask);
    }
  }
  for (const a of wire) {
    if (a.type === "goto_table") w.u16(OFPIT_GOTO_TABLE).u16(8).u8(a.table).zeros(3);
  }
}

/**
 * The ovs-ofctl actions that write fields (ofpacts_parse's set_field,
 * load, move and the OpenFlow 1.0 mod_* rewrites), and the subfield
 * syntax they share with other actions (mf_parse_subfield), with
 * ovs-ofctl's error wording.
 */
import type { FieldRange, OfAction } from "./of_action.ts";
import { OfctlError } from "./ofctl_error.ts";
import { mfByName } from "./meta_flow.ts";
import { parseFieldValue, parseIpv4, parseMac, parseUint } from "./field_value.ts";

/** `NAME[]`, `NAME[a..b]`, `NAME[a]` or a bare NAME (mf_parse_subfield). */
export function parseSubfield(s: string): FieldRange {
  const m = /^([A-Za-z0-9_]+)(?:\[(?:(\d+)(?:\.\.(\d+))?)?\])?$/.exec(s);
  if (!m) throw new OfctlError(`${s}: syntax error parsing field`);
  const fl = mfByName(m[1]);
  if (!fl) throw new OfctlError(`${s}: unknown field \`${m[1]}'`);
  if (m[2] === undefined) return { field: fl.name, ofs: 0, nBits: fl.nBits };
  const start = Number(m[2]);
  const end = m[3] === undefined ? start : Number(m[3]);
  if (start >= fl.nBits) {
    throw new OfctlError(
      `${s}: starting bit ${start} is not valid because field is only ${fl.nBits} bits wide`,
    );
  }
  if (end >= fl.nBits) {
    throw new OfctlError(
      `${s}: ending bit ${end} is not valid because field is only ${fl.nBits} bits wide`,
    );
  }
  if (end < start) {
    throw new OfctlError(`${s}: starting bit ${start} is greater than ending bit ${end}`);
  }
  return { field: fl.name, ofs: start, nBits: end - start + 1 };
}

const MOD_FIELDS: Record<string, [string, (s: string) => bigint | undefined, bigint]> = {
  mod_dl_src: ["eth_src", parseMac, (1n << 48n) - 1n],
  mod_dl_dst: ["eth_dst", parseMac, (1n << 48n) - 1n],
  mod_nw_src: ["ip_src", parseIpv4, 0xffffffffn],
  mod_nw_dst: ["ip_dst", parseIpv4, 0xffffffffn],
  mod_nw_tos: ["nw_tos", parseUint, 0xffn],
  mod_nw_ecn: ["nw_ecn", parseUint, 3n],
  mod_nw_ttl: ["nw_ttl", parseUint, 0xffn],
  mod_tp_src: ["tcp_src", parseUint, 0xffffn],
  mod_tp_dst: ["tcp_dst", parseUint, 0xffffn],
  mod_vlan_vid: ["dl_vlan", parseUint, 0xfffn],
  mod_vlan_pcp: ["dl_vlan_pcp", parseUint, 7n],
};

/** Whether `name` is one of the OF1.0 mod_* actions. */
export function isModAction(name: string): boolean {
  return Object.hasOwn(MOD_FIELDS, name);
}

/** An OF1.0 rewrite writing `value` into the field MOD_FIELDS names for it. */
export function modAction(name: string, value: bigint): OfAction {
  return { type: "mod", name, field: MOD_FIELDS[name][0], value };
}

export function parseMod(name: string, arg: string): OfAction {
  const [, parse, max] = MOD_FIELDS[name];
  const v = parse(arg);
  if (v === undefined || v > max) {
    switch (name) {
      case "mod_tp_src":
        throw new OfctlError(`invalid source port "${arg}"`);
      case "mod_tp_dst":
        throw new OfctlError(`invalid destination port "${arg}"`);
      case "mod_vlan_vid":
        throw new OfctlError(`${arg}: not a valid VLAN VID`);
      case "mod_vlan_pcp":
        throw new OfctlError(`${arg}: not a valid VLAN PCP`);
      case "mod_dl_src":
      case "mod_dl_dst":
        throw new OfctlError(`invalid mac address ${arg}`);
      case "mod_nw_src":
      case "mod_nw_dst":
        throw new OfctlError(`${arg}: could not convert to IP address`);
      default:
        throw new OfctlError(`invalid numeric format ${arg}`);
    }
  }
  if (name === "mod_nw_tos" && (v & 3n) !== 0n) throw new OfctlError(`${arg}: not a valid TOS`);
  return modAction(name, v);
}

function splitArrow(arg: string, what: string): [string, string] {
  const i = arg.indexOf("->");
  if (i < 0) throw new OfctlError(`${what}: missing \`->'`);
  return [arg.slice(0, i), arg.slice(i + 2)];
}

export function parseSetField(arg: string): OfAction {
  const [vs, fs] = splitArrow(arg, arg);
  const fl = mfByName(fs);
  if (!fl) throw new OfctlError(`${fs} is not a valid OXM field name`);
  if (!fl.writable) throw new OfctlError(`${fs} is read-only`);
  const mv = parseFieldValue(fl, vs);
  const full = (1n << BigInt(fl.nBits)) - 1n;
  // mf_is_value_valid: no bits beyond the field (nor nw_tos's ECN bits).
  if (mv.value > full || (fl.name === "nw_tos" && (mv.value & 3n) !== 0n)) {
    throw new OfctlError(`${vs} is not a valid value for field ${fl.name}`);
  }
  // The value is kept whole, as OVS's ofpact keeps it: a whole-field
  // action it becomes over OpenFlow 1.0 writes all of it.
  const a: OfAction = { type: "set_field", field: fl.name, value: mv.value };
  if (mv.mask !== full) a.mask = mv.mask;
  return a;
}

export function parseLoad(arg: string): OfAction {
  const [vs, ds] = splitArrow(arg, arg);
  const dst = parseSubfield(ds);
  const value = parseUint(vs);
  if (value === undefined) throw new OfctlError(`${arg}: cannot parse integer value`);
  if (value >> BigInt(dst.nBits) !== 0n) {
    throw new OfctlError(`${arg}: value ${vs} does not fit into ${dst.nBits} bits`);
  }
  return { type: "load", dst, value };
}

export function parseMove(arg: string): OfAction {
  const [ss, ds] = splitArrow(arg, arg);
  const src = parseSubfield(ss);
  const dst = parseSubfield(ds);
  if (src.nBits !== dst.nBits) {
    throw new OfctlError(
      `${arg}: source field is ${src.nBits} bits wide but destination is ${dst.nBits} bits wide`,
    );
  }
  return { type: "move", src, dst };
}

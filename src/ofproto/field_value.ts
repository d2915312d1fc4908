/**
 * Field values in ovs-ofctl spelling: parsing `VALUE[/MASK]` for a field
 * and printing a value back, the way mf_parse and mf_format do.
 */
import { CT_STATE_NAMES, formatFlags, parseFlags, tcpFlagBit } from "../flow/mod.ts";
import { type MfField } from "./meta_flow.ts";
import { OfctlError } from "./ofctl_error.ts";
import {
  OFPP_ALL,
  OFPP_CONTROLLER,
  OFPP_FLOOD,
  OFPP_IN_PORT,
  OFPP_LOCAL,
  OFPP_NONE,
  OFPP_NORMAL,
  OFPP_TABLE,
} from "./of_action.ts";

export interface MaskedValue {
  value: bigint;
  mask: bigint;
}

const PORT_NAMES: ReadonlyArray<[string, number]> = [
  ["IN_PORT", OFPP_IN_PORT],
  ["TABLE", OFPP_TABLE],
  ["NORMAL", OFPP_NORMAL],
  ["FLOOD", OFPP_FLOOD],
  ["ALL", OFPP_ALL],
  ["CONTROLLER", OFPP_CONTROLLER],
  ["LOCAL", OFPP_LOCAL],
  ["NONE", OFPP_NONE],
  ["ANY", OFPP_NONE],
];

/** Port names of a bridge (what ovs-ofctl learns from the switch's port map). */
export type PortNames = ReadonlyMap<string, number>;

/**
 * An OpenFlow port number, reserved name, or (given `names`) port name;
 * undefined if none of those (ofputil_port_from_string).
 */
export function parsePort(s: string, names?: PortNames): number | undefined {
  const upper = s.toUpperCase();
  for (const [name, n] of PORT_NAMES) if (name === upper) return n;
  const named = names?.get(s);
  if (named !== undefined) return named;
  // Port numbers are decimal only (ofputil_port_from_string).
  if (!/^[0-9]+$/.test(s) || Number(s) > 0xffff) return undefined;
  return Number(s);
}

/**
 * A port as ofputil_format_port prints it: reserved ports by name, others
 * by number, or by `names` (number to name) when ovs-ofctl has --names.
 */
export function formatPort(port: number, names?: ReadonlyMap<number, string>): string {
  for (const [name, n] of PORT_NAMES) {
    if (n === port && name !== "ANY") return name;
  }
  return names?.get(port) ?? String(port);
}

/** Decimal or 0x-hex unsigned integer; undefined on bad syntax. */
export function parseUint(s: string): bigint | undefined {
  if (/^0x[0-9a-f]+$/i.test(s) || /^[0-9]+$/.test(s)) return BigInt(s);
  return undefined;
}

export function parseMac(s: string): bigint | undefined {
  const m =
    /^([0-9a-f]{1,2}):([0-9a-f]{1,2}):([0-9a-f]{1,2}):([0-9a-f]{1,2}):([0-9a-f]{1,2}):([0-9a-f]{1,2})$/i
      .exec(s);
  if (!m) return undefined;
  let v = 0n;
  for (let i = 1; i <= 6; i++) v = (v << 8n) | BigInt(parseInt(m[i], 16));
  return v;
}

export function formatMac(v: bigint): string {
  const parts: string[] = [];
  for (let i = 5; i >= 0; i--) {
    parts.push(Number((v >> BigInt(8 * i)) & 0xffn).toString(16).padStart(2, "0"));
  }
  return parts.join(":");
}

export function parseIpv4(s: string): bigint | undefined {
  const m = /^(\d{1,3})\.(\d{1,3})\.(\d{1,3})\.(\d{1,3})$/.exec(s);
  if (!m) return undefined;
  let v = 0n;
  for (let i = 1; i <= 4; i++) {
    const o = Number(m[i]);
    if (o > 255) return undefined;
    v = (v << 8n) | BigInt(o);
  }
  return v;
}

export function formatIpv4(v: bigint): string {
  const n = Number(v);
  return `${n >>> 24}.${(n >>> 16) & 255}.${(n >>> 8) & 255}.${n & 255}`;
}

export function parseIpv6(s: string): bigint | undefined {
  let head = s;
  let tailV4: bigint | undefined;
  const lastColon = s.lastIndexOf(":");
  if (lastColon >= 0 && s.slice(lastColon + 1).includes(".")) {
    tailV4 = parseIpv4(s.slice(lastColon + 1));
    if (tailV4 === undefined) return undefined;
    head = s.slice(0, lastColon + 1) + "0:0";
  }
  const halves = head.split("::");
  if (halves.length > 2) return undefined;
  const groups = (part: string) => (part === "" ? [] : part.split(":"));
  const left = groups(halves[0]);
  const right = halves.length === 2 ? groups(halves[1]) : [];
  const fill = 8 - left.length - right.length;
  if (halves.length === 2 ? fill < 1 : fill !== 0) return undefined;
  const all = [...left, ...Array(halves.length === 2 ? fill : 0).fill("0"), ...right];
  let v = 0n;
  for (const g of all) {
    if (!/^[0-9a-f]{1,4}$/i.test(g)) return undefined;
    v = (v << 16n) | BigInt(parseInt(g, 16));
  }
  if (tailV4 !== undefined) v = (v & ~0xffffffffn) | tailV4;
  return v;
}

/** RFC 5952 text, as inet_ntop prints it. */
export function formatIpv6(v: bigint): string {
  const g: number[] = [];
  for (let i = 7; i >= 0; i--) g.push(Number((v >> BigInt(16 * i)) & 0xffffn));
  let bestStart = -1;
  let bestLen = 0;
  for (let i = 0; i < 8;) {
    if (g[i] !== 0) {
      i++;
      continue;
    }
    let j = i;
    while (j < 8 && g[j] === 0) j++;
    if (j - i > bestLen && j - i >= 2) {
      bestStart = i;
      bestLen = j - i;
    }
    i = j;
  }
  if (bestStart === 0 && (bestLen === 6 || (bestLen === 5 && g[5] === 0xffff))) {
    const tail = formatIpv4(v & 0xffffffffn);
    return bestLen === 6 ? `::${tail}` : `::ffff:${tail}`;
  }
  const hex = (a: number[]) => a.map((x) => x.toString(16)).join(":");
  if (bestStart < 0) return hex(g);
  return `${hex(g.slice(0, bestStart))}::${hex(g.slice(bestStart + bestLen))}`;
}

function parseTcpFlags(s: string, fl: MfField): MaskedValue {
  if (/^([a-z]+|\[[0-9]+\])(\|([a-z]+|\[[0-9]+\]))*$/.test(s)) {
    let value = 0n;
    for (const name of s.split("|")) {
      const bit = tcpFlagBit(name);
      if (bit === null) throw new OfctlError(`${name}: unknown TCP flag(s)`);
      value |= BigInt(bit);
    }
    return { value, mask: 0xfffn };
  }
  if (!/^[+-]/.test(s)) {
    const mv = parseNumeric(s, fl);
    if (mv.value > 0xfffn || mv.mask > 0xfffn) throw new OfctlError(`${s}: unknown TCP flag(s)`);
    return mv;
  }
  let value = 0n;
  let mask = 0n;
  const re = /([+-])([a-z]+|\[[0-9]+\])/gy;
  let m: RegExpExecArray | null;
  let pos = 0;
  while ((m = re.exec(s)) !== null) {
    const bit = tcpFlagBit(m[2]);
    if (bit === null) throw new OfctlError(`${m[2]}: unknown TCP flag(s)`);
    const b = BigInt(bit);
    mask |= b;
    if (m[1] === "+") value |= b;
    pos = re.lastIndex;
  }
  if (pos !== s.length) throw new OfctlError(`${s}: bad syntax for tcp_flags value`);
  return { value, mask };
}

/** ct_state as `+trk-inv`, `new|trk` or a number (parse_ct_state). */
function parseCtState(s: string, fl: MfField): MaskedValue {
  if (/^[0-9]/.test(s)) {
    const mv = parseNumeric(s, fl);
    return { value: mv.value & 0xffn, mask: mv.mask & 0xffn };
  }
  const vm = parseFlags(CT_STATE_NAMES, s, 0xff);
  if (!vm) {
    const bad = s.split(/[+|-]/).find((n) => n && !CT_STATE_NAMES.some(([, x]) => x === n));
    throw new OfctlError(`${bad ?? s}: unknown ct_state flag(s)`);
  }
  return { value: BigInt(vm[0]), mask: BigInt(vm[1]) };
}

/**
 * `N[/M]` in decimal or hex, checked against the field's byte width as OVS
 * checks it; values wider than the field's bits are the caller's to trim.
 */
function parseNumeric(s: string, fl: MfField): MaskedValue {
  const [vs, ms, extra] = s.split("/");
  const value = parseUint(vs);
  const mask = ms === undefined ? (1n << BigInt(fl.nBits)) - 1n : parseUint(ms);
  if (value === undefined || extra !== undefined) {
    throw new OfctlError(`${s}: bad syntax for ${fl.name} value`);
  }
  if (mask === undefined) throw new OfctlError(`${s}: bad syntax for ${fl.name} mask`);
  const limit = 1n << BigInt(8 * fl.valueBytes);
  if (value >= limit) {
    throw new OfctlError(`${s}: value too large for ${fl.valueBytes}-byte field ${fl.name}`);
  }
  if (mask >= limit) {
    throw new OfctlError(`${s}: mask too large for ${fl.valueBytes}-byte field ${fl.name}`);
  }
  return { value, mask };
}

function prefixMask(bits: number, width: number): bigint {
  return bits === 0 ? 0n : ((1n << BigInt(bits)) - 1n) << BigInt(width - bits);
}

function parseAddr(
  s: string,
  fl: MfField,
  parse: (t: string) => bigint | undefined,
  width: number,
  what: string,
): MaskedValue {
  const slash = s.indexOf("/");
  const vs = slash < 0 ? s : s.slice(0, slash);
  const value = parse(vs);
  if (value === undefined) throw new OfctlError(`${s}: invalid ${what} address`);
  if (slash < 0) return { value, mask: (1n << BigInt(width)) - 1n };
  const ms = s.slice(slash + 1);
  if (/^\d+$/.test(ms)) {
    const bits = Number(ms);
    if (bits > width) {
      const fam = width === 32 ? "IPv4" : "IPv6";
      throw new OfctlError(
        `${s}: ${fam} network prefix bits not between 0 and ${width}, inclusive`,
      );
    }
    return { value, mask: prefixMask(bits, width) };
  }
  const mask = parse(ms);
  if (mask === undefined) throw new OfctlError(`${s}: invalid ${what} mask for ${fl.name}`);
  return { value, mask };
}

const FRAG: Record<string, [number, number]> = {
  no: [0, 1],
  yes: [1, 1],
  first: [1, 3],
  later: [3, 3],
  not_later: [0, 2],
};

/** Parses `VALUE[/MASK]` for `fl`, in field units (before any shift). */
export function parseFieldValue(fl: MfField, s: string, names?: PortNames): MaskedValue {
  if (s === "") throw new OfctlError(`field ${fl.name} missing value`);
  switch (fl.format) {
    case "mac": {
      const [vs, ms] = s.split("/", 2);
      const value = parseMac(vs);
      const mask = ms === undefined ? (1n << 48n) - 1n : parseMac(ms);
      if (value === undefined || mask === undefined) {
        throw new OfctlError(`${s}: invalid Ethernet address`);
      }
      if (ms !== undefined && !fl.maskable) {
        throw new OfctlError(`${fl.name} does not support masking`);
      }
      return { value, mask };
    }
    case "ipv4":
      return parseAddr(s, fl, parseIpv4, 32, "IP");
    case "ipv6":
      return parseAddr(s, fl, parseIpv6, 128, "IPv6");
    case "frag": {
      const f = FRAG[s];
      if (!f) {
        throw new OfctlError(
          `${s}: unknown fragment type (valid types are "no", "yes", "first", "later", "not_later"`,
        );
      }
      return { value: BigInt(f[0]), mask: BigInt(f[1]) };
    }
    case "tcp_flags":
      return parseTcpFlags(s, fl);
    case "ct_state":
      return parseCtState(s, fl);
    case "port": {
      const p = parsePort(s, names);
      if (p === undefined) throw new OfctlError(`${s}: invalid or unknown port for ${fl.name}`);
      return { value: BigInt(p), mask: 0xffffn };
    }
    default: {
      const mv = parseNumeric(s, fl);
      if (!fl.maskable && s.includes("/")) {
        throw new OfctlError(`${fl.name} does not support masking`);
      }
      return mv;
    }
  }
}

/** mf_format: the value (and mask, when not exact) of a field. */
export function formatFieldValue(fl: MfField, value: bigint, mask?: bigint): string {
  const full = (1n << BigInt(fl.nBits)) - 1n;
  const exact = mask === undefined || mask === full;
  switch (fl.format) {
    case "mac":
      return formatMac(value) + (exact ? "" : `/${formatMac(mask!)}`);
    case "ipv4":
      return formatIpv4(value) + (exact ? "" : `/${formatIpv4(mask!)}`);
    case "ipv6":
      return formatIpv6(value) + (exact ? "" : `/${formatIpv6(mask!)}`);
    case "port":
      return formatPort(Number(value));
    case "ct_state":
      return formatFlags(CT_STATE_NAMES, Number(value)) +
        (exact ? "" : `/0x${mask!.toString(16)}`);
    case "hex":
      return `0x${value.toString(16)}` + (exact ? "" : `/0x${mask!.toString(16)}`);
    default:
      return exact ? value.toString() : `0x${value.toString(16)}/0x${mask!.toString(16)}`;
  }
}

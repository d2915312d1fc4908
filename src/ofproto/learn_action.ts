/**
 * The learn action's text (lib/learn.c: learn_parse, learn_format) and
 * what it does to a flow (learn_execute, learn_mask): a flow_mod that
 * adds, or refreshes, a flow built from the packet being translated.
 */
import { type FlowKey } from "../flow/mod.ts";
import {
  type FieldRange,
  LEARN_F_DELETE_LEARNED,
  LEARN_F_SEND_FLOW_REM,
  LEARN_F_WRITE_RESULT,
  type LearnAction,
  type LearnSpec,
  type OfAction,
  OFPP_ALL,
  OFPP_FLOOD,
  OFPP_IN_PORT,
  OFPP_LOCAL,
  OFPP_MAX,
} from "./of_action.ts";
import { OfctlError } from "./ofctl_error.ts";
import { parseKeyValues } from "./key_value.ts";
import { mfByName, mfGet, mfSetMasked } from "./meta_flow.ts";
import { formatFieldValue, parseFieldValue, parseUint, type PortNames } from "./field_value.ts";
import { newMatch } from "./match.ts";
import { FF_SEND_FLOW_REM, type FlowMod, newFlowMod } from "./flow_mod.ts";
import { DEFAULT_PRIORITY } from "./match_format.ts";

const ones = (n: number): bigint => (1n << BigInt(n)) - 1n;
const altHex = (v: bigint): string => (v ? `0x${v.toString(16)}` : "0");

/** mf_parse_subfield, as learn_parse_spec tries it: null when `s` is no subfield. */
function trySubfield(s: string): FieldRange | string {
  const m = /^([A-Za-z0-9_]+)(?:\[(?:(\d+)(?:\.\.(\d+))?)?\])?$/.exec(s);
  if (!m) return `${s}: syntax error parsing field`;
  const fl = mfByName(m[1]);
  if (!fl) return `${s}: unknown field \`${m[1]}'`;
  if (m[2] === undefined) return { field: fl.name, ofs: 0, nBits: fl.nBits };
  const start = Number(m[2]);
  const end = m[3] === undefined ? start : Number(m[3]);
  if (start >= fl.nBits || end >= fl.nBits || end < start) return `${s}: invalid bit range`;
  return { field: fl.name, ofs: start, nBits: end - start + 1 };
}

function subfield(s: string): FieldRange {
  const r = trySubfield(s);
  if (typeof r === "string") throw new OfctlError(r);
  return r;
}

const isWhole = (r: FieldRange): boolean => r.ofs === 0 && r.nBits === mfByName(r.field)!.nBits;

/** NAME[=VALUE]: a match spec from a field or an immediate value. */
function parseMatchSpec(orig: string, name: string, value: string, dst: FieldRange): LearnSpec {
  if (value === "") return { src: dst, dst: "match", dstField: dst, nBits: dst.nBits };
  const src = trySubfield(value);
  if (typeof src !== "string") {
    if (src.nBits !== dst.nBits) {
      throw new OfctlError(
        `${orig}: bit widths of ${name} (${dst.nBits}) and ${value} (${src.nBits}) differ`,
      );
    }
    return { src, dst: "match", dstField: dst, nBits: dst.nBits };
  }
  const fl = mfByName(dst.field)!;
  let imm: bigint;
  if (isWhole(dst)) {
    try {
      imm = parseFieldValue(fl, value).value;
    } catch (e) {
      if (!(e instanceof OfctlError)) throw e;
      throw new OfctlError(
        `${orig}: ${name} value ${value} cannot be parsed as a subfield (${src}) or an immediate value (${e.message})`,
      );
    }
  } else {
    const v = parseUint(value);
    const why = v === undefined
      ? `${orig}: cannot parse integer value`
      : v >> BigInt(dst.nBits)
      ? `${orig}: value ${value} does not fit into ${dst.nBits} bits`
      : "";
    if (why) {
      throw new OfctlError(
        `${orig}: ${name} value ${value} cannot be parsed as a subfield (${src}) or an immediate value (${why})`,
      );
    }
    imm = v!;
  }
  return { src: { imm }, dst: "match", dstField: dst, nBits: dst.nBits };
}

function parseLoadSpec(value: string): LearnSpec {
  const arrow = value.indexOf("->");
  if (arrow === 0) throw new OfctlError(`load: missing source before \`->' in \`${value}'`);
  if (arrow < 0) throw new OfctlError(`load: missing \`->' in \`${value}'`);
  const srcText = value.slice(0, arrow);
  const dst = subfield(value.slice(arrow + 2));
  const imm = parseUint(srcText);
  if (imm !== undefined) {
    if (imm >> BigInt(dst.nBits)) {
      throw new OfctlError(`${value}: value does not fit into ${dst.nBits} bits`);
    }
    return { src: { imm }, dst: "load", dstField: dst, nBits: dst.nBits };
  }
  if (/^[0-9]/.test(srcText)) throw new OfctlError(`load: garbage before \`->' in \`${value}'`);
  const src = subfield(srcText);
  if (src.nBits !== dst.nBits) {
    throw new OfctlError(
      `${value}: source field is ${src.nBits} bits wide but destination is ${dst.nBits} bits wide`,
    );
  }
  return { src, dst: "load", dstField: dst, nBits: src.nBits };
}

function u16(s: string): number {
  // atoi, stored in 16 bits, as learn_parse__ does.
  const n = parseInt(s, 10);
  return Number.isNaN(n) ? 0 : n & 0xffff;
}

/** learn_parse: the text between `learn(` and `)`. */
export function parseLearn(arg: string, _names?: PortNames): OfAction {
  const orig = arg;
  const learn: LearnAction = {
    tableId: 1,
    priority: DEFAULT_PRIORITY,
    idleTimeout: 0,
    hardTimeout: 0,
    finIdleTimeout: 0,
    finHardTimeout: 0,
    cookie: 0n,
    flags: 0,
    limit: 0,
    specs: [],
  };
  for (const { key, value } of parseKeyValues(arg)) {
    switch (key) {
      case "table": {
        const t = parseUint(value);
        if (t === undefined || t > 255n) throw new OfctlError(`unknown table "${value}"`);
        if (t === 255n) throw new OfctlError(`${orig}: table id 255 not valid for \`learn' action`);
        learn.tableId = Number(t);
        break;
      }
      case "priority":
        learn.priority = u16(value);
        break;
      case "idle_timeout":
        learn.idleTimeout = u16(value);
        break;
      case "hard_timeout":
        learn.hardTimeout = u16(value);
        break;
      case "fin_idle_timeout":
        learn.finIdleTimeout = u16(value);
        break;
      case "fin_hard_timeout":
        learn.finHardTimeout = u16(value);
        break;
      case "cookie":
        learn.cookie = (parseUint(value) ?? 0n) & ones(64);
        break;
      case "send_flow_rem":
        learn.flags |= LEARN_F_SEND_FLOW_REM;
        break;
      case "delete_learned":
        learn.flags |= LEARN_F_DELETE_LEARNED;
        break;
      case "limit":
        learn.limit = (parseInt(value, 10) || 0) >>> 0;
        break;
      case "result_dst": {
        const dst = subfield(value);
        if (!mfByName(dst.field)!.writable) throw new OfctlError(`${value} is read-only`);
        if (dst.nBits !== 1) {
          throw new OfctlError("result_dst in 'learn' action must be a single bit");
        }
        learn.flags |= LEARN_F_WRITE_RESULT;
        learn.resultDst = dst;
        break;
      }
      case "load":
        learn.specs.push(parseLoadSpec(value));
        break;
      case "output": {
        const src = subfield(value);
        learn.specs.push({ src, dst: "output", nBits: src.nBits });
        break;
      }
      default: {
        const dst = trySubfield(key);
        if (typeof dst === "string") throw new OfctlError(`${orig}: unknown keyword ${key}`);
        learn.specs.push(parseMatchSpec(orig, key, value, dst));
      }
    }
  }
  return { type: "learn", learn };
}

/** NXM name of a subfield, as mf_format_subfield prints it. */
function fmtSub(r: FieldRange): string {
  const fl = mfByName(r.field)!;
  if (isWhole(r)) return `${fl.nxm}[]`;
  if (r.nBits === 1) return `${fl.nxm}[${r.ofs}]`;
  return `${fl.nxm}[${r.ofs}..${r.ofs + r.nBits - 1}]`;
}

function formatSpec(s: LearnSpec): string {
  const imm = "imm" in s.src ? s.src.imm : undefined;
  const src = s.src as FieldRange;
  switch (s.dst) {
    case "match": {
      const dst = s.dstField!;
      if (imm !== undefined) {
        if (isWhole(dst)) {
          const fl = mfByName(dst.field)!;
          return `${fl.name}=${formatFieldValue(fl, imm)}`;
        }
        return `${fmtSub(dst)}=${altHex(imm)}`;
      }
      const same = src.field === dst.field && src.ofs === dst.ofs;
      return same ? fmtSub(dst) : `${fmtSub(dst)}=${fmtSub(src)}`;
    }
    case "load":
      return `load:${imm !== undefined ? altHex(imm) : fmtSub(src)}->${fmtSub(s.dstField!)}`;
    case "output":
      return `output:${fmtSub(src)}`;
  }
}

/** learn_format. */
export function formatLearn(l: LearnAction): string {
  let s = `learn(table=${l.tableId}`;
  if (l.idleTimeout) s += `,idle_timeout=${l.idleTimeout}`;
  if (l.hardTimeout) s += `,hard_timeout=${l.hardTimeout}`;
  if (l.finIdleTimeout) s += `,fin_idle_timeout=${l.finIdleTimeout}`;
  if (l.finHardTimeout) s += `,fin_hard_timeout=${l.finHardTimeout}`;
  if (l.priority !== DEFAULT_PRIORITY) s += `,priority=${l.priority}`;
  if (l.flags & LEARN_F_SEND_FLOW_REM) s += ",send_flow_rem";
  if (l.flags & LEARN_F_DELETE_LEARNED) s += ",delete_learned";
  if (l.cookie) s += `,cookie=0x${l.cookie.toString(16)}`;
  if (l.limit) s += `,limit=${l.limit}`;
  if (l.flags & LEARN_F_WRITE_RESULT) s += `,result_dst=${fmtSub(l.resultDst!)}`;
  for (const spec of l.specs) s += `,${formatSpec(spec)}`;
  return s + ")";
}

function specValue(spec: LearnSpec, flow: FlowKey): bigint {
  if ("imm" in spec.src) return spec.src.imm & ones(spec.nBits);
  const r = spec.src;
  return (mfGet(mfByName(r.field)!, flow) >> BigInt(r.ofs)) & ones(r.nBits);
}

/**
 * learn_execute: the OFPFC_MODIFY_STRICT flow_mod that `learn` makes of
 * `flow` (the flow as translated so far).
 */
export function learnFlowMod(l: LearnAction, flow: FlowKey): FlowMod {
  const match = newMatch();
  const actions: OfAction[] = [];
  if (l.finIdleTimeout || l.finHardTimeout) {
    actions.push({ type: "fin_timeout", idle: l.finIdleTimeout, hard: l.finHardTimeout });
  }
  for (const spec of l.specs) {
    const v = specValue(spec, flow);
    if (spec.dst === "match") {
      const d = spec.dstField!;
      const fl = mfByName(d.field)!;
      const m = ones(d.nBits) << BigInt(d.ofs);
      mfSetMasked(fl, match.key, v << BigInt(d.ofs), m);
      mfSetMasked(fl, match.mask, m, m);
    } else if (spec.dst === "load") {
      actions.push({ type: "load", dst: spec.dstField!, value: v });
    } else {
      const port = Number(v & 0xffffn);
      if (
        v >> 16n === 0n &&
        (port < OFPP_MAX || port === OFPP_IN_PORT || port === OFPP_FLOOD ||
          port === OFPP_LOCAL || port === OFPP_ALL)
      ) actions.push({ type: "output", port });
    }
  }
  const fm = newFlowMod("modify", true, match, l.priority);
  fm.tableId = l.tableId;
  fm.newCookie = l.cookie;
  fm.idleTimeout = l.idleTimeout;
  fm.hardTimeout = l.hardTimeout;
  fm.actions = actions;
  if (l.flags & LEARN_F_SEND_FLOW_REM) fm.flags |= FF_SEND_FLOW_REM;
  return fm;
}

/** learn_mask: the source fields the learned flow copies are looked at. */
export function learnMask(l: LearnAction, wc: FlowKey): void {
  for (const spec of l.specs) {
    if ("imm" in spec.src) continue;
    const r = spec.src;
    const m = ones(r.nBits) << BigInt(r.ofs);
    mfSetMasked(mfByName(r.field)!, wc, m, m);
  }
}

/** The learn actions of `actions`, clone's included, in the order translation meets them. */
export function learnActionsOf(
  actions: readonly OfAction[],
  out: LearnAction[] = [],
): LearnAction[] {
  for (const a of actions) {
    if (a.type === "learn") out.push(a.learn);
    else if (a.type === "clone") learnActionsOf(a.actions, out);
  }
  return out;
}

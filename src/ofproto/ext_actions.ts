/**
 * The text of the actions that choose or copy rather than rewrite
 * (lib/ofp-actions.c parse_/format_CLONE, SAMPLE, FIN_TIMEOUT,
 * CHECK_PKT_LARGER; lib/multipath.c multipath_parse/format; lib/bundle.c
 * bundle_parse/format), with ovs-ofctl's error wording.
 */
import { type FieldRange, type HashFields, type OfAction, OFPP_NONE } from "./of_action.ts";
import { OfctlError } from "./ofctl_error.ts";
import { parseKeyValues } from "./key_value.ts";
import { formatPort, parsePort, parseUint, type PortNames } from "./field_value.ts";
import { parseSubfield } from "./field_action_parse.ts";
import { formatSubfield } from "./action_format.ts";

const HASH_FIELDS: readonly HashFields[] = [
  "eth_src",
  "symmetric_l4",
  "symmetric_l3l4",
  "symmetric_l3l4+udp",
  "nw_src",
  "nw_dst",
  "symmetric_l3",
];

/** atoi. */
const atoi = (s: string): number => parseInt(s, 10) || 0;

function hashFields(s: string, whole: string): HashFields {
  const f = HASH_FIELDS.find((h) => h === s.toLowerCase());
  if (!f) throw new OfctlError(`${whole}: unknown fields \`${s}'`);
  return f;
}

/** str_to_u16 / str_to_u32 with their messages. */
function uint(s: string, bits: 16 | 32, what: string): number {
  const v = parseUint(s);
  if (s === "") throw new OfctlError("missing required numeric argument");
  if (v === undefined || v >> BigInt(bits)) {
    throw new OfctlError(bits === 16 ? `invalid ${what} "${s}"` : `invalid numeric format ${s}`);
  }
  return Number(v);
}

/** multipath(FIELDS, BASIS, ALGORITHM, N_LINKS, ARG, DST). */
export function parseMultipath(arg: string): OfAction {
  const t = arg.split(/[, ]+/).filter((x) => x !== "");
  if (t.length < 6) throw new OfctlError(`${arg}: not enough arguments to multipath action`);
  const [fields, basis, alg, nLinksText, a, dstText] = t;
  const hf = hashFields(fields, arg);
  const algorithm = (["modulo_n", "hash_threshold", "hrw", "iter_hash"] as const)
    .find((x) => x === alg.toLowerCase());
  if (!algorithm) throw new OfctlError(`${arg}: unknown algorithm \`${alg}'`);
  const nLinks = atoi(nLinksText);
  if (nLinks < 1 || nLinks > 65536) {
    throw new OfctlError(`${arg}: n_links ${nLinks} is not in valid range 1 to 65536`);
  }
  const dst = parseSubfield(dstText);
  if (dst.nBits < 16 && nLinks > 1 << dst.nBits) {
    throw new OfctlError(
      `${arg}: ${dst.nBits}-bit destination field has ${
        1 << dst.nBits
      } possible values, less than specified n_links ${nLinks}`,
    );
  }
  return {
    type: "multipath",
    fields: hf,
    basis: atoi(basis) & 0xffff,
    algorithm,
    maxLink: nLinks - 1,
    arg: atoi(a) >>> 0,
    dst,
  };
}

/** bundle(FIELDS,BASIS,ALG,ofport,members:P...) and bundle_load(...,DST,members:P...). */
export function parseBundle(arg: string, load: boolean, names?: PortNames): OfAction {
  const t = arg.split(/[, ]+/).filter((x) => x !== "");
  const n = load ? 5 : 4;
  const head = t.slice(0, n);
  const rest = t.slice(n).join(",");
  const colon = rest.indexOf(":");
  const delim = colon < 0 ? rest : rest.slice(0, colon);
  if (head.length < n || rest === "") {
    throw new OfctlError(`${arg}: not enough arguments to bundle action`);
  }
  if (delim.toLowerCase() !== "members" && delim.toLowerCase() !== "slaves") {
    throw new OfctlError(`${arg}: missing member delimiter, expected \`members', got \`${delim}'`);
  }
  const members: number[] = [];
  for (const m of rest.slice(colon + 1).split(/[, [\]]+/)) {
    if (m === "") continue;
    const p = parsePort(m, names);
    if (p === undefined) throw new OfctlError(`${m}: bad port number`);
    members.push(p);
  }
  const [fields, basis, alg, memberType, dstText] = head;
  const hf = hashFields(fields, arg);
  const algorithm = (["active_backup", "hrw"] as const).find((x) => x === alg.toLowerCase());
  if (!algorithm) throw new OfctlError(`${arg}: unknown algorithm \`${alg}'`);
  if (memberType.toLowerCase() !== "ofport") {
    throw new OfctlError(`${arg}: unknown member_type \`${memberType}'`);
  }
  const a: OfAction & { type: "bundle" } = {
    type: "bundle",
    fields: hf,
    basis: atoi(basis) & 0xffff,
    algorithm,
    members,
  };
  if (load) a.dst = parseSubfield(dstText);
  return a;
}

export function parseSample(arg: string, names?: PortNames): OfAction {
  const a: OfAction & { type: "sample" } = {
    type: "sample",
    probability: 0,
    collectorSetId: 0,
    obsDomainId: 0,
    obsPointId: 0,
    samplingPort: OFPP_NONE,
    direction: "default",
  };
  for (const { key, value } of parseKeyValues(arg)) {
    if (key === "probability") {
      a.probability = uint(value, 16, "probability");
      if (a.probability === 0) throw new OfctlError(`invalid probability value "${value}"`);
    } else if (key === "collector_set_id") a.collectorSetId = uint(value, 32, key);
    else if (key === "obs_domain_id") a.obsDomainId = uint(value, 32, key);
    else if (key === "obs_point_id") a.obsPointId = uint(value, 32, key);
    else if (key === "sampling_port") {
      const p = parsePort(value, names);
      if (p === undefined) throw new OfctlError(`${value}: unknown port`);
      a.samplingPort = p;
    } else if (key === "ingress" || key === "egress") a.direction = key;
    else throw new OfctlError(`invalid key "${key}" in "sample" argument`);
  }
  if (a.probability === 0) {
    throw new OfctlError(`non-zero "probability" must be specified on sample`);
  }
  return a;
}

export function parseFinTimeout(arg: string): OfAction {
  const a: OfAction & { type: "fin_timeout" } = { type: "fin_timeout", idle: 0, hard: 0 };
  for (const { key, value } of parseKeyValues(arg)) {
    if (key === "idle_timeout") a.idle = uint(value, 16, key);
    else if (key === "hard_timeout") a.hard = uint(value, 16, key);
    else throw new OfctlError(`invalid key '${key}' in 'fin_timeout' argument`);
  }
  return a;
}

/** `LEN)->DST` (the key-value tokenizer leaves check_pkt_larger's value so). */
export function parseCheckPktLarger(arg: string): OfAction {
  const i = arg.indexOf("->");
  if (i < 0) throw new OfctlError(`${arg}: missing \`->'`);
  let len = arg.slice(0, i);
  if (len.endsWith(")")) len = len.slice(0, -1);
  const dst = parseSubfield(arg.slice(i + 2));
  if (dst.nBits !== 1) throw new OfctlError("Only 1-bit destination field is allowed");
  return { type: "check_pkt_larger", pktLen: uint(len, 16, "pkt_len"), dst };
}

function formatMultipath(a: OfAction & { type: "multipath" }): string {
  return `multipath(${a.fields},${a.basis},${a.algorithm},${a.maxLink + 1},${a.arg},${
    formatSubfield(a.dst)
  })`;
}

function formatBundle(
  a: OfAction & { type: "bundle" },
  names?: ReadonlyMap<number, string>,
): string {
  const dst = a.dst ? `${formatSubfield(a.dst)},` : "";
  const members = a.members.map((p) => formatPort(p, names)).join(",");
  return `${
    a.dst ? "bundle_load" : "bundle"
  }(${a.fields},${a.basis},${a.algorithm},ofport,${dst}members:${members})`;
}

function formatSample(a: OfAction & { type: "sample" }, names?: ReadonlyMap<number, string>) {
  let s = `sample(probability=${a.probability},collector_set_id=${a.collectorSetId},` +
    `obs_domain_id=${a.obsDomainId},obs_point_id=${a.obsPointId}`;
  if (a.samplingPort !== OFPP_NONE) s += `,sampling_port=${formatPort(a.samplingPort, names)}`;
  if (a.direction !== "default") s += `,${a.direction}`;
  return s + ")";
}

/** The text of one of this file's actions; undefined for any other action. */
export function formatExtAction(
  a: OfAction,
  names: ReadonlyMap<number, string> | undefined,
  formatList: (actions: readonly OfAction[], names?: ReadonlyMap<number, string>) => string,
): string | undefined {
  switch (a.type) {
    case "clone":
      return `clone(${formatList(a.actions, names)})`;
    case "sample":
      return formatSample(a, names);
    case "multipath":
      return formatMultipath(a);
    case "bundle":
      return formatBundle(a, names);
    case "check_pkt_larger":
      return `check_pkt_larger(${a.pktLen})->${formatSubfield(a.dst)}`;
    case "fin_timeout": {
      const parts: string[] = [];
      if (a.idle) parts.push(`idle_timeout=${a.idle}`);
      if (a.hard) parts.push(`hard_timeout=${a.hard}`);
      return `fin_timeout(${parts.join(",")})`;
    }
  }
  return undefined;
}

/** Subfields an action writes, for prerequisite checks (multipath, bundle_load, ...). */
export function extActionDst(a: OfAction): FieldRange | undefined {
  if (a.type === "multipath" || a.type === "check_pkt_larger") return a.dst;
  if (a.type === "bundle") return a.dst;
  return undefined;
}

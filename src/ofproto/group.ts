/**
 * OpenFlow groups in ovs-ofctl's syntax (lib/ofp-group.c): the group_mod
 * text that add-group, mod-group, del-groups, insert-buckets and
 * remove-buckets take (parse_ofp_group_mod_str, parse_bucket_str,
 * parse_select_group_field), with ovs-ofctl's error wording, and a group
 * printed as dump-groups and group_mod errors print it (ofp_print_group).
 */
import { newMatch } from "./match.ts";
import { type OfAction, OFPP_CONTROLLER, OFPP_MAX, OFPP_NONE } from "./of_action.ts";
import { OfctlError } from "./ofctl_error.ts";
import { parseKeyValues } from "./key_value.ts";
import { MF_FIELDS, mfByName } from "./meta_flow.ts";
import {
  formatFieldValue,
  formatPort,
  parseFieldValue,
  parsePort,
  parseUint,
} from "./field_value.ts";
import { parseActions } from "./action_parse.ts";
import { formatActions, OFP10_VERSION } from "./action_format.ts";
import { actionsOverWire } from "./action_wire.ts";

export const OFP15_VERSION = 6;
/** Group ids (OFPG_*): the highest real one, "all" and "any". */
export const OFPG_MAX = 0xffffff00;
export const OFPG_ALL = 0xfffffffc;
export const OFPG_ANY = 0xffffffff;
/** Bucket ids (OFPG15_BUCKET_*). */
export const BUCKET_MAX = 0xffffff00;
export const BUCKET_FIRST = 0xfffffffd;
export const BUCKET_LAST = 0xfffffffe;
export const BUCKET_ALL = 0xffffffff;

/** OFPGT11_*, in their wire order (ofp_print_group prints "ff" for fast_failover). */
export const GROUP_TYPES = ["all", "select", "indirect", "ff"] as const;
export type GroupType = typeof GROUP_TYPES[number];

export interface Bucket {
  id: number;
  weight: number;
  /** OFPP_NONE (OFPP_ANY) when the bucket watches no port. */
  watchPort: number;
  /** OFPG_ANY when the bucket watches no group. */
  watchGroup: number;
  actions: OfAction[];
}

/** A `fields(...)` entry: the field and the mask of the bits hashed. */
export interface HashField {
  field: string;
  mask: bigint;
}

/** The NTR selection-method property: "", "hash" or "dp_hash". */
export interface GroupProps {
  selectionMethod: string;
  selectionMethodParam: bigint;
  /** In OVS's field-id order, as the field array keeps them. */
  fields: HashField[];
}

export interface Group {
  id: number;
  type: GroupType;
  buckets: Bucket[];
  props: GroupProps;
}

export type GroupModCommand =
  | "add"
  | "modify"
  | "add_or_mod"
  | "delete"
  | "insert_bucket"
  | "remove_bucket";

export interface GroupMod extends Group {
  command: GroupModCommand;
  commandBucketId: number;
}

/** Whether a bucket has a liveness condition (ofputil_bucket_has_liveness). */
export function bucketHasLiveness(b: Bucket): boolean {
  return b.watchPort !== OFPP_NONE || b.watchGroup !== OFPG_ANY;
}

/** OVS's str_to_u32, with its messages. */
function strToU32(s: string): number {
  if (s === "") throw new OfctlError("missing required numeric argument");
  const v = parseUint(s);
  if (v === undefined || v >= 1n << 64n) throw new OfctlError(`invalid numeric format ${s}`);
  return Number(v & 0xffffffffn);
}

function parseBucket(text: string, type: GroupType, version: number): Bucket {
  const b: Bucket = {
    id: BUCKET_ALL,
    weight: type === "select" ? 1 : 0,
    watchPort: OFPP_NONE,
    watchGroup: OFPG_ANY,
    actions: [],
  };
  const actions: string[] = [];
  for (const { key, value, paren } of parseKeyValues(text)) {
    const k = key.toLowerCase();
    if (k === "weight") {
      const w = parseUint(value);
      if (w === undefined || w > 0xffffn) throw new OfctlError(`invalid weight "${value}"`);
      b.weight = Number(w);
    } else if (k === "watch_port") {
      const p = parsePort(value);
      if (p === undefined || (p >= OFPP_MAX && p !== OFPP_NONE && p !== OFPP_CONTROLLER)) {
        throw new OfctlError(`${value}: invalid watch_port`);
      }
      b.watchPort = p;
    } else if (k === "watch_group") {
      b.watchGroup = strToU32(value);
      if (b.watchGroup > OFPG_MAX) throw new OfctlError(`invalid watch_group id ${b.watchGroup}`);
    } else if (k === "bucket_id") {
      b.id = strToU32(value);
      if (b.id > BUCKET_MAX) throw new OfctlError(`invalid bucket_id id ${b.id}`);
    } else if (k === "action" || k === "actions") {
      actions.push(value);
    } else {
      actions.push(paren || value === "" ? `${key}(${value})` : `${key}:${value}`);
    }
  }
  if (!actions.length) throw new OfctlError("bucket must specify actions");
  if (type === "ff" && !bucketHasLiveness(b)) {
    throw new OfctlError("fast failover bucket requires watch_port or watch_group");
  }
  // The switch keeps the actions as they arrive in the negotiated version.
  b.actions = actionsOverWire(parseActions(actions.join(",")), version, newMatch());
  return b;
}

function parseFields(text: string): HashField[] {
  const out: HashField[] = [];
  for (const { key, value } of parseKeyValues(text)) {
    const fl = mfByName(key);
    if (!fl) throw new OfctlError(`${text}: unknown field ${key}`);
    if (out.some((f) => f.field === fl.name)) throw new OfctlError(`${key}: duplicate field`);
    const full = (1n << BigInt(fl.nBits)) - 1n;
    let mask = full;
    if (value !== "") {
      mask = parseFieldValue(fl, value).value;
      if (mask === 0n) {
        throw new OfctlError(`${text}: values are wildcards here and must not be all-zeros`);
      }
    }
    out.push({ field: fl.name, mask });
  }
  const order = (name: string) => MF_FIELDS.findIndex((f) => f.name === name);
  return out.sort((a, b) => order(a.field) - order(b.field));
}

const COMMAND_WORDS: ReadonlyArray<[string, GroupModCommand]> = [
  ["add", "add"],
  ["delete", "delete"],
  ["modify", "modify"],
  ["add_or_mod", "add_or_mod"],
  ["insert_bucket", "insert_bucket"],
  ["remove_bucket", "remove_bucket"],
];

/**
 * Parses one group_mod (parse_ofp_group_mod_str__). `command` "file" means
 * a line of add-groups: it may start with a command word, else it adds.
 * Throws an OfctlError worded as ovs-ofctl's.
 */
export function parseGroupMod(
  input: string,
  command: GroupModCommand | "file",
  version = OFP10_VERSION,
): GroupMod {
  let text = input;
  if (command === "file") {
    text = text.replace(/^[ \t\r\n]+/, "");
    const word = /^[^, \t\r\n]*/.exec(text)![0];
    const hit = COMMAND_WORDS.find(([w]) => word !== "" && w.startsWith(word));
    command = hit ? hit[1] : "add";
    if (hit) text = text.slice(word.length);
  }
  const needsType = command !== "delete" && command !== "remove_bucket" &&
    command !== "insert_bucket";
  const takesBuckets = command !== "delete" && command !== "remove_bucket";
  const takesCommandBucket = command === "insert_bucket" || command === "remove_bucket";
  const gm: GroupMod = {
    command,
    id: OFPG_ANY,
    type: "all",
    buckets: [],
    props: { selectionMethod: "", selectionMethodParam: 0n, fields: [] },
    commandBucketId: BUCKET_ALL,
  };
  if (command === "delete" && text === "") {
    gm.id = OFPG_ALL;
    return gm;
  }
  const at = text.indexOf("bucket=");
  if (at >= 0 && !takesBuckets) throw new OfctlError("bucket is not needed");
  const head = at >= 0 ? text.slice(0, at) : text;
  let hadType = false, hadCommandBucket = false;
  for (const { key, value } of parseKeyValues(head)) {
    if (key === "command_bucket_id") {
      if (!takesCommandBucket) throw new OfctlError("command bucket id is not needed");
      const named: Record<string, number> = {
        all: BUCKET_ALL,
        first: BUCKET_FIRST,
        last: BUCKET_LAST,
      };
      gm.commandBucketId = named[value] ?? strToU32(value);
      const id = gm.commandBucketId;
      if (id > BUCKET_MAX && id !== BUCKET_FIRST && id !== BUCKET_LAST && id !== BUCKET_ALL) {
        throw new OfctlError(`invalid command bucket id ${id}`);
      }
      if (id === BUCKET_ALL && command !== "remove_bucket") {
        throw new OfctlError("command_bucket_id=all is not permitted");
      }
      hadCommandBucket = true;
    } else if (key === "group_id") {
      gm.id = value === "all" ? OFPG_ALL : strToU32(value);
      if (gm.id !== OFPG_ALL && gm.id > OFPG_MAX) throw new OfctlError(`invalid group id ${gm.id}`);
    } else if (key === "type") {
      if (!needsType) throw new OfctlError("type is not needed");
      const t = value === "fast_failover" ? "ff" : value;
      if (!(GROUP_TYPES as readonly string[]).includes(t)) {
        throw new OfctlError(`invalid group type ${value}`);
      }
      gm.type = t as GroupType;
      hadType = true;
    } else if (key === "selection_method") {
      if (!needsType) throw new OfctlError("selection method is not needed");
      if (value.length >= 16) {
        throw new OfctlError("selection method is longer than 15 bytes long");
      }
      gm.props.selectionMethod = value;
    } else if (key === "selection_method_param") {
      if (!needsType) throw new OfctlError("selection method param is not needed");
      const v = parseUint(value);
      if (v === undefined || v >= 1n << 64n) {
        throw new OfctlError(`invalid numeric format ${value}`);
      }
      gm.props.selectionMethodParam = v;
    } else if (key === "fields") {
      if (!needsType) throw new OfctlError("fields are not needed");
      gm.props.fields = parseFields(value);
    } else {
      throw new OfctlError(`unknown keyword ${key}`);
    }
  }
  if (gm.id === OFPG_ANY) throw new OfctlError("must specify a group_id");
  if (needsType && !hadType) throw new OfctlError("must specify a type");
  if (gm.props.selectionMethod !== "hash" && gm.props.fields.length) {
    throw new OfctlError('fields may only be specified with "selection_method=hash"');
  }
  if (gm.props.selectionMethod === "" && gm.props.selectionMethodParam !== 0n) {
    throw new OfctlError('selection_method_param is only allowed with "selection_method"');
  }
  if (takesCommandBucket && command === "insert_bucket" && !hadCommandBucket) {
    throw new OfctlError("must specify a command bucket id");
  }
  if (at >= 0) {
    const parts = text.slice(at).split("bucket=").slice(1);
    for (const part of parts) {
      const b = parseBucket(part, gm.type, version);
      if (command !== "insert_bucket" && gm.type !== "select" && b.weight) {
        throw new OfctlError("Only select groups can have bucket weights.");
      }
      gm.buckets.push(b);
    }
  }
  if (gm.type === "indirect" && gm.buckets.length > 1) {
    throw new OfctlError("Indirect groups can have at most one bucket.");
  }
  assignBucketIds(gm.buckets);
  return gm;
}

/**
 * Gives buckets without an id the lowest free one, as the group_mod's
 * encoder does: the first such bucket starts a pool holding the ids of
 * the buckets after it.
 */
function assignBucketIds(buckets: Bucket[]): void {
  let used: Set<number> | null = null;
  buckets.forEach((b, i) => {
    if (b.id <= BUCKET_MAX) return;
    if (!used) {
      used = new Set(buckets.slice(i + 1).filter((o) => o.id <= BUCKET_MAX).map((o) => o.id));
    }
    let id = 0;
    while (used.has(id)) id++;
    used.add(id);
    b.id = id;
  });
}

/** Whether OpenFlow `version` carries bucket ids (NX over 1.0, and 1.5). */
export const hasBucketIds = (version: number) =>
  version === OFP10_VERSION || version >= OFP15_VERSION;

/** A bucket id as ofp_print_bucket_id spells it. */
export function formatBucketId(id: number): string {
  if (id === BUCKET_FIRST) return "first";
  if (id === BUCKET_LAST) return "last";
  if (id === BUCKET_ALL) return "all";
  return String(id);
}

function formatFields(fields: readonly HashField[]): string {
  return fields.map((f) => {
    const fl = mfByName(f.field)!;
    const full = (1n << BigInt(fl.nBits)) - 1n;
    return f.mask === full ? fl.name : `${fl.name}=${formatFieldValue(fl, f.mask)}`;
  }).join(",");
}

/**
 * A group as ovs-ofctl prints it (ofp_print_group) from a reply in
 * `version`: 1.1 to 1.4 carry neither bucket ids nor the selection method.
 * With `bucketIndex`, only that bucket (ofputil_group_format given one
 * bucket, as `ofproto/detrace` prints the bucket a flow used).
 */
export function formatGroup(
  g: Group,
  version: number,
  opts: { suppressType?: boolean; names?: ReadonlyMap<number, string>; bucketIndex?: number } = {},
): string {
  let s = `group_id=${g.id}`;
  if (!opts.suppressType) s += `,type=${g.type}`;
  const p = g.props;
  if (hasBucketIds(version) && p.selectionMethod) {
    s += `,selection_method=${p.selectionMethod}`;
    if (p.selectionMethodParam) s += `,selection_method_param=${p.selectionMethodParam}`;
    if (p.fields.length === 1) s += `,fields=${formatFields(p.fields)}`;
    else if (p.fields.length > 1) s += `,fields(${formatFields(p.fields)})`;
  }
  const shownBuckets = opts.bucketIndex === undefined ? g.buckets : [g.buckets[opts.bucketIndex]];
  const buckets = shownBuckets.map((b) => {
    let t = "bucket=";
    if (hasBucketIds(version)) t += `bucket_id:${formatBucketId(b.id)},`;
    if (b.weight !== (g.type === "select" ? 1 : 0)) t += `weight:${b.weight},`;
    if (b.watchPort !== OFPP_NONE) t += `watch_port:${formatPort(b.watchPort)},`;
    if (b.watchGroup !== OFPG_ANY) t += `watch_group:${b.watchGroup},`;
    const shown = actionsOverWire(b.actions, version, newMatch());
    return t + `actions=${formatActions(shown, opts.names)}`;
  });
  return buckets.length ? `${s},${buckets.join(",")}` : s;
}

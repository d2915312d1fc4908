/**
 * A bridge's group table (ofproto.c's group handling: add_group_start,
 * modify_group_start with copy_buckets_for_insert_bucket and
 * copy_buckets_for_remove_bucket, delete_groups_start), the per-group
 * selection setup of ofproto-dpif.c (group_set_selection_method,
 * group_setup_dp_hash_table), and group and bucket statistics
 * (group_dpif_credit_stats).
 *
 * Groups are dumped in the order of OVS's cmap of groups while it has one
 * bucket (up to five groups): a group takes the first free slot, keeps its
 * slot when modified, and a deleted group leaves a hole the next one
 * fills. (Past five groups OVS rehashes with a random basis, so its order
 * is not reproducible.)
 */
import { coverageCounter } from "../lib/mod.ts";
import type { TablesUpdate } from "./tables_update.ts";
import {
  BUCKET_ALL,
  BUCKET_FIRST,
  BUCKET_LAST,
  BUCKET_MAX,
  bucketHasLiveness,
  type Group,
  type GroupMod,
  OFPG_ALL,
} from "./group.ts";

const covGroupMod = coverageCounter("ofproto_group_mod");

/** A group_mod the switch refused: `error` is the OFPERR name. */
export class GroupModError extends Error {
  /** The tables update of the group_mods applied before this one, when there were some. */
  applied: TablesUpdate | null = null;
  /** The group_mod refused. */
  gm: GroupMod | undefined;
  constructor(readonly error: string) {
    super(error);
    this.name = "GroupModError";
  }
}

/** How a select group picks its bucket (enum group_selection_method). */
export type SelectionMethod = "default" | "hash" | "dp_hash";

/** What ofproto-dpif derives from a group when it is constructed. */
export interface GroupSelection {
  method: SelectionMethod;
  /** dp_hash: OVS_HASH_ALG_* (0 = l4, 1 = sym_l4), the basis, and hash value -> bucket index. */
  hashAlg: number;
  hashBasis: number;
  hashMask: number;
  hashMap: number[];
}

/** MAX_SELECT_GROUP_HASH_VALUES. */
const MAX_HASH_VALUES = 1 << 16;
const OVS_HASH_ALG_L4 = 0;
const OVS_HASH_ALG_SYM_L4 = 1;

/** Webster's method: `n` hash values spread over the buckets by weight, or null. */
function dpHashTable(g: Group, maxHash: number): { mask: number; map: number[] } | null {
  if (!g.buckets.length) return null;
  let total = 0, minWeight = 0xffff;
  for (const b of g.buckets) {
    if (b.weight > 0 && b.weight < minWeight) minWeight = b.weight;
    total += b.weight;
  }
  if (total === 0) return null;
  const minSlots = Math.ceil(total / minWeight);
  let pow2 = 1;
  while (pow2 < minSlots) pow2 *= 2;
  const n = Math.max(16, pow2);
  if (n > MAX_HASH_VALUES || (maxHash !== 0 && n > maxHash)) return null;
  const divisor = g.buckets.map(() => 1);
  const value = g.buckets.map((b) => b.weight);
  const map: number[] = [];
  for (let h = 0; h < n; h++) {
    let winner = 0;
    for (let i = 1; i < value.length; i++) if (value[i] > value[winner]) winner = i;
    divisor[winner] += 2;
    value[winner] = g.buckets[winner].weight / divisor[winner];
    map.push(winner);
  }
  return { mask: n - 1, map };
}

/** group_set_selection_method. */
export function groupSelection(g: Group): GroupSelection {
  const sel: GroupSelection = {
    method: "default",
    hashAlg: OVS_HASH_ALG_L4,
    hashBasis: 0,
    hashMask: 0,
    hashMap: [],
  };
  if (g.type !== "select") return sel;
  const method = g.props.selectionMethod;
  if (method === "" || method === "dp_hash") {
    const t = dpHashTable(g, method === "" ? 256 : 0);
    if (t) {
      sel.method = "dp_hash";
      sel.hashMask = t.mask;
      sel.hashMap = t.map;
      const param = g.props.selectionMethodParam;
      const alg = method === "" ? OVS_HASH_ALG_SYM_L4 : Number(param >> 32n);
      sel.hashAlg = alg > OVS_HASH_ALG_SYM_L4 ? OVS_HASH_ALG_L4 : alg;
      sel.hashBasis = method === "" ? 0 : Number(param & 0xffffffffn);
    }
  } else if (method === "hash" && g.props.fields.length) {
    sel.method = "hash";
  }
  return sel;
}

/** A group's counters (struct ofputil_group_stats). */
export interface GroupStats {
  packets: number;
  bytes: number;
  buckets: { packets: number; bytes: number }[];
}

interface GroupEntry {
  group: Group;
  selection: GroupSelection;
  createdMs: number;
  stats: GroupStats;
}

/** A change to a replica's groups, carried in a TablesUpdate. */
export type GroupOp =
  | { op: "group-set"; group: Group }
  | { op: "group-delete"; id: number };

/**
 * Rule-stats ids for group credits: negative, so they never collide with
 * rule ids, and exact in a Float64 (group id < 2^32, bucket slot < 2^20).
 * Slot 0 credits the whole group (all and indirect), slot i+1 bucket i.
 */
const BUCKET_SLOTS = 1 << 20;
export function groupStatsId(groupId: number, bucketIndex: number): number {
  return -1 - (groupId * BUCKET_SLOTS + bucketIndex + 1);
}
export function decodeGroupStatsId(id: number): { groupId: number; bucketIndex: number } {
  const v = -1 - id;
  return { groupId: Math.floor(v / BUCKET_SLOTS), bucketIndex: (v % BUCKET_SLOTS) - 1 };
}

function zeroStats(g: Group): GroupStats {
  return { packets: 0, bytes: 0, buckets: g.buckets.map(() => ({ packets: 0, bytes: 0 })) };
}

/** ofputil_check_group_mod plus the selection-method property's checks. */
function checkGroupMod(gm: GroupMod): void {
  if (gm.type === "indirect" && gm.command !== "delete" && gm.buckets.length !== 1) {
    throw new GroupModError("OFPGMFC_INVALID_GROUP");
  }
  const method = gm.props.selectionMethod;
  if (method !== "" && (!["hash", "dp_hash"].includes(method) || gm.type !== "select")) {
    throw new GroupModError("OFPBPC_BAD_VALUE");
  }
  for (const b of gm.buckets) {
    if (b.weight && gm.type !== "select" && gm.command !== "insert_bucket") {
      throw new GroupModError("OFPGMFC_INVALID_GROUP");
    }
    const live = bucketHasLiveness(b);
    if ((gm.type === "all" || gm.type === "indirect") && live) {
      throw new GroupModError("OFPGMFC_WATCH_UNSUPPORTED");
    }
    if (gm.type === "ff" && !live) throw new GroupModError("OFPGMFC_INVALID_GROUP");
  }
}

export class GroupTable {
  readonly #byId = new Map<number, GroupEntry>();
  /** The cmap's slots, in dump order; a hole is undefined. */
  #slots: (number | undefined)[] = [];

  get size(): number {
    return this.#byId.size;
  }

  get(id: number): Group | undefined {
    return this.#byId.get(id)?.group;
  }

  selection(id: number): GroupSelection | undefined {
    return this.#byId.get(id)?.selection;
  }

  stats(id: number): GroupStats | undefined {
    return this.#byId.get(id)?.stats;
  }

  createdMs(id: number): number {
    return this.#byId.get(id)?.createdMs ?? 0;
  }

  /** Every group, in OVS's dump order. */
  groups(): Group[] {
    return this.#slots.flatMap((id) => id === undefined ? [] : [this.#byId.get(id)!.group]);
  }

  /**
   * Applies a group_mod at `nowMs`; returns the replica ops and the ids of
   * the groups deleted (their rules go with them). Throws GroupModError,
   * changing nothing.
   */
  apply(gm: GroupMod, nowMs: number): { ops: GroupOp[]; deleted: number[] } {
    const old = this.#byId.get(gm.id)?.group;
    // Bucket commands keep the group's type and properties (EXT-570).
    if (old && (gm.command === "insert_bucket" || gm.command === "remove_bucket")) {
      gm = { ...gm, type: old.type, props: old.props };
    }
    checkGroupMod(gm);
    const exists = this.#byId.has(gm.id);
    switch (gm.command) {
      case "add":
        if (exists) throw new GroupModError("OFPGMFC_GROUP_EXISTS");
        return this.#set(gm, nowMs);
      case "add_or_mod":
        return this.#set(gm, exists ? this.#byId.get(gm.id)!.createdMs : nowMs);
      case "modify":
        if (!exists) throw new GroupModError("OFPGMFC_UNKNOWN_GROUP");
        return this.#set(gm, this.#byId.get(gm.id)!.createdMs);
      case "insert_bucket":
      case "remove_bucket": {
        const old = this.#byId.get(gm.id);
        if (!old) throw new GroupModError("OFPGMFC_UNKNOWN_GROUP");
        const buckets = gm.command === "insert_bucket"
          ? insertBuckets(old.group, gm)
          : removeBuckets(old.group, gm.commandBucketId);
        const g: Group = { ...old.group, buckets };
        return this.#set(g, old.createdMs);
      }
      case "delete": {
        const ids = gm.id === OFPG_ALL ? this.groups().map((g) => g.id) : exists ? [gm.id] : [];
        for (const id of ids) this.#remove(id);
        if (ids.length) covGroupMod.inc();
        return { ops: ids.map((id) => ({ op: "group-delete", id })), deleted: ids };
      }
    }
  }

  /** A replica's side of `apply`. */
  applyOp(op: GroupOp): void {
    if (op.op === "group-delete") this.#remove(op.id);
    else this.#set(op.group, 0);
  }

  clear(): void {
    this.#byId.clear();
    this.#slots = [];
  }

  /** group_dpif_credit_stats: one bucket and the group, or the group and every bucket. */
  credit(groupId: number, bucketIndex: number, packets: number, bytes: number): void {
    const st = this.#byId.get(groupId)?.stats;
    if (!st) return;
    st.packets += packets;
    st.bytes += bytes;
    const targets = bucketIndex < 0 ? st.buckets : [st.buckets[bucketIndex]];
    for (const b of targets) {
      if (!b) continue;
      b.packets += packets;
      b.bytes += bytes;
    }
  }

  #set(g: Group, createdMs: number): { ops: GroupOp[]; deleted: number[] } {
    const group: Group = { id: g.id, type: g.type, buckets: g.buckets, props: g.props };
    if (!this.#byId.has(group.id)) {
      const hole = this.#slots.indexOf(undefined);
      if (hole >= 0) this.#slots[hole] = group.id;
      else this.#slots.push(group.id);
    }
    this.#byId.set(group.id, {
      group,
      selection: groupSelection(group),
      createdMs,
      stats: zeroStats(group),
    });
    covGroupMod.inc();
    return { ops: [{ op: "group-set", group }], deleted: [] };
  }

  #remove(id: number): void {
    if (!this.#byId.delete(id)) return;
    const i = this.#slots.indexOf(id);
    if (i >= 0) this.#slots[i] = undefined;
    // An empty cmap shrinks back to a fresh one.
    if (!this.#byId.size) this.#slots = [];
  }
}

/** copy_buckets_for_insert_bucket: the new buckets first, last, or after bucket N. */
function insertBuckets(old: Group, gm: GroupMod): Group["buckets"] {
  const where = gm.commandBucketId;
  if (where <= BUCKET_MAX && !old.buckets.some((b) => b.id === where)) {
    throw new GroupModError("OFPGMFC_UNKNOWN_BUCKET");
  }
  const all = [...gm.buckets, ...old.buckets];
  if (new Set(all.map((b) => b.id)).size !== all.length) {
    throw new GroupModError("OFPGMFC_BUCKET_EXISTS");
  }
  if (where === BUCKET_LAST) return [...old.buckets, ...gm.buckets];
  if (where === BUCKET_FIRST || where === BUCKET_ALL) return all;
  const at = old.buckets.findIndex((b) => b.id === where) + 1;
  return [...old.buckets.slice(0, at), ...gm.buckets, ...old.buckets.slice(at)];
}

/** copy_buckets_for_remove_bucket. */
function removeBuckets(old: Group, which: number): Group["buckets"] {
  if (which === BUCKET_ALL) return [];
  if (!old.buckets.length) return [];
  let skip: number;
  if (which === BUCKET_FIRST) skip = 0;
  else if (which === BUCKET_LAST) skip = old.buckets.length - 1;
  else {
    skip = old.buckets.findIndex((b) => b.id === which);
    if (skip < 0) throw new GroupModError("OFPGMFC_UNKNOWN_BUCKET");
  }
  return old.buckets.filter((_, i) => i !== skip);
}

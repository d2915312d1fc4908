/**
 * The group side of an OpenFlow connection (ofproto.c's handle_group_mod,
 * handle_group_stats_request, handle_group_desc_stats_request and
 * handle_group_features_stats_request) for OpenFlow 1.1 to 1.4 and, as
 * Nicira extensions in 1.5's layout, 1.0: the
 * multipart replies built from what the switch reports of its groups.
 *
 * Thread-safety: main thread, as the connection that calls it.
 */
import {
  type Group,
  type GroupMod,
  GroupModError,
  groupRefCount,
  type GroupStats,
  type OfTables,
  type TablesUpdate,
} from "../ofproto/mod.ts";
import {
  decodeGroupStatsRequest,
  NXST_GROUP,
  NXST_GROUP_DESC,
  OfpError,
  type OfpErrorName,
  OFPMP_GROUP,
  OFPMP_GROUP_DESC,
  putGroupDesc,
  putGroupDesc15,
  putGroupFeatures,
  putGroupStats,
  type StatsReplyBuilder,
} from "../openflow/mod.ts";

export {
  decodeGroupMod,
  decodeGroupMod15,
  NXST_GROUP,
  NXST_GROUP_DESC,
  NXST_GROUP_FEATURES,
  NXT_GROUP_MOD,
  OFPMP_GROUP,
  OFPMP_GROUP_DESC,
  OFPMP_GROUP_FEATURES,
} from "../openflow/mod.ts";

/** A group as a connection reports it. */
export interface GroupView {
  group: Group;
  stats: GroupStats;
  /** Rules whose actions use the group. */
  refCount: number;
  ageMs: number;
}

const OFPG_ALL = 0xfffffffc;

/** A connection's group-mod on `tables`; a refusal is the OFPT_ERROR OVS sends. */
export function groupModOn(tables: OfTables, gm: GroupMod, nowMs: number): TablesUpdate | null {
  try {
    return tables.groupMods([gm], nowMs);
  } catch (e) {
    if (e instanceof GroupModError) throw new OfpError(e.error as OfpErrorName);
    throw e;
  }
}

/** The groups of `tables` as a connection reports them. */
export function groupViewsOf(tables: OfTables, nowMs: number): GroupView[] {
  return tables.groups.groups().map((group) => ({
    group,
    stats: tables.groups.stats(group.id)!,
    refCount: groupRefCount(tables, group.id),
    ageMs: Math.max(0, Math.floor(nowMs - tables.groups.createdMs(group.id))),
  }));
}

/**
 * The reply to a group, group-desc or group-features request: OpenFlow
 * 1.1+ multipart `statsType`, or over 1.0 the Nicira stats subtype
 * `nxSubtype` (1.5's desc layout, with a group id to select).
 */
export function groupStats(
  b: StatsReplyBuilder,
  sw: { groups(): GroupView[] },
  statsType: number,
  msg: Uint8Array,
  version: number,
  nxSubtype?: number,
): Uint8Array[] {
  const nx = nxSubtype !== undefined;
  if (nx ? nxSubtype === NXST_GROUP_DESC : statsType === OFPMP_GROUP_DESC) {
    const id = nx ? decodeGroupStatsRequest(msg, 24) : OFPG_ALL;
    for (const g of sw.groups()) {
      if (id !== OFPG_ALL && g.group.id !== id) continue;
      b.add((w) => nx ? putGroupDesc15(w, g.group) : putGroupDesc(w, g.group, version));
    }
  } else if (nx ? nxSubtype === NXST_GROUP : statsType === OFPMP_GROUP) {
    const id = decodeGroupStatsRequest(msg, nx ? 24 : 16);
    for (const g of sw.groups()) {
      if (id !== OFPG_ALL && g.group.id !== id) continue;
      // Nicira's group stats use OpenFlow 1.3's entries, with the duration.
      const v = nx ? 4 : version;
      b.add((w) => putGroupStats(w, g.group.id, g.refCount, g.stats, g.ageMs, v));
    }
  } else {
    b.add((w) => putGroupFeatures(w, version));
  }
  return b.finish();
}

/**
 * Group replies as ovs-ofctl prints them: dump-groups (group desc,
 * ofputil_group_desc_format), dump-group-stats (ofputil_group_stats_format)
 * and a refused group_mod (the OFPT_ERROR and the request it echoes,
 * ofputil_group_mod_format__). Like dump-flows, headers carry no xid.
 */
import { OFP10_VERSION } from "./action_format.ts";
import { formatBucketId, formatGroup, type GroupMod, hasBucketIds, OFPG_ALL } from "./group.ts";
import type { OfTables } from "./tables.ts";
import { formatDuration } from "./rule.ts";
import type { FlowModRefused } from "./tables.ts";
import { formatMatch } from "./match_format.ts";
import { formatActions } from "./action_format.ts";

const versionTag = (version: number) => version === OFP10_VERSION ? "" : ` (OF1.${version - 1})`;

/** How many rules use group `id` in their actions (the group's ref_count). */
export function groupRefCount(tables: OfTables, id: number): number {
  let n = 0;
  for (const r of tables.rules()) {
    if (r.actions.some((a) => a.type === "group" && a.groupId === id)) n++;
  }
  return n;
}

/**
 * dump-groups [GROUP]: OpenFlow 1.1 to 1.4 ask for every group; 1.0 (NX)
 * and 1.5 ask for `groupId` alone when one is given.
 */
export function dumpGroups(tables: OfTables, version: number, groupId = OFPG_ALL): string {
  const head = version === OFP10_VERSION
    ? "NXST_GROUP_DESC reply:"
    : `OFPST_GROUP_DESC reply${versionTag(version)}:`;
  const one = groupId !== OFPG_ALL && hasBucketIds(version);
  const groups = tables.groups.groups().filter((g) => !one || g.id === groupId);
  return [head, ...groups.map((g) => ` ${formatGroup(g, version)}`)].join("\n") + "\n";
}

/** dump-group-stats [group_id=N]: counters, duration and the rules using each group. */
export function dumpGroupStats(
  tables: OfTables,
  version: number,
  groupId: number,
  nowMs: number,
): string {
  const head = version === OFP10_VERSION
    ? "NXST_GROUP reply:"
    : `OFPST_GROUP reply${versionTag(version)}:`;
  const lines = [head];
  for (const g of tables.groups.groups()) {
    if (groupId !== OFPG_ALL && g.id !== groupId) continue;
    const st = tables.groups.stats(g.id)!;
    const age = Math.max(0, Math.floor(nowMs - tables.groups.createdMs(g.id)));
    let s =
      ` group_id=${g.id},duration=${formatDuration(age)},ref_count=${groupRefCount(tables, g.id)}` +
      `,packet_count=${st.packets},byte_count=${st.bytes}`;
    st.buckets.forEach((b, i) => {
      s += `,bucket${i}:packet_count=${b.packets},byte_count=${b.bytes}`;
    });
    lines.push(s);
  }
  return lines.join("\n") + "\n";
}

const COMMAND_NAMES: Record<GroupMod["command"], string> = {
  add: "ADD",
  modify: "MOD",
  add_or_mod: "ADD_OR_MOD",
  delete: "DEL",
  insert_bucket: "INSERT_BUCKET",
  remove_bucket: "REMOVE_BUCKET",
};

/** What ovs-ofctl prints when the switch refuses `gm` with OFPERR `error`. */
export function formatGroupModError(gm: GroupMod, error: string, version: number): string {
  const tag = versionTag(version);
  const msg = version === OFP10_VERSION ? "NXT_GROUP_MOD" : "OFPT_GROUP_MOD";
  const bucketCommand = gm.command === "insert_bucket" || gm.command === "remove_bucket";
  let body = `${COMMAND_NAMES[gm.command]} `;
  if (bucketCommand && hasBucketIds(version)) {
    body += `command_bucket_id:${formatBucketId(gm.commandBucketId)},`;
  }
  body += formatGroup(gm, version, { suppressType: bucketCommand });
  return `OFPT_ERROR${tag}: ${error}\n${msg}${tag}:\n ${body}\n`;
}

/** What ovs-ofctl prints for a refused flow_mod (an add's OFPT_ERROR and the request). */
export function formatFlowModRefused(e: FlowModRefused, version: number): string {
  const tag = versionTag(version);
  const words: Record<string, string> = { add: "ADD", modify: "MOD", delete: "DEL" };
  const fm = e.fm;
  const cmd = (words[fm.command] ?? fm.command.toUpperCase()) + (fm.strict ? "_STRICT" : "");
  return `OFPT_ERROR${tag}: ${e.error}\nOFPT_FLOW_MOD${tag}: ${cmd} ` +
    `${formatMatch(fm.match, fm.priority)} actions=${formatActions(fm.actions ?? [])}\n`;
}

/** What the bucket actions of OVS's group features list, as ovs-ofctl names them per version. */
const FEATURE_ACTIONS_OF10 = "output enqueue set_vlan_vid set_vlan_pcp strip_vlan mod_dl_src " +
  "mod_dl_dst mod_nw_src mod_nw_dst mod_nw_tos mod_tp_src mod_tp_dst";
const FEATURE_ACTIONS_OF11 = "output group set_field strip_vlan push_vlan mod_nw_ttl dec_ttl " +
  "set_mpls_ttl dec_mpls_ttl push_mpls pop_mpls set_queue";

/**
 * dump-group-features (ofputil_group_features_format): every group type,
 * select weights, liveness and chaining, OFPG_MAX groups of each type.
 */
export function dumpGroupFeatures(version: number): string {
  const head = version === OFP10_VERSION
    ? "NXST_GROUP_FEATURES reply:"
    : `OFPST_GROUP_FEATURES reply${versionTag(version)}:`;
  const actions = version === OFP10_VERSION ? FEATURE_ACTIONS_OF10 : FEATURE_ACTIONS_OF11;
  const lines = [head, " Group table:", "    Types:  0xf", "    Capabilities:  0x7"];
  for (const name of ["all", "select", "indirect", "fast failover"]) {
    lines.push(`    ${name} group:`, "       max_groups=0xffffff00", `       actions: ${actions}`);
  }
  return lines.join("\n") + "\n";
}

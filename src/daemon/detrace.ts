/**
 * `ofproto/detrace UFID [pmd=PMD-ID]` (OVS 3.4, commit 600125b2c
 * "ofproto: Add ofproto/detrace command to map UFIDs to OpenFlow."): the
 * OpenFlow rules whose translation built a datapath flow, read from its
 * ukey's xlate cache, as OVS's xlate_xcache_format() prints them. For each
 * udpif: "UFID was not found for DPIF" or "Cache was not found for DPIF"
 * (a ukey not in use, or one no revalidator has cached yet), else the
 * bridge's name at its first table lookup, then a line per lookup: the
 * rule found (ofproto_rule_stats_ds: cookie and table when not 0,
 * duration, stats, match, actions) or "table_id=N, no match", and each
 * group used (ofputil_group_format in OpenFlow 1.5, with the bucket used
 * or, for all and indirect groups, every bucket).
 *
 * Differences from OVS: udpif has no internal table 254, so a miss shows
 * no `table_id=254` drop rule after its "no match"; a rule or group
 * deleted since the cache was made is left out (OVS's cache holds a
 * reference to it). `--format json` gives what OVS 3.4's unixctl gives a
 * command with a text reply: `{"reply-format": "plain", "reply": TEXT}`.
 */
import { registerCommand, timeMsec } from "../lib/mod.ts";
import {
  actionsOverWire,
  decodeGroupStatsId,
  formatActions,
  formatGroup,
  formatMatch,
  OFP10_VERSION,
  OFP15_VERSION,
  type Rule,
} from "../ofproto/mod.ts";
import { XC_GROUP_MARK } from "../xlate/mod.ts";
import {
  allUdpifs,
  detraceUkey,
  parseDetracePmd,
  parseDetraceUfid,
  type XcacheDescription,
} from "../upcall/mod.ts";
import type { Bridge } from "./bridge.ts";

/** ofproto_rule_stats_ds() with offload stats (udpif offloads nothing: 0). */
export function ruleStatsLine(rule: Rule, nowMs: number): string {
  let s = "";
  if (rule.cookie !== 0n) s += `cookie=0x${rule.cookie.toString(16)}, `;
  if (rule.tableId !== 0) s += `table_id=${rule.tableId}, `;
  s += `duration=${Math.floor(Math.max(0, nowMs - rule.createdMs) / 1000)}s, `;
  s += `n_packets=${rule.nPackets}, n_bytes=${rule.nBytes}, `;
  s += "n_offload_packets=0, n_offload_bytes=0, ";
  s += formatMatch(rule.match, rule.priority) + ",";
  s += "actions=" + formatActions(actionsOverWire(rule.actions, OFP10_VERSION, rule.match));
  return s + "\n";
}

/**
 * xlate_xcache_format() over the rules and groups of `bridges` (indexed
 * by id; a description without bridge ids is all `owner`'s): each entry
 * is looked up in its own bridge, and a bridge's name heads each run of
 * entries from it, as OVS prints a table lookup's ofproto when it
 * differs from the previous entry's (a patch port leads into the peer
 * bridge and back).
 */
export function formatXcache(
  d: XcacheDescription,
  owner: Bridge,
  nowMs: number,
  bridges: readonly Bridge[] = [owner],
): string {
  let s = "";
  let last: Bridge | undefined;
  for (let i = 0; i < d.lookups.length; i += 2) {
    const first = d.lookups[i], id = d.lookups[i + 1];
    const bridge = bridges[d.lookupBridges?.[i / 2] ?? -1] ?? owner;
    if (bridge !== last) {
      s += `${bridge.name}\n`;
      last = bridge;
    }
    if (first === XC_GROUP_MARK) s += groupLine(bridge, id);
    else if (id < 0) s += `  table_id=${first}, no match\n`;
    else {
      const rule = bridge.tables.ruleById(id);
      if (rule) s += "  " + ruleStatsLine(rule, nowMs);
    }
  }
  return s;
}

/**
 * An XC_GROUP entry: the group with the bucket the flow used (every
 * bucket for an all or indirect group), as OpenFlow 1.5 prints it; a
 * group deleted since, or changed to have fewer buckets, is left out.
 */
function groupLine(bridge: Bridge, statsId: number): string {
  const { groupId, bucketIndex } = decodeGroupStatsId(statsId);
  const g = bridge.tables.groups.get(groupId);
  if (!g || bucketIndex >= g.buckets.length) return "";
  const opts = bucketIndex < 0 ? {} : { bucketIndex };
  return `  ${formatGroup(g, OFP15_VERSION, opts)}\n`;
}

/** The command's reply: each udpif's part, in all_udpifs order. */
export async function detrace(args: string[], bridges: () => readonly Bridge[]): Promise<string> {
  const ufid = parseDetraceUfid(args[0]);
  const pmd = parseDetracePmd(args[1]);
  let s = "";
  for (const u of allUdpifs()) {
    const r = await detraceUkey(u, ufid, pmd);
    const onUdpif = bridges().filter((b) => b.udpif === u);
    const name = r.kind === "cache" ? r.description.bridge : undefined;
    const owner = onUdpif.find((b) => b.name === name) ?? onUdpif[0];
    if (r.kind === "no-ufid") s += `UFID was not found for ${u.dp.name}\n`;
    else if (r.kind === "no-cache" || !owner) s += `Cache was not found for ${u.dp.name}\n`;
    else {
      owner.drainStats();
      s += formatXcache(r.description, owner, timeMsec(), owner.backer.bridges);
    }
  }
  return s;
}

let source: () => readonly Bridge[] = () => [];
const handler = (args: string[]) => detrace(args, source);
/** unixctl_command_reply()'s wrapping of a text reply for a JSON client (OVS 3.3). */
const plainJson = async (args: string[]) => ({
  "reply-format": "plain",
  reply: await handler(args),
});

/**
 * Registers `ofproto/detrace` over the bridges `bridges` returns when it
 * runs; calling it again only changes that source.
 */
export function registerDetraceCommand(bridges: () => readonly Bridge[]): void {
  source = bridges;
  registerCommand({
    name: "ofproto/detrace",
    usage: "UFID [pmd=PMD-ID]",
    minArgs: 1,
    maxArgs: 2,
    handler,
    json: plainJson,
  });
}

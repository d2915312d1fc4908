/**
 * `ofproto/detrace UFID [pmd=PMD-ID]` (OVS 3.4, commit 600125b2c
 * "ofproto: Add ofproto/detrace command to map UFIDs to OpenFlow."): the
 * OpenFlow rules whose translation built a datapath flow, read from its
 * ukey's xlate cache, as OVS's xlate_xcache_format() prints them. For each
 * udpif: "UFID was not found for DPIF" or "Cache was not found for DPIF"
 * (a ukey not in use, or one no revalidator has cached yet), else the
 * bridge's name at its first table lookup, then a line per lookup: the
 * rule found (ofproto_rule_stats_ds: cookie and table when not 0,
 * duration, stats, match, actions) or "table_id=N, no match".
 *
 * Differences from OVS: udpif has no internal table 254, so a miss shows
 * no `table_id=254` drop rule after its "no match"; a rule deleted since
 * the cache was made is left out (OVS's cache holds a reference to it);
 * groups are not listed (udpif's caches do not record them yet). OVS has
 * no JSON form of this reply (it only wraps the text), so `--format json`
 * is refused, as for udpif's other text-only commands.
 */
import { registerCommand, timeMsec } from "../lib/mod.ts";
import {
  actionsOverWire,
  formatActions,
  formatMatch,
  OFP10_VERSION,
  type Rule,
} from "../ofproto/mod.ts";
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

/** xlate_xcache_format() over `bridge`'s rules. */
export function formatXcache(d: XcacheDescription, bridge: Bridge, nowMs: number): string {
  let s = "";
  let headed = false;
  for (let i = 0; i < d.lookups.length; i += 2) {
    const tableId = d.lookups[i], ruleId = d.lookups[i + 1];
    if (!headed) {
      s += `${d.bridge}\n`;
      headed = true;
    }
    if (ruleId < 0) {
      s += `  table_id=${tableId}, no match\n`;
      continue;
    }
    const rule = bridge.tables.ruleById(ruleId);
    if (rule) s += "  " + ruleStatsLine(rule, nowMs);
  }
  return s;
}

/** The command's reply: each udpif's part, in all_udpifs order. */
export async function detrace(args: string[], bridges: () => readonly Bridge[]): Promise<string> {
  const ufid = parseDetraceUfid(args[0]);
  const pmd = parseDetracePmd(args[1]);
  let s = "";
  for (const u of allUdpifs()) {
    const r = await detraceUkey(u, ufid, pmd);
    const bridge = bridges().find((b) => b.udpif === u);
    if (r.kind === "no-ufid") s += `UFID was not found for ${u.dp.name}\n`;
    else if (r.kind === "no-cache" || !bridge) s += `Cache was not found for ${u.dp.name}\n`;
    else {
      bridge.drainStats();
      s += formatXcache(r.description, bridge, timeMsec());
    }
  }
  return s;
}

let source: () => readonly Bridge[] = () => [];
const handler = (args: string[]) => detrace(args, source);

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
  });
}

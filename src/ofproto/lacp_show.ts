/**
 * lib/lacp.c's texts: `lacp/show` (lacp_print_details) and
 * `lacp/show-stats` (lacp_print_stats), members sorted by name as
 * shash_sort does.
 *
 * Thread-safety: pure functions of a `Lacp.snapshot()`.
 */
import { LACP_COUNTER_LABELS, type LacpInfo, macText, STATE_NAMES } from "./_lacp_pdu.ts";
import type { LacpSnapshot } from "./lacp.ts";

function byName(s: LacpSnapshot): LacpSnapshot["members"] {
  return [...s.members].sort((a, b) => a.name < b.name ? -1 : a.name > b.name ? 1 : 0);
}

const stateText = (v: number) =>
  STATE_NAMES.filter(([bit]) => v & bit).map(([, n]) => ` ${n}`).join("");

function infoLines(who: string, v: LacpInfo): string[] {
  return [
    `  ${who} sys_id: ${macText(v.sysId)}`,
    `  ${who} sys_priority: ${v.sysPriority}`,
    `  ${who} port_id: ${v.portId}`,
    `  ${who} port_priority: ${v.portPriority}`,
    `  ${who} key: ${v.key}`,
    `  ${who} state:${stateText(v.state)}`,
  ];
}

/** lacp_print_details. */
export function lacpShowText(s: LacpSnapshot): string {
  const c = s.config;
  const out = [
    `---- ${c.name} ----`,
    `  status: ${c.active ? "active" : "passive"}${s.negotiated ? " negotiated" : ""}`,
    `  sys_id: ${macText(c.sysId)}`,
    `  sys_priority: ${c.sysPriority}`,
    `  aggregation key: ${c.members[0].key || c.members[0].portId}`,
    `  lacp_time: ${c.fast ? "fast" : "slow"}`,
  ];
  for (const m of byName(s)) {
    out.push(
      "",
      `member: ${m.name}: ${m.status} ${m.attached ? "attached" : "detached"}`,
      `  port_id: ${m.portId}`,
      `  port_priority: ${m.portPriority}`,
      `  may_enable: ${m.mayEnable}`,
      "",
      ...infoLines("actor", m.actor),
      "",
      ...infoLines("partner", m.partner),
    );
  }
  return out.join("\n") + "\n";
}

/** lacp_print_stats. */
export function lacpStatsText(s: LacpSnapshot): string {
  const out = [`---- ${s.config.name} statistics ----`];
  for (const m of byName(s)) {
    out.push("", `member: ${m.name}:`);
    LACP_COUNTER_LABELS.forEach((label, k) => out.push(`  ${label}: ${m.counts[k]}`));
  }
  return out.join("\n") + "\n";
}

/**
 * Test helper: megaflow shapes from the classifier alone. Translation
 * always unwildcards recirc_id, in_port, packet_type, eth_type and (for
 * IP) nw_frag; this adds those bits itself, so that for rules whose actions
 * look at nothing (output, drop) the result is the megaflow OVS installs.
 */
import {
  bytesOf,
  F,
  type FlowKey,
  formatOdpKey,
  newKey,
  parseOdpKey,
} from "../../../src/flow/mod.ts";
import { OfTables } from "../../../src/ofproto/tables.ts";

function alwaysExamined(key: FlowKey, wc: FlowKey): void {
  const w = bytesOf(wc);
  const k = bytesOf(key);
  for (const f of [F.recirc_id, F.in_port, F.packet_type, F.dl_type]) {
    w.fill(0xff, f.off, f.off + f.len);
  }
  const dlType = (k[F.dl_type.off] << 8) | k[F.dl_type.off + 1];
  if (dlType === 0x0800 || dlType === 0x86dd) w[F.nw_frag.off] |= 3;
}

/**
 * The megaflows a datapath would hold after `packets` (oracle packet lines),
 * each packet that no earlier megaflow covers looked up in table 0 of
 * `flows` (tracking `prefixes` if given), printed as datapath flows
 * without stats, sorted.
 */
export function megaflows(flows: string, packets: string, prefixes?: string[]): string[] {
  const t = new OfTables();
  if (prefixes) t.setPrefixFields(prefixes);
  t.addFlows(flows, 0);
  const installed: Array<[FlowKey, FlowKey]> = [];
  const out: string[] = [];
  for (const line of packets.split("\n")) {
    if (!line.trim() || line.startsWith("#") || line.startsWith("!")) continue;
    const key = newKey();
    const wc = newKey();
    parseOdpKey(line.slice(line.indexOf(" ") + 1).replace(/ --len \d+$/, ""), key, newKey());
    const covered = installed.some(([k, m]) => k.every((x, i) => ((x ^ key[i]) & m[i]) === 0));
    if (covered) continue;
    t.lookup(0, key, wc);
    alwaysExamined(key, wc);
    installed.push([key, wc]);
    out.push(formatOdpKey(key, wc));
  }
  return out.sort();
}

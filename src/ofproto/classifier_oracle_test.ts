/**
 * Megaflow shapes against real OVS: each fixture's rules go into a table,
 * each packet that no earlier megaflow covers is looked up, and the
 * resulting wildcards, printed as datapath flows, must equal what OVS 3.1
 * installed. Translation always unwildcards recirc_id, in_port,
 * packet_type, eth_type and (for IP) nw_frag; this test adds those bits
 * itself so that it checks the classifier alone.
 */
import assert from "node:assert/strict";
import { bytesOf, F, type FlowKey, formatOdpKey, newKey, parseOdpKey } from "../flow/mod.ts";
import { OfTables } from "./tables.ts";

const DIR = new URL("../../fixtures/ofproto/megaflows/", import.meta.url);

function alwaysExamined(key: FlowKey, wc: FlowKey): void {
  const w = bytesOf(wc);
  const k = bytesOf(key);
  for (const f of [F.recirc_id, F.in_port, F.packet_type, F.dl_type]) {
    w.fill(0xff, f.off, f.off + f.len);
  }
  const dlType = (k[F.dl_type.off] << 8) | k[F.dl_type.off + 1];
  if (dlType === 0x0800 || dlType === 0x86dd) w[F.nw_frag.off] |= 3;
}

function megaflows(flows: string, packets: string): string[] {
  const t = new OfTables();
  t.addFlows(flows, 0);
  const installed: Array<[FlowKey, FlowKey]> = [];
  const out: string[] = [];
  for (const line of packets.split("\n")) {
    if (!line.trim() || line.startsWith("#") || line.startsWith("!")) continue;
    const key = newKey();
    const wc = newKey();
    parseOdpKey(line.slice(line.indexOf(" ") + 1), key, newKey());
    const covered = installed.some(([k, m]) => k.every((x, i) => ((x ^ key[i]) & m[i]) === 0));
    if (covered) continue;
    t.lookup(0, key, wc);
    alwaysExamined(key, wc);
    installed.push([key, wc]);
    out.push(formatOdpKey(key, wc));
  }
  return out.sort();
}

for (const entry of Deno.readDirSync(DIR)) {
  const dir = new URL(`${entry.name}/`, DIR);
  const read = (f: string) => Deno.readTextFileSync(new URL(f, dir));
  Deno.test(`megaflow masks equal OVS's for ${entry.name}`, () => {
    const expected = read("expected.txt").split("\n").filter((l) => l);
    assert.deepEqual(megaflows(read("flows.txt"), read("packets.txt")), expected);
  });
}

/**
 * Megaflow shapes against real OVS: each fixture's rules go into a table,
 * each packet that no earlier megaflow covers is looked up, and the
 * resulting wildcards, printed as datapath flows, must equal what OVS 3.1
 * installed. Translation always unwildcards recirc_id, in_port,
 * packet_type, eth_type and (for IP) nw_frag; this test adds those bits
 * itself so that it checks the classifier alone.
 */
import assert from "node:assert/strict";
import { megaflows } from "../../tests/support/ofproto/megaflows.ts";

const DIR = new URL("../../fixtures/ofproto/megaflows/", import.meta.url);

for (const entry of Deno.readDirSync(DIR)) {
  const dir = new URL(`${entry.name}/`, DIR);
  const read = (f: string) => Deno.readTextFileSync(new URL(f, dir));
  Deno.test(`megaflow masks equal OVS's for ${entry.name}`, () => {
    const expected = read("expected.txt").split("\n").filter((l) => l);
    let prefixes: string[] | undefined;
    try {
      prefixes = read("prefixes").trim().split(",");
    } catch {
      prefixes = undefined;
    }
    assert.deepEqual(megaflows(read("flows.txt"), read("packets.txt"), prefixes), expected);
  });
}

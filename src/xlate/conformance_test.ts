/**
 * Every translation case recorded from OVS 3.1 (fixtures/xlate): the
 * megaflows our translation installs, as key, mask and actions, equal
 * the ones OVS's datapath held at each dump.
 */
import assert from "node:assert/strict";
import { OfTables } from "../ofproto/mod.ts";
import { Replay } from "../../tests/support/xlate/replay.ts";

const DIR = new URL("../../fixtures/xlate/", import.meta.url);

/**
 * Cases whose rules src/ofproto could not parse when they were recorded,
 * and what was missing; each runs as soon as its rules parse.
 */
const BLOCKED = new Map([
  ["icmp6-nd-target", "the nd_target match field"],
  ["rw-commit-before-output", "mod_tp_dst under a plain `ip` match (OVS accepts it)"],
]);

function rulesParse(text: string): boolean {
  const tables = new OfTables();
  try {
    for (const l of text.split("\n")) if (l.startsWith("flow ")) tables.addFlow(l.slice(5), 0);
    return true;
  } catch {
    return false;
  }
}

for (const entry of [...Deno.readDirSync(DIR)].sort((a, b) => a.name < b.name ? -1 : 1)) {
  if (!entry.name.endsWith(".txt")) continue;
  const name = entry.name.slice(0, -4);
  Deno.test({
    name: `the megaflows of oracle case ${name} equal OVS's`,
    ignore: BLOCKED.has(name) && !rulesParse(Deno.readTextFileSync(new URL(entry.name, DIR))),
    fn() {
      const text = Deno.readTextFileSync(new URL(entry.name, DIR));
      for (const check of new Replay().run(text)) {
        assert.deepEqual(check.actual, check.expected, `dump at line ${check.line}`);
      }
    },
  });
}

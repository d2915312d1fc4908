/**
 * The OpenFlow tables of every recorded conformance case
 * (tests/conformance/cases): load flows.txt as ovs-ofctl add-flows did,
 * replay the case's ovs-ofctl add/mod/del commands and time warps, and
 * compare with the `ovs-ofctl dump-flows br0` OVS printed at the end.
 * Packet counters are left out: they come from traffic, not from here,
 * and so are the cases whose rules learn.
 */
import assert from "node:assert/strict";
import { FlowModRefused, OfTables } from "./tables.ts";
import { OFP10_VERSION, OFP13_VERSION } from "./action_format.ts";
import { type GroupModCommand, parseGroupMod } from "./group.ts";
import { GroupModError } from "./groups.ts";

const ROOT = new URL("../../tests/conformance/cases/", import.meta.url);
const COMMAND =
  /^ovs-ofctl (?:-O OpenFlow1\d )?(--strict )?(add-flow|mod-flows|del-flows) br0(?: '?([^']*)'?)?$/;

const GROUP_COMMAND =
  /^ovs-ofctl (?:-O OpenFlow1(\d) )?(add-group|mod-group|del-groups|insert-buckets|remove-buckets) br0(?: '?([^']*)'?)?$/;
const GROUP_COMMANDS: Record<string, GroupModCommand> = {
  "add-group": "add",
  "mod-group": "modify",
  "del-groups": "delete",
  "insert-buckets": "insert_bucket",
  "remove-buckets": "remove_bucket",
};

const stripCounters = (text: string) =>
  text.trim().split("\n").map((l) => l.replace(/n_packets=\d+, n_bytes=\d+/, "N")).join("\n");

function readOr(url: URL, fallback: string): string {
  try {
    return Deno.readTextFileSync(url);
  } catch {
    return fallback;
  }
}

function tablesAfter(dir: URL): string {
  const args = readOr(new URL("args", dir), "");
  const version = args.includes("OpenFlow1") ? OFP13_VERSION : OFP10_VERSION;
  const t = new OfTables();
  t.addFlows(readOr(new URL("flows.txt", dir), ""), 0, { version });
  let now = 0;
  for (const line of readOr(new URL("packets.txt", dir), "").split("\n")) {
    if (!line.startsWith("!")) continue;
    for (const cmd of line.slice(1).split(";").map((c) => c.trim())) {
      const warp = /^ovs-appctl time\/warp (\d+)/.exec(cmd);
      if (warp) {
        now += Number(warp[1]);
        t.expire(now);
        continue;
      }
      const g = GROUP_COMMAND.exec(cmd);
      if (g) {
        // Groups the cases' flows use; the refusals they show change nothing.
        const v = g[1] === undefined ? OFP10_VERSION : Number(g[1]) + 1;
        try {
          t.groupMods([parseGroupMod(g[3] ?? "", GROUP_COMMANDS[g[2]], v)], now);
        } catch (e) {
          if (!(e instanceof GroupModError) && !(e instanceof Error && e.name === "OfctlError")) {
            throw e;
          }
        }
        continue;
      }
      const m = COMMAND.exec(cmd);
      if (!m) continue;
      const strict = m[1] !== undefined;
      const arg = m[3] ?? "";
      try {
        if (m[2] === "add-flow") t.addFlow(arg, now, { version });
        else if (m[2] === "mod-flows") t.modFlows(arg, strict, now, { version });
        else t.delFlows(arg, strict, { version });
      } catch (e) {
        // A rule naming a missing group is refused by the switch, as in OVS.
        if (!(e instanceof FlowModRefused)) throw e;
      }
    }
  }
  return stripCounters(t.dumpFlows({ version }));
}

const cases = [...Deno.readDirSync(ROOT)].map((e) => e.name).sort();
for (const name of cases) {
  const dir = new URL(`${name}/`, ROOT);
  const expected = readOr(new URL("expected.txt", dir), "");
  const dump = /## ovs-ofctl[^\n]*dump-flows br0\n([\s\S]*?)(?=\n## |$)/.exec(expected);
  // Learned flows come from traffic, which only the full replay
  // (tests/conformance) sends: those cases' tables are checked there.
  if (!dump || readOr(new URL("flows.txt", dir), "").includes("learn(")) continue;
  Deno.test(`the OpenFlow tables end as OVS's in conformance case ${name}`, () => {
    assert.equal(tablesAfter(dir), stripCounters(dump[1]));
  });
}

/**
 * Megaflow shapes of the recorded conformance cases (tests/conformance/cases)
 * whose rules only output or drop, with megaflows enabled and no commands
 * between packets: there the megaflow is the classifier's wildcards plus the
 * fields translation always examines, so the classifier alone must give
 * OVS's dpctl/dump-flows.
 */
import assert from "node:assert/strict";
import { megaflows } from "../../tests/support/ofproto/megaflows.ts";

const ROOT = new URL("../../tests/conformance/cases/", import.meta.url);
/** Actions or matches that make translation look at more than the classifier did. */
const XLATE_WIDENS =
  /normal|set_field|mod_|resubmit|goto|controller|in_port|learn|push|pop|strip|dec_ttl|load|move|table=/i;

function read(dir: URL, f: string): string | undefined {
  try {
    return Deno.readTextFileSync(new URL(f, dir));
  } catch {
    return undefined;
  }
}

for (const name of [...Deno.readDirSync(ROOT)].map((e) => e.name).sort()) {
  const dir = new URL(`${name}/`, ROOT);
  const flows = read(dir, "flows.txt");
  const packets = read(dir, "packets.txt");
  const expected = read(dir, "expected.txt");
  const args = read(dir, "args") ?? "";
  if (flows === undefined || packets === undefined || expected === undefined) continue;
  if (XLATE_WIDENS.test(flows) || packets.includes("!") || args.includes("megaflows")) continue;
  if (/^\S+ [0-9a-f]+$/m.test(packets)) continue;
  const dump = /## ovs-appctl dpctl\/dump-flows\n(?:flow-dump[^\n]*\n)?([\s\S]*?)(?=\n## |$)/
    .exec(expected);
  if (!dump) continue;
  Deno.test(`megaflow masks equal OVS's in conformance case ${name}`, () => {
    const want = dump[1].split("\n").filter((l) => l).map((l) => l.replace(/, packets:.*/, ""));
    assert.deepEqual(megaflows(flows, packets), want.sort());
  });
}

/** Golden help texts: `udpif --help` and each subcommand's `--help`, exit code 0. */
import assert from "node:assert/strict";
import { udpif } from "./_run.ts";

for (
  const args of [[], ["start"], ["appctl"], ["ofctl"], ["flush"], ["set-config"], ["set-port"]]
) {
  Deno.test(`udpif ${[...args, "--help"].join(" ")} prints its help`, async (t) => {
    const r = await udpif([...args, "--help"]);
    assert.equal(r.code, 0);
    assert.equal(r.stderr, "");
    await t.assertSnapshot(r.stdout);
  });
}

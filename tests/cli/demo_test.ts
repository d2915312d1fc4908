/** `udpif demo` runs by itself, tells its story in order, and checks its options. */
import assert from "node:assert/strict";
import { udpif } from "./_run.ts";

Deno.test("udpif demo runs every step on its own and sums up", async () => {
  const r = await udpif(["demo", "--flows", "400", "--burst", "400"]);
  assert.equal(r.code, 0, r.stderr);
  assert.equal(r.stderr, "");
  const headings = r.stdout.split("\n").filter((l) => l.startsWith("== ")).map((l) =>
    l.slice(0, 5)
  );
  assert.deepEqual(headings, ["== 1.", "== 2.", "== 3.", "== 4.", "== 5.", "== 6.", "== 7."]);
  // The four services of the mix need exactly four megaflows, whatever the client.
  assert.match(r.stdout, /\n {2}megaflows after the first pass: 4 for 400 flows\n/);
  assert.match(r.stdout, /\n {2}400 datapath hits, 0 new upcalls\.\n/);
  assert.match(r.stdout, /\n {2}after: .*tcp\(dst=80\), .*actions:4\n/);
  assert.match(r.stdout, /\n {2}after 10000 ms without packets: 0 megaflows left\.\n/);
});

Deno.test("udpif demo refuses a bad size", async () => {
  assert.deepEqual(await udpif(["demo", "--flows", "0"]), {
    code: 2,
    stdout: "",
    stderr: 'udpif: --flows: "0" is not a number from 1 to 100000\n',
  });
});

import assert from "node:assert/strict";
import { parseKnownFailures, readKnownFailures } from "./known_failures.ts";
import { listCases } from "./case.ts";

const HERE = new URL(".", import.meta.url).pathname;

Deno.test("known failures are CASE<TAB>reason lines, comments and blank lines skipped", () => {
  const m = parseKnownFailures("# header\n\nl2-in-port\tudpif start: no such command\n");
  assert.deepEqual([...m], [["l2-in-port", "udpif start: no such command"]]);
});

Deno.test("a known-failure line without a reason, or listed twice, is refused with its line number", () => {
  assert.throws(() => parseKnownFailures("l2-in-port\n"), /known_failures.txt:1: expected/);
  assert.throws(
    () => parseKnownFailures("a\tx\na\ty\n"),
    /known_failures.txt:2: a is listed twice/,
  );
});

Deno.test("every case in known_failures.txt exists", () => {
  const cases = new Set(listCases(`${HERE}cases`));
  for (const name of readKnownFailures(`${HERE}known_failures.txt`).keys()) {
    assert.ok(cases.has(name), `known_failures.txt names ${name}, which is not a case`);
  }
});

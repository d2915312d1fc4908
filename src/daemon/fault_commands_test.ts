import assert from "node:assert/strict";
import { parseKillArgs } from "./fault_commands.ts";

Deno.test("fault/kill-worker reads its arguments and names a bad one", () => {
  assert.deepEqual(parseKillArgs(["handler", "0"]), {
    how: "terminate",
    role: "handler",
    index: 0,
  });
  assert.deepEqual(parseKillArgs(["--throw=after-commit", "handler", "1"]), {
    how: "after-commit",
    role: "handler",
    index: 1,
  });
  assert.deepEqual(parseKillArgs(["--throw", "revalidator", "2"]), {
    how: "section",
    role: "revalidator",
    index: 2,
  });
  assert.deepEqual(parseKillArgs(["--throw=after-delete", "revalidator", "0"]), {
    how: "after-delete",
    role: "revalidator",
    index: 0,
  });
  assert.throws(
    () => parseKillArgs(["--throw=after-delete", "handler", "0"]),
    /after-delete: only a revalidator deletes flows/,
  );
  assert.throws(() => parseKillArgs(["pmd", "0"]), /"pmd" is not handler or revalidator/);
  assert.throws(() => parseKillArgs(["handler", "x1"]), /"x1" is not a worker index/);
  assert.throws(() => parseKillArgs(["--hard", "handler", "1"]), /unknown option "--hard"/);
  assert.throws(() => parseKillArgs(["--throw", "handler"]), /usage: \[--throw\[=before-commit/);
});

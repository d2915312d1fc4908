import assert from "node:assert/strict";
import { unifiedDiff } from "./diff.ts";

Deno.test("equal texts give no diff", () => {
  assert.equal(unifiedDiff("a\nb\n", "a\nb\n"), "");
});

Deno.test("a changed line shows as - and + inside a hunk with three lines of context", () => {
  const a = "1\n2\n3\n4\n5\n6\n7\n8\n";
  const b = "1\n2\n3\n4\nFIVE\n6\n7\n8\n";
  assert.equal(
    unifiedDiff(a, b, ["expected.txt", "udpif"]),
    [
      "--- expected.txt",
      "+++ udpif",
      "@@ -2,7 +2,7 @@",
      " 2",
      " 3",
      " 4",
      "-5",
      "+FIVE",
      " 6",
      " 7",
      " 8",
      "",
    ].join("\n"),
  );
});

Deno.test("distant changes make separate hunks, near ones share one", () => {
  const a = Array.from({ length: 30 }, (_, i) => `l${i}`).join("\n") + "\n";
  const b = a.replace("l2\n", "x2\n").replace("l4\n", "x4\n").replace("l25\n", "x25\n");
  const d = unifiedDiff(a, b);
  assert.equal(d.split("\n").filter((l) => l.startsWith("@@")).length, 2);
  assert.match(d, /^@@ -1,8 \+1,8 @@$/m);
});

Deno.test("lines only added or only removed are counted on their side", () => {
  assert.equal(unifiedDiff("", "new\n"), "--- expected\n+++ actual\n@@ -0,0 +1,1 @@\n+new\n");
  assert.equal(unifiedDiff("old\n", ""), "--- expected\n+++ actual\n@@ -1,1 +0,0 @@\n-old\n");
});

Deno.test("a missing final newline is reported, not hidden", () => {
  assert.match(unifiedDiff("a\n", "a"), /final newline/);
});

import assert from "node:assert/strict";
import { errorReason, firstDifference } from "./reason.ts";

Deno.test("the first difference names its section and both lines", () => {
  const ovs = "## ovs-appctl upcall/show\nflows: 2\n## ovs-ofctl dump-flows br0\nx\n";
  const ours = "## ovs-appctl upcall/show\nflows: 2\n## ovs-ofctl dump-flows br0\ny\n";
  assert.equal(
    firstDifference(ovs, ours),
    "differs at 'ovs-ofctl dump-flows br0': OVS 'x', udpif 'y'",
  );
});

Deno.test("output that stops early is reported as the end of output", () => {
  assert.equal(
    firstDifference("## a\nline\n", "## a\n"),
    "differs at 'a': OVS 'line', udpif '(end of output)'",
  );
  assert.match(firstDifference("## a\n", "## a\nextra\nmore\n"), /OVS '\(end of output\)'/);
});

Deno.test("an error reason is its first line, without tabs, clipped", () => {
  assert.equal(errorReason(new Error("udpif start failed\tx\ndetails")), "udpif start failed x");
  assert.equal(errorReason("x".repeat(500)).length, 200);
});

import assert from "node:assert/strict";
import { coverageDelta, coverageLines, coverageTotals } from "./coverage.ts";

const BEFORE =
  `Event coverage, avg rate over last: 5 seconds, last minute, last hour,  hash=8f9e6d4c:
rev_reconfigure            0.2/sec     0.017/sec        0.0003/sec   total: 1
xlate_actions              1.0/sec     0.083/sec        0.0014/sec   total: 5
dpif_flow_put              5.2/sec     0.433/sec        0.0072/sec   total: 26
poll_create_node          12.0/sec     1.000/sec        0.0200/sec   total: 99
netdev_sent                1.2/sec     0.100/sec        0.0017/sec   total: 6
117 events never hit
`;

const AFTER =
  `Event coverage, avg rate over last: 5 seconds, last minute, last hour,  hash=0c0ffee0:
rev_reconfigure            0.2/sec     0.017/sec        0.0003/sec   total: 1
xlate_actions              1.0/sec     0.083/sec        0.0014/sec   total: 9
dpif_flow_put              5.2/sec     0.433/sec        0.0072/sec   total: 27
upcall_flow_limit_hit      0.0/sec     0.000/sec        0.0000/sec   total: 3
poll_create_node          12.0/sec     1.000/sec        0.0200/sec   total: 150
netdev_sent                1.2/sec     0.100/sec        0.0017/sec   total: 6
117 events never hit
`;

Deno.test("only the upcall, revalidator, dpif and datapath counters are kept", () => {
  const names = coverageTotals(BEFORE).map(([n]) => n);
  assert.deepEqual(names, ["rev_reconfigure", "xlate_actions", "dpif_flow_put", "netdev_sent"]);
  assert.equal(coverageLines(AFTER).length, 5);
});

Deno.test("the delta lists changed counters in the final order, new counters counted from zero", () => {
  assert.deepEqual(coverageDelta(coverageTotals(BEFORE), coverageTotals(AFTER)), [
    "xlate_actions +4",
    "dpif_flow_put +1",
    "upcall_flow_limit_hit +3",
  ]);
});

Deno.test("a counter that went down prints as the oracle's awk does", () => {
  assert.deepEqual(coverageDelta([["dpif_flow_del", 5]], [["dpif_flow_del", 2]]), [
    "dpif_flow_del +-3",
  ]);
});

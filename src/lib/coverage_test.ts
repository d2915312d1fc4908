import assert from "node:assert/strict";
import {
  attachCoverage,
  COVERAGE_NAME_BYTES,
  coverageBuffer,
  coverageCounter,
  coverageNames,
} from "./coverage.ts";
import {
  coverageHash,
  coverageRead,
  coverageRun,
  coverageShow,
  coverageTotal,
} from "./coverage_report.ts";

Deno.test("a counter counts increments and additions into its total", () => {
  const c = coverageCounter("test_inc_add");
  const before = coverageTotal("test_inc_add") ?? 0;
  c.inc();
  c.inc();
  c.add(40);
  assert.equal(coverageTotal("test_inc_add"), before + 42);
});

Deno.test("defining a name twice gives the same counter", () => {
  assert.equal(coverageCounter("test_twice"), coverageCounter("test_twice"));
  assert.equal(coverageNames().filter((n) => n === "test_twice").length, 1);
});

Deno.test("an unknown counter has no total", () => {
  assert.equal(coverageTotal("test_never_defined"), undefined);
});

Deno.test("names that are empty, too long or not identifiers are refused", () => {
  assert.throws(() => coverageCounter(""), /bad coverage counter name/);
  assert.throws(() => coverageCounter("x".repeat(COVERAGE_NAME_BYTES + 1)), /bad coverage/);
  assert.throws(() => coverageCounter("has space"), /bad coverage counter name "has space"/);
});

Deno.test("a 32-bit row wrapping between folds is still counted", () => {
  const c = coverageCounter("test_wrap");
  const before = coverageTotal("test_wrap") ?? 0;
  c.add(0xffff_fff0);
  assert.equal(coverageTotal("test_wrap"), before + 0xffff_fff0);
  c.add(0x20);
  assert.equal(coverageTotal("test_wrap"), before + 0x1_0000_0010);
});

Deno.test("the coverage hash matches OVS 3.1 for the same totals", () => {
  // Totals from a real ovs-vswitchd 3.1.0 `coverage/show` that printed hash=61186946.
  const totals: Array<[string, number]> = [
    ["bridge_reconfigure", 2],
    ["ofproto_update_port", 5],
    ["rev_reconfigure", 1],
    ["rev_port_toggled", 1],
    ["ccmap_shrink", 24],
    ["cmap_expand", 37],
    ["cmap_shrink", 26],
    ["dpif_port_add", 4],
    ["dpif_flow_flush", 1],
    ["dpif_flow_get", 24],
    ["dpif_flow_put", 25],
    ["dpif_flow_del", 24],
    ["dpif_execute", 6],
    ["flow_extract", 4],
    ["miniflow_malloc", 8],
    ["hmap_pathological", 2],
    ["hmap_expand", 654],
    ["hmap_shrink", 3],
    ["netdev_get_stats", 4],
    ["txn_unchanged", 1],
    ["txn_incomplete", 6],
    ["txn_success", 3],
    ["poll_create_node", 443],
    ["poll_zero_timeout", 1],
    ["seq_change", 2136],
    ["pstream_open", 3],
    ["stream_open", 1],
    ["unixctl_received", 2],
    ["unixctl_replied", 2],
    ["util_xalloc", 12179],
    ["netlink_received", 2],
    ["netlink_sent", 1],
    ["never_hit_one", 0],
  ];
  const entries = totals.map(([name, total]) => ({
    name,
    total,
    rate5s: 0,
    rateMinute: 0,
    rateHour: 0,
  }));
  assert.equal(coverageHash(entries).toString(16).padStart(8, "0"), "61186946");
});

Deno.test("coverage/show prints OVS's header, one line per hit counter and the never-hit count", () => {
  coverageCounter("test_show_hit").add(7);
  coverageCounter("test_show_never");
  const text = coverageShow();
  const lines = text.split("\n");
  assert.match(
    lines[0],
    /^Event coverage, avg rate over last: 5 seconds, last minute, last hour, {2}hash=[0-9a-f]{8}:$/,
  );
  assert.ok(lines.includes(
    "test_show_hit              0.0/sec     0.000/sec        0.0000/sec   total: 7",
  ));
  assert.ok(!text.includes("test_show_never"));
  const never = coverageRead().filter((e) => e.total === 0).length;
  assert.equal(lines.at(-2), `${never} events never hit`);
  assert.equal(lines.at(-1), "");
});

Deno.test("rates average what was counted over the last 5 s, minute and hour", () => {
  const c = coverageCounter("test_rates");
  coverageRun(1_000_000);
  coverageRun(1_005_000);
  c.add(600);
  coverageRun(1_010_000);
  const e = coverageRead().find((x) => x.name === "test_rates")!;
  assert.equal(e.rate5s, 120);
  assert.equal(e.rateMinute, 10);
  assert.ok(Math.abs(e.rateHour - 600 / 3600) < 1e-9);
  // Two intervals later with nothing counted, the 5 s rate falls to zero.
  coverageRun(1_020_000);
  const later = coverageRead().find((x) => x.name === "test_rates")!;
  assert.equal(later.rate5s, 0);
  assert.equal(later.rateMinute, 10);
});

Deno.test("a worker's counts land in the main thread's totals under the same names", async () => {
  const before = coverageTotal("test_from_worker") ?? 0;
  const src = `
    import { attachCoverage, coverageCounter } from "${
    new URL("./coverage.ts", import.meta.url).href
  }";
    const early = coverageCounter("test_from_worker");
    early.add(3);
    self.onmessage = (e) => {
      attachCoverage(e.data);
      early.inc();
      coverageCounter("test_worker_only").add(5);
      self.postMessage("done");
    };`;
  const url = URL.createObjectURL(new Blob([src], { type: "application/javascript" }));
  const worker = new Worker(url, { type: "module" });
  const done = new Promise((resolve) => (worker.onmessage = resolve));
  worker.postMessage(coverageBuffer());
  await done;
  worker.terminate();
  URL.revokeObjectURL(url);
  assert.equal(coverageTotal("test_from_worker"), before + 4);
  assert.equal(coverageTotal("test_worker_only"), 5);
});

Deno.test("attaching a buffer of the wrong size is refused", () => {
  assert.throws(() => attachCoverage(new SharedArrayBuffer(64)), /coverage buffer must be/);
});

Deno.test("counters are listed in OVS's registration order, whatever order they are defined in", () => {
  coverageCounter("netdev_sent");
  coverageCounter("rev_flow_table");
  coverageCounter("xlate_actions");
  const names = coverageNames();
  const at = (n: string) => names.indexOf(n);
  assert.ok(at("rev_flow_table") < at("xlate_actions"));
  assert.ok(at("xlate_actions") < at("netdev_sent"));
  assert.ok(at("netdev_sent") < at("drop_action_of_pipeline"), "reserved before use");
  assert.ok(at("test_twice") > at("drop_action_of_pipeline"), "udpif's own names come after");
});

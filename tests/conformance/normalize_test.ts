import assert from "node:assert/strict";
import {
  isDatapathFlow,
  maskRealTimeFigures,
  normalize,
  normalizeLine,
  splitLines,
} from "./normalize.ts";
import { listCases } from "./case.ts";

const CASES = new URL("./cases/", import.meta.url).pathname;

Deno.test("ufids go, used times become 0.0s", () => {
  assert.equal(
    normalizeLine(
      "ufid:09e58baa-870c-44da-920d-38594bdd4b67, recirc_id(0),in_port(1), packets:1, bytes:118, used:1.993s, actions:2",
    ),
    "recirc_id(0),in_port(1), packets:1, bytes:118, used:0.0s, actions:2",
  );
  assert.equal(normalizeLine("used:never, actions:drop"), "used:never, actions:drop");
});

Deno.test("ovs-ofctl durations, ages and xids are removed", () => {
  assert.equal(
    normalizeLine(
      " cookie=0x0, duration=5.162s, table=0, n_packets=4, n_bytes=472, idle_age=2, hard_age=1, actions=NORMAL",
    ),
    " cookie=0x0, table=0, n_packets=4, n_bytes=472, actions=NORMAL",
  );
  assert.equal(normalizeLine("NXST_FLOW reply (xid=0x4):"), "NXST_FLOW reply:");
});

Deno.test("upcall/show's dump duration and revalidator thread ids are masked", () => {
  assert.equal(normalizeLine("  dump duration : 17ms"), "  dump duration : <N>ms");
  assert.equal(normalizeLine("  5: (keys 20)"), "  <tid>: (keys 20)");
  assert.equal(normalizeLine("   5: (keys 20)"), "   5: (keys 20)");
});

Deno.test("runs of plain output ports are sorted, action words split the runs", () => {
  assert.equal(normalizeLine("x, used:never, actions:3,100,2"), "x, used:never, actions:2,3,100");
  assert.equal(
    normalizeLine("actions:push_vlan(vid=10,pcp=0),100,3,pop_vlan,2,1"),
    "actions:push_vlan(vid=10,pcp=0),3,100,pop_vlan,1,2",
  );
  assert.equal(
    normalizeLine(
      "in_port(p1), packets:1, bytes:1, used:0.1s, dp:ovs, actions:p3,br0,p2, dp-extra-info:x",
    ),
    "in_port(p1), packets:1, bytes:1, used:0.0s, dp:ovs, actions:br0,p2,p3, dp-extra-info:x",
  );
  assert.equal(normalizeLine("actions:drop"), "actions:drop");
});

Deno.test("coverage/show lines keep only name and total", () => {
  assert.equal(
    normalizeLine("xlate_actions              1.0/sec     0.083/sec        0.0014/sec   total: 5"),
    "xlate_actions total: 5",
  );
});

Deno.test("datapath-flow lines are told apart from ovs-ofctl rules", () => {
  assert.ok(isDatapathFlow("in_port(1), packets:0, bytes:0, used:never, actions:2"));
  assert.ok(!isDatapathFlow(" cookie=0x0, packets:0, bytes:0, actions:2"));
  assert.ok(!isDatapathFlow("flow-dump from the main thread:"));
});

Deno.test("contiguous datapath flows are sorted, coverage totals dropped", () => {
  const raw = [
    "## ovs-appctl dpctl/dump-flows",
    "flow-dump from the main thread:",
    "b, packets:0, bytes:0, used:never, actions:1",
    "a, packets:0, bytes:0, used:never, actions:1",
    "## ovs-appctl coverage/show (upcall/revalidator/dpif/datapath counters; totals since start-up)",
    "cov-total: xlate_actions  1.0/sec 0.0/sec 0.0/sec   total: 5",
    "## coverage delta during the scenario (after the flows were loaded -> end)",
    "xlate_actions +5",
    "",
  ].join("\n");
  assert.equal(
    normalize(raw),
    [
      "## ovs-appctl dpctl/dump-flows",
      "flow-dump from the main thread:",
      "a, packets:0, bytes:0, used:never, actions:1",
      "b, packets:0, bytes:0, used:never, actions:1",
      "## coverage delta during the scenario (after the flows were loaded -> end)",
      "xlate_actions +5",
      "",
    ].join("\n"),
  );
});

Deno.test("lines split on every newline convention; no output for no input", () => {
  assert.deepEqual(splitLines("a\r\nb\rc\n"), ["a", "b", "c"]);
  assert.deepEqual(splitLines("a"), ["a"]);
  assert.equal(normalize(""), "");
  assert.equal(normalize("x"), "x\n");
});

Deno.test("every recorded case's raw.txt normalizes to its expected.txt, as the Python normalizer did", async () => {
  let compared = 0;
  for (const name of listCases(CASES)) {
    let raw: string;
    try {
      raw = await Deno.readTextFile(`${CASES}${name}/raw.txt`);
    } catch {
      continue;
    }
    const expected = await Deno.readTextFile(`${CASES}${name}/expected.txt`);
    assert.equal(normalize(raw), expected, `case ${name}`);
    compared++;
  }
  assert.ok(compared >= 60, `only ${compared} cases have raw.txt`);
});

Deno.test("a running clock's average flow count is masked; everything else stays", () => {
  const show = "  flows         : (current 8) (avg 6) (max 8) (limit 10000)\n";
  assert.equal(
    maskRealTimeFigures(show),
    "  flows         : (current 8) (avg <N>) (max 8) (limit 10000)\n",
  );
});

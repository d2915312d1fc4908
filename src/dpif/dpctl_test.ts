import assert from "node:assert/strict";
import { flowExtract } from "../flow/mod.ts";
import { newKey, parseOdpKey } from "../flow/mod.ts";
import { DummyNetdev } from "../netdev/mod.ts";
import { DpifNetdev } from "./dpif_netdev.ts";
import {
  dpctlAddFlow,
  dpctlDelFlow,
  dpctlDelFlows,
  dpctlDumpFlows,
  DpctlError,
  dpctlGetFlow,
  dpctlModFlow,
  dpctlShow,
  formatUfid,
  parseUfid,
} from "./dpctl.ts";

function bridge() {
  const dp = DpifNetdev.create("dummy", { extract: flowExtract, flowCapacity: 1024 });
  for (const n of ["p1", "p2", "p3"]) dp.portAdd(new DummyNetdev(n));
  dp.portAdd(new DummyNetdev("br0", "dummy-internal"));
  return dp;
}

// The oracle's own sample flow carries eth(): a key without it parses as
// an L3 packet_type in src/flow today and prints differently from OVS.
const FLOW = "recirc_id(0),in_port(1),eth(src=50:54:00:00:00:05,dst=50:54:00:00:00:07)," +
  "eth_type(0x0800),ipv4(frag=no)";

Deno.test("dpctl/show prints the datapath, lookups, flows and ports as OVS does", () => {
  const dp = bridge();
  assert.equal(
    dpctlShow(dp, []),
    "dummy@ovs-dummy:\n  lookups: hit:0 missed:0 lost:0\n  flows: 0\n" +
      "  port 0: ovs-dummy (dummy-internal)\n  port 1: p1 (dummy)\n  port 2: p2 (dummy)\n" +
      "  port 3: p3 (dummy)\n  port 100: br0 (dummy-internal)\n",
  );
  const s = dpctlShow(dp, ["-s"]).split("\n");
  assert.equal(s[4], "    RX packets:0 errors:? dropped:? overruns:? frame:?");
  assert.equal(s[7], "    RX bytes:0  TX bytes:0");
  dp.destroy();
});

Deno.test("dpctl add-flow, mod-flow and del-flow print and change flows like the oracle", () => {
  const dp = bridge();
  assert.equal(dpctlDumpFlows(dp, []), "", "an empty datapath prints nothing");
  assert.equal(dpctlAddFlow(dp, [FLOW, "2"]), "");
  assert.equal(
    dpctlDumpFlows(dp, []),
    "flow-dump from the main thread:\n" +
      "recirc_id(0),in_port(1),eth(src=50:54:00:00:00:05,dst=50:54:00:00:00:07)," +
      "eth_type(0x0800),ipv4(frag=no), packets:0, bytes:0, used:never, actions:2\n",
  );
  assert.throws(() => dpctlAddFlow(dp, [FLOW, "2"]), DpctlError);
  dpctlModFlow(dp, [FLOW, "3"]);
  assert.match(dpctlDumpFlows(dp, []), /actions:3\n$/);
  dpctlDelFlow(dp, [FLOW]);
  assert.equal(dpctlDumpFlows(dp, []), "");
  assert.throws(() => dpctlDelFlow(dp, [FLOW]), /deleting flow \(No such file or directory\)/);
  dp.destroy();
});

Deno.test("dpctl get-flow and del-flow find a flow by its ufid", () => {
  const dp = bridge();
  dpctlAddFlow(dp, [FLOW, "2"]);
  const line = dpctlDumpFlows(dp, ["-m"]).split("\n")[1];
  const ufid = /^ufid:([0-9a-f-]+), /.exec(line)![1];
  assert.match(line, /dp:ovs, actions:p2, dp-extra-info:miniflow_bits\(\d+,\d+\)$/);
  assert.equal(dpctlGetFlow(dp, [`ufid:${ufid}`]), line + "\n");
  dpctlDelFlow(dp, [`ufid:${ufid}`]);
  assert.equal(dpctlDumpFlows(dp, []), "");
  dpctlAddFlow(dp, [FLOW, "2"]);
  dpctlDelFlows(dp, []);
  assert.equal(dp.getStats().flows, 0);
  dp.destroy();
});

Deno.test("ufids print and parse as UUIDs", () => {
  const u = Uint32Array.of(0xb7cb35d9, 0x9d6d4fd9, 0xab671ba7, 0x9f26d75d);
  assert.equal(formatUfid(u), "b7cb35d9-9d6d-4fd9-ab67-1ba79f26d75d");
  assert.deepEqual(parseUfid("ufid:b7cb35d9-9d6d-4fd9-ab67-1ba79f26d75d"), u);
  assert.equal(parseUfid("nope"), null);
});

Deno.test("dump-flows filter= keeps flows equal to the filter on the fields both match", () => {
  const dp = bridge();
  dpctlAddFlow(dp, [FLOW, "2"]);
  // The caller's parser: here "in_port=N" only, as key/mask words.
  const parseFilter = (text: string) => {
    const m = /^in_port=(\d+)$/.exec(text);
    if (!m) throw new Error(`${text}: unknown field ${text.split("=")[0]}`);
    const key = newKey(), mask = newKey();
    parseOdpKey(`in_port(${m[1]})`, key, mask);
    return { key, mask };
  };
  assert.match(dpctlDumpFlows(dp, ["filter=in_port=1"], { parseFilter }), /actions:2/);
  assert.equal(dpctlDumpFlows(dp, ["filter=in_port=2"], { parseFilter }), "");
  assert.throws(
    () => dpctlDumpFlows(dp, ["filter=garbage"], { parseFilter }),
    /^Error: ovs-vswitchd: Failed to parse filter \(garbage: unknown field garbage\)$/,
  );
  dp.destroy();
});

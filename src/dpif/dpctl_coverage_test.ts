import assert from "node:assert/strict";
import { flowExtract } from "../flow/mod.ts";
import { coverageTotal } from "../lib/mod.ts";
import { DummyNetdev } from "../netdev/mod.ts";
import { DpifNetdev } from "./dpif_netdev.ts";
import { dpctlAddFlow, dpctlDelFlow, dpctlDelFlows } from "./dpctl.ts";

const NAMES = ["dpif_flow_put", "dpif_flow_del", "dpif_flow_flush"];

Deno.test("dpctl's flow commands count dpif_flow_put, dpif_flow_del and dpif_flow_flush as OVS's do", () => {
  const dp = DpifNetdev.create("dummy", { extract: flowExtract, flowCapacity: 64 });
  dp.portAdd(new DummyNetdev("p1"));
  dp.portAdd(new DummyNetdev("p2"));
  const flow = "recirc_id(0),in_port(1),eth(src=50:54:00:00:00:05,dst=50:54:00:00:00:07)," +
    "eth_type(0x0800),ipv4(frag=no)";
  const base = NAMES.map((n) => coverageTotal(n) ?? 0);
  const since = () => NAMES.map((n, i) => (coverageTotal(n) ?? 0) - base[i]);
  dpctlAddFlow(dp, [flow, "2"]);
  dpctlDelFlow(dp, [flow]);
  assert.deepEqual(since(), [1, 1, 0]);
  dpctlDelFlows(dp, []);
  assert.deepEqual(since(), [1, 1, 1]);
  dp.destroy();
});

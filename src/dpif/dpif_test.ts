import assert from "node:assert/strict";
import { flowExtract, newKey, parseOdpKey } from "../flow/mod.ts";
import {
  COVERAGE_MAX_COUNTERS,
  COVERAGE_SEEN_WORDS,
  coverageCounter,
  coverageFold,
} from "../lib/mod.ts";
import { DummyNetdev } from "../netdev/mod.ts";
import { Dpif } from "./dpif.ts";
import { DpifNetdev } from "./dpif_netdev.ts";
import { EEXIST, PUT_CREATE } from "./protocol.ts";
import type { DpifOp } from "./provider.ts";

function counts(): (name: string) => number {
  const sums = new Float64Array(COVERAGE_MAX_COUNTERS);
  coverageFold(sums, new Uint32Array(COVERAGE_SEEN_WORDS));
  return (name) => sums[coverageCounter(name).slot];
}

Deno.test("the dpif wrapper counts each call under OVS's coverage names", () => {
  const dpif = new Dpif(DpifNetdev.create("dummy", { extract: flowExtract, flowCapacity: 256 }));
  const before = counts();
  dpif.portAdd(new DummyNetdev("p1"));
  const key = newKey(), mask = newKey();
  parseOdpKey("recirc_id(0),in_port(1),eth_type(0x0800),ipv4(frag=no)", key, mask);
  const put = (): DpifOp => ({ type: "put", flags: PUT_CREATE, key, mask, actions: [] });
  const ops = [put(), put()];
  dpif.operate(ops);
  assert.deepEqual(ops.map((o) => o.error), [0, EEXIST]);
  dpif.operate([{ type: "del", key }]);
  assert.equal(dpif.flowPut({ flags: PUT_CREATE, key, mask, actions: [] }).error, 0);
  assert.equal(dpif.flowGet(dpif.flowDel(undefined, key).flow!.ufid).error, 2);
  assert.equal(dpif.execute(new Uint8Array(64), 1, [{ type: "output", port: 1 }]), 0);
  dpif.flowFlush();
  const after = counts();
  const want = {
    dpif_port_add: 1,
    dpif_flow_put: 3,
    dpif_flow_del: 2,
    dpif_flow_get: 1,
    dpif_execute: 1,
    dpif_flow_flush: 1,
  };
  for (const [name, n] of Object.entries(want)) {
    assert.equal(after(name) - before(name), n, name);
  }
  dpif.destroy();
});

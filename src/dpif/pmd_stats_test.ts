import assert from "node:assert/strict";
import { flowExtract } from "../flow/mod.ts";
import { DummyNetdev } from "../netdev/mod.ts";
import { dpctlAddFlow } from "./dpctl.ts";
import { DpifNetdev } from "./dpif_netdev.ts";
import { pmdStatsShow } from "./pmd_stats.ts";
import { udpFrame } from "../../tests/support/dpif/test_extract.ts";

Deno.test("pmd-stats-show counts receptions, hits, upcalls and output batches; clear restarts them", () => {
  const dp = DpifNetdev.create("dummy", { extract: flowExtract, flowCapacity: 64 });
  const p1 = new DummyNetdev("p1");
  dp.portAdd(p1);
  dp.portAdd(new DummyNetdev("p2"));
  dpctlAddFlow(dp, [
    "recirc_id(0),in_port(1),eth(dst=50:54:00:00:00:07),eth_type(0x0800),ipv4(frag=no)",
    "2",
  ]);
  p1.receive([udpFrame(1, 7, 1, 2), udpFrame(2, 7, 1, 2), udpFrame(3, 8, 1, 2)]);
  assert.equal(
    pmdStatsShow(dp),
    "main thread:\n  packets received: 3\n  packet recirculations: 0\n" +
      "  avg. datapath passes per packet: 1.00\n  phwol hits: 0\n  mfex opt hits: 0\n" +
      "  simple match hits: 0\n  emc hits: 0\n  smc hits: 0\n  megaflow hits: 2\n" +
      "  avg. subtable lookups per megaflow hit: 1.00\n  miss with success upcall: 1\n" +
      "  miss with failed upcall: 0\n  avg. packets per output batch: 2.00\n",
  );
  dp.pmdStatsClear();
  assert.match(pmdStatsShow(dp), /packets received: 0\n.*passes per packet: 0\.00/s);
  assert.deepEqual([dp.getStats().hit, dp.getStats().missed], [0, 0]);
  dp.destroy();
});

import assert from "node:assert/strict";
import { exactField, F, FLOW_WORDS } from "../flow/mod.ts";
import { DummyNetdev } from "../netdev/mod.ts";
import { flowExtract, udpFrame } from "../../tests/support/dpif/test_extract.ts";
import { DpifNetdev } from "./dpif_netdev.ts";
import { dpctlDumpFlows } from "./dpctl.ts";
import { ENOENT, PUT_CREATE } from "./protocol.ts";
import { DpifUpcall } from "./upcall.ts";
import { pmdRxqShow } from "./pmd_rxq.ts";
import { pmdStatsShow } from "./pmd_stats.ts";

/** A dummy datapath with PMDs on cores 0 and 1, and p1 (2 rx queues), p2 (3), p3 (1). */
function setup() {
  const dp = DpifNetdev.create("dummy", {
    extract: flowExtract,
    flowCapacity: 256,
    upcallQueueWords: 1 << 14,
    pmdCores: [0, 1],
  });
  dp.handlersSet(2);
  const ports = [["p1", 2], ["p2", 3], ["p3", 1]].map(([name, n]) => {
    const d = new DummyNetdev(name as string, "dummy", { recordTx: true });
    d.nRxq = n as number;
    dp.portAdd(d);
    return d;
  });
  return { dp, p1: ports[0], p2: ports[1], p3: ports[2] };
}

function inPortMask(): Uint32Array {
  const m = new Uint32Array(FLOW_WORDS);
  exactField(new Uint8Array(m.buffer), F.in_port);
  return m;
}

/** Takes every upcall waiting on handlers 0 and 1: [handler, pmd, in_port]. */
function drainUpcalls(dp: DpifNetdev): number[][] {
  const up = new DpifUpcall(), got: number[][] = [];
  for (let h = 0; h < 2; h++) while (dp.recv(h, up)) got.push([h, up.pmd, up.inPort]);
  return got;
}

Deno.test("rx queues go to PMDs as OVS's cycles assignment: up-and-down over sorted queues", () => {
  const { dp } = setup();
  // OVS 3.1 with pmd-cpu-mask=3 and these n_rxq prints exactly this (before any interval ends).
  assert.equal(
    pmdRxqShow(dp, []),
    "Displaying last 60 seconds pmd usage %\n" +
      "pmd thread numa_id 0 core_id 0:\n  isolated : false\n" +
      "  port: p1                queue-id:  0 (enabled)   pmd usage: NOT AVAIL\n" +
      "  port: p2                queue-id:  1 (enabled)   pmd usage: NOT AVAIL\n" +
      "  port: p2                queue-id:  2 (enabled)   pmd usage: NOT AVAIL\n" +
      "  overhead: NOT AVAIL\n" +
      "pmd thread numa_id 0 core_id 1:\n  isolated : false\n" +
      "  port: p1                queue-id:  1 (enabled)   pmd usage: NOT AVAIL\n" +
      "  port: p2                queue-id:  0 (enabled)   pmd usage: NOT AVAIL\n" +
      "  port: p3                queue-id:  0 (enabled)   pmd usage: NOT AVAIL\n" +
      "  overhead: NOT AVAIL\n",
  );
  dp.setRxqAssign("roundrobin");
  dp.rxqRebalance();
  assert.deepEqual(
    dp.rxqList().map((q) => `${q.name}:${q.queue}@${q.pmd}`),
    ["p1:0@0", "p1:1@1", "p2:0@0", "p2:1@1", "p2:2@0", "p3:0@1"],
  );
  assert.equal(pmdRxqShow(dp, ["-pmd", "7"]), "", "no PMD on core 7");
  dp.destroy();
});

Deno.test("a miss goes up from the PMD polling its queue; its flow lives in that PMD only", () => {
  const { dp, p1, p2 } = setup();
  p1.receive([udpFrame(1, 2, 1000, 2000)]); // p1 queue 0: core 0
  p2.receive([udpFrame(3, 4, 1000, 2000)]); // p2 queue 0: core 1
  const ups = drainUpcalls(dp);
  assert.deepEqual(ups.map(([h, pmd, port]) => `${h}:${pmd}:${port}`).sort(), ["0:0:1", "1:1:2"]);
  const key = new Uint32Array(FLOW_WORDS);
  const frame = udpFrame(1, 2, 1000, 2000);
  flowExtract(frame, frame.length, 1, key);
  const put = dp.flowPut({ flags: PUT_CREATE, key, mask: inPortMask(), actions: [], pmd: 0 });
  assert.equal(put.error, 0);
  assert.equal(dp.flowGet(put.flow!.ufid, 1).error, ENOENT, "PMD 1 has no such flow");
  assert.equal(dp.flowGet(put.flow!.ufid).error, 0, "without a PMD, the first that has it answers");
  // The same megaflow may exist in several PMDs, each with its own stats.
  assert.equal(
    dp.flowPut({ flags: PUT_CREATE, key, mask: inPortMask(), actions: [], pmd: 1 }).error,
    0,
  );
  p1.receive([frame], 1); // p1 queue 1: core 1
  p1.receive([frame, frame], 0);
  dp.run();
  assert.equal(drainUpcalls(dp).length, 0, "both PMDs hit their copy");
  assert.equal(dp.portStats(1)[0], 4, "p1's rx packets, counted by both PMDs, add up");
  const dump = dpctlDumpFlows(dp, []);
  assert.match(
    dump,
    /^flow-dump from pmd on cpu core: 0\n.*packets:2, .*\nflow-dump from pmd on cpu core: 1\n.*packets:1, /s,
  );
  assert.equal(dpctlDumpFlows(dp, ["pmd=1"]).split("\n").filter((l) => l).length, 1);
  assert.equal(dpctlDumpFlows(dp, ["pmd=-1"]), "", "no flows on the main thread");
  // A del without a PMD removes it everywhere; from a PMD without it, ENOENT.
  assert.equal(dp.flowDel(put.flow!.ufid, undefined, 1).error, 0);
  assert.equal(dp.flowDel(put.flow!.ufid).error, ENOENT, "PMD 1's copy is gone");
  assert.equal(dp.getStats().flows, 0);
  const stats = pmdStatsShow(dp);
  assert.ok(stats.startsWith("pmd thread numa_id 0 core_id 0:\n  packets received: 3\n"));
  assert.ok(stats.includes("pmd thread numa_id 0 core_id 1:\n  packets received: 2\n"));
  assert.ok(
    stats.includes("main thread:\n  packets received: 0\n"),
    "OVS lists its main thread last",
  );
  assert.equal(pmdStatsShow(dp, 1).split("\n")[0], "pmd thread numa_id 0 core_id 1:");
  dp.destroy();
});

Deno.test("each PMD needs a handler of its own", () => {
  const { dp } = setup();
  assert.throws(() => dp.handlersSet(1), /at least 2/);
  dp.destroy();
});

Deno.test("a queue moved to another PMD by a rebalance is read on from where the old one stopped", () => {
  const { dp, p2 } = setup();
  p2.receive([udpFrame(3, 4, 1000, 2000)]); // p2 queue 0: core 1 under cycles
  assert.deepEqual(drainUpcalls(dp).map(([, pmd]) => pmd), [1]);
  dp.setRxqAssign("roundrobin");
  dp.rxqRebalance(); // p2 queue 0 goes to core 0
  dp.run();
  assert.deepEqual(drainUpcalls(dp), [], "the packet core 1 took is not taken again");
  p2.receive([udpFrame(5, 6, 1000, 2000)]);
  assert.deepEqual(drainUpcalls(dp).map(([, pmd]) => pmd), [0]);
  dp.destroy();
});

/**
 * A system port with several rx queues (options:n_rxq): one AF_PACKET
 * socket per queue in a PACKET_FANOUT group, each queue polled by the PMD
 * it is assigned to. UDP frames of many 5-tuples sent into the port from
 * the test's own namespace are spread by the kernel over the queues, so
 * both PMDs receive some. Needs root.
 */
import assert from "node:assert/strict";
import { SystemNetdev } from "../netdev/mod.ts";
import { DpifNetdev } from "./dpif_netdev.ts";
import { pollUntil } from "../../tests/poll.ts";
import { udpFrame } from "../../tests/support/dpif/test_extract.ts";
import { vethSkipReason, VethTopology } from "../../tests/support/veth_topology.ts";
import { rawSend } from "../../tests/support/traffic.ts";

const skip = vethSkipReason();
if (skip) console.log(`dpif_fanout_test: skipped: ${skip}`);

const hex = (f: Uint8Array) => [...f].map((b) => b.toString(16).padStart(2, "0")).join("");

Deno.test({
  name: "a system port's rx queues share a fanout group: 5-tuples spread over both PMDs",
  ignore: skip !== undefined,
  async fn() {
    const topo = await VethTopology.create({ hosts: 1 });
    const dp = DpifNetdev.create("netdev", { flowCapacity: 64, pmdCores: [0, 1] });
    let port: SystemNetdev | undefined;
    try {
      await dp.ready();
      dp.setRxqAssign("roundrobin");
      port = SystemNetdev.open(topo.ports[0], { nRxq: 4, offloads: false });
      assert.equal(port.nRxq, 4);
      dp.portAdd(port);
      const queues = dp.rxqList().filter((q) => q.name === topo.ports[0]);
      assert.deepEqual(queues.map((q) => [q.queue, q.pmd]), [[0, 0], [1, 1], [2, 0], [3, 1]]);

      const frames = Array.from({ length: 64 }, (_, i) => hex(udpFrame(5, 7, 1000 + i, 80)));
      await rawSend(topo, 0, topo.hosts[0].ifname, frames);
      const rx = (k: number) => dp.pmdStats(k).packetsReceived;
      await pollUntil(() => rx(0) + rx(1) >= frames.length, "every frame received");
      // Each flow-op reply comes after a poll round of that PMD, and a
      // round reads up to 32 frames per socket: after 8 of each, every
      // socket is drained. Sockets outside a fanout group would each have
      // had every frame (4 times as many).
      const ufid = new Uint32Array(4).fill(0x5a5a5a5a);
      for (let i = 0; i < 8; i++) for (const k of [0, 1]) dp.flowGet(ufid, k);
      assert.ok(rx(0) > 0 && rx(1) > 0, `both PMDs received (${rx(0)}, ${rx(1)})`);
      assert.ok(rx(0) + rx(1) < 2 * frames.length, `each frame once (${rx(0)} + ${rx(1)})`);
    } finally {
      dp.destroy();
      port?.close();
      await topo.destroy();
    }
  },
});

Deno.test("a system port's n_rxq must be a positive integer", () => {
  assert.throws(() => SystemNetdev.open("lo", { nRxq: 0 }), /lo: n_rxq must be 1 or more, not 0/);
});

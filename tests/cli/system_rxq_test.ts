/**
 * A system port with several rx queues (options:n_rxq=4: sockets of one
 * PACKET_FANOUT group) through the real daemon with two PMD threads, in
 * namespaces of the test's own (the daemon in H, the veth to host P):
 * pmd-rxq-show lists the port's four queues spread over both PMDs,
 * traffic crosses the bridge, and it goes on crossing while pmd-cpu-mask
 * changes at run time take a PMD away and bring it back. Needs root.
 */
import assert from "node:assert/strict";
import { pollUntilAsync } from "../poll.ts";
import { udpExchange } from "../support/traffic.ts";
import { vethSkipReason, VethTopology } from "../support/veth_topology.ts";
import { TestDaemon } from "./_run.ts";

const skip = vethSkipReason();
if (skip) console.log(`system_rxq_test: skipped: ${skip}`);

/** The port's queues as pmd-rxq-show lists them: "core:queue" pairs. */
async function queuesOf(d: TestDaemon, port: string): Promise<string[]> {
  const r = await d.run(["dpif-netdev/pmd-rxq-show"]);
  assert.equal(r.code, 0, r.stderr);
  const out: string[] = [];
  let core = "";
  for (const line of r.stdout.split("\n")) {
    const c = /core_id (\d+):/.exec(line);
    if (c) core = c[1];
    const q = new RegExp(`port: ${port} +queue-id: +(\\d+)`).exec(line);
    if (q) out.push(`${core}:${q[1]}`);
  }
  return out;
}

async function queuesBecome(d: TestDaemon, port: string, want: string[]): Promise<void> {
  let last: string[] = [];
  await pollUntilAsync(async () => {
    last = await queuesOf(d, port);
    return last.join(" ") === want.join(" ");
  }, `${port}'s queues on ${want.join(" ")} (last: ${last.join(" ")})`);
}

Deno.test({
  name: "a system port's fanout rx queues carry traffic across live PMD changes",
  ignore: skip !== undefined,
  async fn() {
    const w = await VethTopology.create({ hosts: 1, switchNamespace: true, subnet: 97 });
    let d: TestDaemon | undefined;
    try {
      d = await TestDaemon.start(
        [
          "--bridge",
          w.bridge,
          "--port",
          `${w.ports[0]},type=system,n_rxq=4`,
          "--other-config",
          "pmd-cpu-mask=3",
          "--other-config",
          "pmd-rxq-assign=roundrobin",
        ],
        { netns: w.switchNetns! },
      );
      assert.equal((await d.run(["ofctl", "add-flow", w.bridge, "actions=NORMAL"])).code, 0);
      await w.switchAddress(w.bridge);
      const port = w.ports[0];
      assert.deepEqual(await queuesOf(d, port), ["0:0", "0:2", "1:1", "1:3"]);
      const udp = (n: number) => udpExchange(w, w.switchNetns!, 0, w.hosts[0].ip, n);
      assert.match(await udp(7001), /^hello \d+$/);

      await d.run(["config/set", "pmd-cpu-mask=1"]);
      await queuesBecome(d, port, ["0:0", "0:1", "0:2", "0:3"]);
      assert.match(await udp(7002), /^hello \d+$/, "traffic after core 1's PMD went");

      await d.run(["config/set", "pmd-cpu-mask=3"]);
      await queuesBecome(d, port, ["0:0", "0:2", "1:1", "1:3"]);
      assert.match(await udp(7003), /^hello \d+$/, "traffic after it came back");
    } finally {
      await d?.stop();
      await w.destroy();
    }
  },
});

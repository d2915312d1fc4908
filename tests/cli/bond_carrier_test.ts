/**
 * A system port's carrier, not only `mod-port`, decides whether it is
 * live (ofproto-dpif port_run's may_enable): the daemon runs in a
 * namespace of the test's own with two veths, each leading to a host
 * namespace; the two are the members of an active-backup bond and the
 * watch ports of a fast_failover group. Setting host A's end down takes
 * the carrier from the daemon's end: the bond disables that member and
 * makes the other active, the group's first bucket stops being live, and
 * both come back when the end is up again. Needs root.
 */
import assert from "node:assert/strict";
import { pollUntilAsync } from "../poll.ts";
import { mustRun, vethSkipReason, VethTopology } from "../support/veth_topology.ts";
import { ok, TestDaemon } from "./_run.ts";

const skip = vethSkipReason();
if (skip) console.log(`bond_carrier_test: skipped: ${skip}`);

Deno.test({
  name: "a veth whose peer goes down disables its bond member and fast_failover bucket",
  ignore: skip !== undefined,
  fn: async () => {
    const w = await VethTopology.create({ hosts: 2, switchNamespace: true, subnet: 81 });
    let d: TestDaemon | undefined;
    try {
      const [a, b] = w.ports;
      d = await TestDaemon.start([
        "--bridge",
        w.bridge,
        ...["--port", `${a}:1,type=system`, "--port", `${b}:2,type=system`],
        ...["--port", `bond0,type=bond,members=${a}+${b},bond_mode=active-backup`],
      ], { netns: w.switchNetns! });
      await ok(d, [
        "ofctl",
        "add-group",
        w.bridge,
        "group_id=1,type=fast_failover,bucket=watch_port:1,output:1,bucket=watch_port:2,output:2",
      ]);
      await ok(d, ["ofctl", "add-flow", w.bridge, "in_port=LOCAL,actions=group:1"]);
      const trace = () => ok(d!, ["ofproto/trace", w.bridge, "in_port=LOCAL"]);
      const bond = () => ok(d!, ["bond/show", "bond0"]);
      const odp = async (name: string) => {
        const m = new RegExp(`port (\\d+): ${name}\\b`).exec(await ok(d!, ["dpctl/show"]));
        assert.ok(m, `${name} in dpctl/show`);
        return m[1];
      };
      const [odpA, odpB] = [await odp(a), await odp(b)];
      await pollUntilAsync(async () => {
        const s = await bond();
        return s.includes(`member ${a}: enabled\n  active member\n`) &&
          s.includes(`member ${b}: enabled\n`);
      }, "both members enabled, A active");
      assert.match(await trace(), new RegExp(`Datapath actions: ${odpA}\n`));

      await mustRun(["ip", "-n", w.hosts[0].netns, "link", "set", w.hosts[0].ifname, "down"]);
      await pollUntilAsync(
        async () => (await bond()).includes(`member ${a}: disabled\n  may_enable: false\n`),
        "A's member disabled when its carrier goes",
      );
      assert.match(await bond(), new RegExp(`member ${b}: enabled\n  active member\n`));
      assert.match(await trace(), new RegExp(`Datapath actions: ${odpB}\n`));
      assert.match(
        await ok(d, ["appctl", "port/show", a]),
        /link_state {10}: down\n/,
      );
      // The OpenFlow port description says so too (state LINK_DOWN).
      assert.match(
        await ok(d, ["ofctl", "dump-ports-desc", w.bridge]),
        new RegExp(
          `\\n 1\\(${a}\\): addr:[0-9a-f:]+\\n {5}config: {5}0\\n {5}state: {6}LINK_DOWN\\n`,
        ),
      );

      await mustRun(["ip", "-n", w.hosts[0].netns, "link", "set", w.hosts[0].ifname, "up"]);
      await pollUntilAsync(
        async () => (await bond()).includes(`member ${a}: enabled\n`),
        "A's member enabled again with its carrier",
      );
      assert.match(await trace(), new RegExp(`Datapath actions: ${odpA}\n`));
      assert.match(await bond(), new RegExp(`member ${b}: enabled\n  active member\n`));
    } finally {
      await d?.stop();
      await w.destroy();
    }
  },
});

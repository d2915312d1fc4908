/**
 * Port statuses (OFPT_PORT_STATUS) as the real `ovs-ofctl monitor` prints
 * them: a port added with port/add (ADD), taken down by `udpif ofctl
 * mod-port` and set no-flood by the real ovs-ofctl over its own
 * connection (MOD: before OpenFlow 1.5 only the sender of a port-mod is
 * left out), and deleted with port/del (DEL, with the port as it was).
 */
import assert from "node:assert/strict";
import { ok, TestDaemon } from "../cli/_run.ts";
import { POLL_TIMEOUT_MS, pollUntil } from "../poll.ts";
import { ensureTestDeps } from "../support/veth_topology.ts";
import { ofctlMonitor } from "./_monitor.ts";

const STATUS = (what: string, config: string, state: string) =>
  `OFPT_PORT_STATUS (xid=0x0): ${what}: 3(p3): addr:aa:55:aa:55:00:03\n` +
  `     config:     ${config}\n     state:      ${state}\n     speed: 0 Mbps now, 0 Mbps max\n`;

Deno.test("ovs-ofctl monitor sees OVS's port statuses for port/add, mod-port and port/del", async () => {
  await ensureTestDeps();
  const d = await TestDaemon.start();
  const monitor = ofctlMonitor(d);
  const seen = () => monitor.seen();
  try {
    // The monitor asks for async messages once connected: until then a
    // port comes and goes unseen, so add and delete until one is seen.
    const deadline = performance.now() + POLL_TIMEOUT_MS;
    while (!seen().includes("DEL: 3(p3)")) {
      if (performance.now() > deadline) throw new Error("the monitor saw no port status");
      await ok(d, ["port/add", "br0", "p3"]);
      await ok(d, ["port/del", "p3"]);
    }
    // What comes after that status, once its last line is in.
    await pollUntil(() => seen().endsWith("Mbps max\n"), "the whole port status");
    const from = seen().length;
    await ok(d, ["port/add", "br0", "p3"]);
    await ok(d, ["ofctl", "mod-port", "br0", "p3", "down"]);
    const ofctl = await new Deno.Command("ovs-ofctl", {
      args: ["mod-port", "br0", "p3", "no-flood"],
      env: { OVS_RUNDIR: d.dir },
    }).output();
    assert.equal(ofctl.code, 0, new TextDecoder().decode(ofctl.stderr));
    await ok(d, ["port/del", "p3"]);
    await pollUntil(
      () => seen().slice(from).includes("DEL: 3(p3)") && seen().endsWith("Mbps max\n"),
      "the deleted port's status",
    );
    assert.equal(
      seen().slice(from),
      STATUS("ADD", "0", "0") + STATUS("MOD", "PORT_DOWN", "LINK_DOWN") +
        STATUS("MOD", "PORT_DOWN NO_FLOOD", "LINK_DOWN") +
        STATUS("DEL", "PORT_DOWN NO_FLOOD", "LINK_DOWN"),
    );
  } finally {
    await monitor.stop();
    await d.stop();
  }
});

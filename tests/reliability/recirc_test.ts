/**
 * Recirculation ids live exactly as long as the ukeys whose actions refer
 * to them (issue 13, item 5): a controller action's id is referenced by
 * the ukey that installed it, handed over when revalidation modifies the
 * flow's actions, and freed with the last ukey; the revalidators' own
 * translations take no lasting reference. `memory/show` counts the ids in
 * use (`recirc ids`).
 */
import assert from "node:assert/strict";
import { TestDaemon } from "../cli/_run.ts";
import { appctl, memoryUsage } from "./_daemon.ts";

const PACKET = "eth(src=50:54:00:00:00:05,dst=50:54:00:00:00:07),eth_type(0x0800)," +
  "ipv4(src=10.0.0.1,dst=10.0.0.2,proto=6,tos=0,ttl=64,frag=no),tcp(src=1000,dst=80)";

/** A daemon with a stopped clock, a controller rule, and one flow from each of p1 and p2. */
async function twoControllerFlows(): Promise<TestDaemon> {
  const d = await TestDaemon.start([
    "--datapath-type",
    "dummy",
    "--other-config",
    "max-idle=10000",
  ]);
  await appctl(d.socket, "time/stop");
  await appctl(d.socket, "ofctl/add-flow", ["br0", "priority=1,actions=controller"]);
  await appctl(d.socket, "netdev-dummy/receive", ["p1", `in_port(1),${PACKET}`]);
  await appctl(d.socket, "netdev-dummy/receive", ["p2", `in_port(2),${PACKET}`]);
  const u = memoryUsage(await appctl(d.socket, "memory/show"));
  assert.equal(u["udpif keys"], 2);
  assert.equal(u["recirc ids"], 2, "one frozen state per in_port");
  return d;
}

/** Runs `n` revalidation cycles on the stopped clock (each warp wakes the leader). */
async function cycles(d: TestDaemon, n: number, ms = 100): Promise<void> {
  for (let i = 0; i < n; i++) {
    await appctl(d.socket, "time/warp", [String(ms)]);
    await appctl(d.socket, "revalidator/wait");
  }
}

Deno.test("recirculation ids are freed with their last ukey (idle expiry)", async () => {
  const d = await twoControllerFlows();
  try {
    await cycles(d, 3);
    assert.equal(memoryUsage(await appctl(d.socket, "memory/show"))["recirc ids"], 2);
    // Past max-idle (10 s): the flows and their ukeys go, and the ids with them.
    await cycles(d, 2, 6000);
    const u = memoryUsage(await appctl(d.socket, "memory/show"));
    assert.equal(u["udpif keys"], undefined, "the ukeys expired");
    assert.equal(u["recirc ids"], undefined, "no id outlives its ukeys");
  } finally {
    await d.stop();
  }
});

Deno.test("a revalidation that modifies the actions hands the ids over", async () => {
  const d = await twoControllerFlows();
  try {
    await appctl(d.socket, "ofctl/mod-flows", ["br0", "actions=output:3"]);
    await cycles(d, 2);
    let u = memoryUsage(await appctl(d.socket, "memory/show"));
    assert.equal(u["udpif keys"], 2, "same mask: the flows were modified, not deleted");
    assert.equal(u["recirc ids"], undefined, "output:3 refers to no frozen state");
    await appctl(d.socket, "ofctl/mod-flows", ["br0", "actions=controller"]);
    await cycles(d, 2);
    u = memoryUsage(await appctl(d.socket, "memory/show"));
    assert.equal(u["recirc ids"], 2, "back to the controller: new ids, held by the ukeys");
  } finally {
    await d.stop();
  }
});

import assert from "node:assert/strict";
import { getVlanLimit } from "../flow/mod.ts";
import { coverageTotal, timeMsec } from "../lib/mod.ts";
import { Bridge } from "./bridge.ts";
import { OtherConfig } from "./other_config.ts";
import { parsePortSpecs } from "./port_spec.ts";

async function withBridge(fn: (b: Bridge, config: OtherConfig) => Promise<void>): Promise<void> {
  const config = new OtherConfig();
  const b = await Bridge.create({
    name: "br0",
    datapathType: "dummy",
    ports: parsePortSpecs(["p1", "p2:7", "p3"], "br0"),
    config,
  });
  try {
    await fn(b, config);
  } finally {
    await b.destroy();
  }
}

Deno.test("ports get their OpenFlow numbers and the datapath numbers OVS's dummy datapath gives", async () => {
  await withBridge((b) => {
    assert.deepEqual(b.allPorts().map((p) => [p.name, p.ofport, p.odpPort, p.netdev.type]), [
      ["br0", 65534, 100, "dummy-internal"],
      ["p1", 1, 1, "dummy"],
      ["p2", 7, 2, "dummy"],
      ["p3", 2, 3, "dummy"],
    ]);
    assert.deepEqual(b.ports().map((p) => p.name), ["p1", "p3", "p2"]);
    assert.equal(b.port("7").name, "p2");
    assert.throws(() => b.port("p9"), /br0: no port named p9/);
    return Promise.resolve();
  });
});

Deno.test("port settings and flags reach translation and bump revalidation", async () => {
  await withBridge((b) => {
    const seq = b.udpif.shared.revalSeq.read();
    b.setPort("p1", ["tag=10"]);
    b.modPort("p3", "no-flood");
    assert.equal(b.xbridge().port(1)?.vlanMode, "access");
    assert.equal(b.xbridge().port(1)?.vlan, 10);
    assert.equal(b.xbridge().port(2)?.noFlood, true);
    assert.notEqual(b.udpif.shared.revalSeq.read(), seq);
    assert.throws(() => b.setPort("p1", ["tag=x"]), /tag: "x" is not a VLAN/);
    assert.equal(b.xbridge().port(1)?.vlan, 10);
    return Promise.resolve();
  });
});

Deno.test("other_config changes reach the udpif at once", async () => {
  await withBridge(async (b, config) => {
    config.set(["flow-limit=1234", "max-idle=500"]);
    // The change is applied asynchronously (thread counts may restart workers).
    await Promise.resolve();
    assert.equal(b.udpif.shared.cfgFlowLimit, 1234);
    assert.equal(b.udpif.shared.maxIdle, 500);
  });
});

Deno.test("rules loaded with a bad line change nothing", async () => {
  await withBridge((b) => {
    b.loadFlows("priority=5,actions=drop\n");
    assert.throws(() => b.loadFlows("priority=6,actions=drop\nactions=bogus\n"), /line 2/);
    assert.equal(b.tables.nRules, 1);
    return Promise.resolve();
  });
});

Deno.test("a MAC table change made by any thread revalidates at the next run, as mac_learning_run does", async () => {
  await withBridge((b) => {
    b.run();
    const seq = b.udpif.shared.revalSeq.read();
    b.run();
    assert.equal(b.udpif.shared.revalSeq.read(), seq, "nothing changed, nothing to revalidate");
    const mac = new Uint8Array([0x50, 0x54, 0, 0, 0, 5]);
    assert.ok(b.ml.update(mac, 0, 0, 1, timeMsec()));
    b.run();
    const learned = b.udpif.shared.revalSeq.read();
    assert.notEqual(learned, seq);
    const revs = coverageTotal("rev_mac_learning") ?? 0;
    b.ml.update(new Uint8Array([0x50, 0x54, 0, 0, 0, 6]), 0, 0, 1, timeMsec());
    b.ml.update(new Uint8Array([0x50, 0x54, 0, 0, 0, 7]), 0, 0, 1, timeMsec());
    b.macLearningRun();
    b.macLearningRun();
    assert.equal(
      (coverageTotal("rev_mac_learning") ?? 0) - revs,
      1,
      "two changes, one revalidation",
    );
    b.ml.flush();
    b.run();
    assert.notEqual(b.udpif.shared.revalSeq.read(), learned);
    return Promise.resolve();
  });
});

Deno.test("a vlan-limit change reaches this thread's flow module and revalidates", async () => {
  await withBridge(async (b, config) => {
    const seq = b.udpif.shared.revalSeq.read();
    config.set(["vlan-limit=2"]);
    await Promise.resolve();
    assert.equal(getVlanLimit(), 2);
    assert.notEqual(b.udpif.shared.revalSeq.read(), seq);
    config.set(["vlan-limit="]);
    assert.equal(getVlanLimit(), 1);
  });
});

Deno.test("each table change, port reconfiguration and port toggle counts its revalidation reason once", async () => {
  const names = ["rev_flow_table", "rev_reconfigure", "rev_port_toggled"];
  const totals = () => names.map((n) => coverageTotal(n) ?? 0);
  await withBridge((b) => {
    const base = totals();
    const since = () => totals().map((t, i) => t - base[i]);
    b.tablesChanged(b.tables.addFlow("priority=1,actions=drop", timeMsec()));
    b.tablesChanged(null);
    assert.deepEqual(since(), [1, 0, 0], "an add-flow; no change counts nothing");
    b.setPort("p1", ["tag=10"]);
    b.modPort("p3", "no-flood");
    assert.deepEqual(since(), [1, 2, 0]);
    b.modPort("p3", "down");
    assert.deepEqual(since(), [1, 2, 1]);
    return Promise.resolve();
  });
});

Deno.test("rules expire only after the revalidators finish a dump, as ofproto-dpif's run waits for dump_seq", async () => {
  await withBridge(async (b) => {
    await b.udpif.pause();
    b.run();
    // Added 5 s ago with a 1 s hard timeout: due, but expiry waits for fresh stats.
    b.tablesChanged(b.tables.addFlow("priority=5,hard_timeout=1,actions=drop", timeMsec() - 5000));
    b.run();
    b.expireRun();
    assert.equal(b.tables.nRules, 1, "no dump since the last check: not expired yet");
    b.udpif.shared.dumpSeq.change();
    b.expireRun();
    assert.equal(b.tables.nRules, 0, "a dump finished: expired");
    await b.udpif.resume();
  });
});

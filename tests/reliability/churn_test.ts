/**
 * Exact churn (issue 13, item 2), short form: seeded rule churn and
 * traffic against the real daemon, then every datapath flow checked
 * against a fresh translation. The long run is bench/churn_bench.ts.
 */
import assert from "node:assert/strict";
import { TestDaemon } from "../cli/_run.ts";
import { appctl } from "./_daemon.ts";
import { churn, CHURN_DAEMON_ARGS, formatViolations } from "./_churn.ts";
import { checkFlows } from "./_churn_check.ts";

const CT_BASE_RULES = [
  "table=0,priority=45,udp,ct_state=-trk,actions=ct(table=1,zone=5)",
  "table=1,priority=45,udp,ct_state=+trk+new,actions=ct(commit,zone=5,exec(set_field:0x1->ct_mark)),output:2",
  "table=1,priority=44,udp,ct_state=+trk,actions=ct_clear,resubmit(,2)",
];

for (const seed of [1, 20261205]) {
  Deno.test(`after rule churn and traffic every datapath flow equals a fresh translation (seed ${seed})`, async () => {
    const d = await TestDaemon.start(CHURN_DAEMON_ARGS);
    try {
      // Conntrack from the start, which the churn then modifies and deletes around.
      for (const rule of CT_BASE_RULES) await appctl(d.socket, "ofctl/add-flow", ["br0", rule]);
      const res = await churn(d.socket, {
        seed,
        rounds: 12,
        opsPerRound: 3,
        packetsPerRound: 16,
        checkEvery: 3,
      });
      assert.equal(res.violations.length, 0, formatViolations(seed, res));
      assert.ok(res.flowsChecked > 0, "the traffic set up datapath flows to check");
      assert.ok(res.ctFlowsChecked > 0, "some checked flows ran conntrack");
      assert.deepEqual(res.refused, [], "every generated rule change is valid");
    } finally {
      await d.stop();
    }
  });
}

Deno.test("the churn check reports a flow whose actions or mask a fresh translation disagrees with", async () => {
  const d = await TestDaemon.start(CHURN_DAEMON_ARGS);
  try {
    const s = d.socket;
    // With the clock stopped no revalidation runs to repair the flows made wrong below.
    await appctl(s, "time/stop");
    await appctl(s, "ofctl/add-flow", ["br0", "priority=10,tcp,tp_dst=80,actions=output:2"]);
    await appctl(s, "ofctl/add-flow", ["br0", "priority=10,arp,arp_tpa=10.0.0.2,actions=output:2"]);
    await appctl(s, "ofctl/add-flow", ["br0", "priority=5,arp,actions=output:2"]);
    await appctl(s, "netdev-dummy/receive", [
      "p1",
      "in_port(1),eth(src=50:54:00:00:00:05,dst=50:54:00:00:00:07),eth_type(0x0800)," +
      "ipv4(src=10.0.0.1,dst=10.0.0.2,proto=6,tos=0,ttl=64,frag=no),tcp(src=1000,dst=80)",
    ]);
    assert.deepEqual((await checkFlows(s)).violations, [], "the handler's flow is right");

    // Let the revalidation the rule changes and the upcall asked for finish,
    // then hold the revalidators still: a dump would repair or delete the
    // flows made wrong below before the check could see them.
    await appctl(s, "revalidator/wait");
    await appctl(s, "revalidator/wait");
    await appctl(s, "revalidator/pause");
    await appctl(s, "dpctl/mod-flow", [
      "recirc_id(0),in_port(1),packet_type(ns=0,id=0),eth_type(0x0800),ipv4(proto=6,frag=no),tcp(dst=80)",
      "3",
    ]);
    // Same actions as the translation, but blind to arp_tpa, which the rules look at.
    await appctl(s, "dpctl/add-flow", [
      "recirc_id(0),in_port(1),packet_type(ns=0,id=0),eth_type(0x0806),arp()",
      "2",
    ]);
    const { flows, violations } = await checkFlows(s);
    assert.equal(flows, 2);
    assert.deepEqual(violations.map((v) => [v.kind, v.installed]).sort(), [
      ["actions", "3"],
      ["mask-too-wide", "mask lacks nw_dst"], // arp_tpa is kept in nw_dst
    ]);
  } finally {
    await d.stop();
  }
});

Deno.test("workers started after hundreds of rule changes start from the tables' snapshot", async () => {
  const d = await TestDaemon.start(CHURN_DAEMON_ARGS);
  try {
    const s = d.socket;
    // More changes than the update log keeps (XLATE_LOG_MAX): the log is replaced by snapshots.
    for (let i = 0; i < 300; i++) {
      await appctl(s, "ofctl/add-flow", ["br0", `priority=${i},udp,tp_dst=${i},actions=output:2`]);
    }
    await appctl(s, "ofctl/del-flows", ["br0", "udp"]);
    await appctl(s, "ofctl/add-flow", ["br0", "priority=5,udp,tp_dst=80,actions=output:3"]);
    // New handler and revalidator workers: they start from the bridge's snapshot.
    await appctl(s, "config/set", ["n-handler-threads=2", "n-revalidator-threads=2"]);
    const res = await churn(s, {
      seed: 5,
      rounds: 3,
      opsPerRound: 1,
      packetsPerRound: 16,
      checkEvery: 3,
    });
    assert.equal(res.violations.length, 0, formatViolations(5, res));
    assert.match(await appctl(s, "memory/show"), /handlers:2 .*revalidators:2/);
  } finally {
    await d.stop();
  }
});

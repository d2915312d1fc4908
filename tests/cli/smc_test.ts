/**
 * other_config:smc-enable through the command line, against what OVS 3.1
 * prints for the same steps (`ovs-vsctl set Open_vSwitch .
 * other_config:smc-enable=true other_config:emc-insert-inv-prob=0`, a rule
 * on in_port and dl_dst, the same packet received four times): the upcall
 * fills the SMC, so the three packets after it are SMC hits.
 */
import assert from "node:assert/strict";
import { ok, TestDaemon } from "./_run.ts";

const P1_05_TO_07 =
  "in_port(1),eth(src=50:54:00:00:00:05,dst=50:54:00:00:00:07),eth_type(0x0800),ipv4(src=192.168.0.1,dst=192.168.0.2,proto=6,tos=0,ttl=64,frag=no),tcp(src=8,dst=9)";

const OVS_PMD_STATS = "main thread:\n" +
  "  packets received: 4\n" +
  "  packet recirculations: 0\n" +
  "  avg. datapath passes per packet: 1.00\n" +
  "  phwol hits: 0\n" +
  "  mfex opt hits: 0\n" +
  "  simple match hits: 0\n" +
  "  emc hits: 0\n" +
  "  smc hits: 3\n" +
  "  megaflow hits: 0\n" +
  "  avg. subtable lookups per megaflow hit: 0.00\n" +
  "  miss with success upcall: 1\n" +
  "  miss with failed upcall: 0\n" +
  "  avg. packets per output batch: 1.00\n";

Deno.test("smc-enable=true: the packets after the upcall are SMC hits, as in OVS", async () => {
  const d = await TestDaemon.start(["--datapath-type", "dummy"]);
  try {
    await ok(d, ["set-config", "smc-enable=true", "emc-insert-inv-prob=0"]);
    // (max-idle: what every test daemon runs with, see TestDaemon.)
    assert.equal(
      await ok(d, ["config/show"]),
      "emc-insert-inv-prob=0\nmax-idle=86400000\nsmc-enable=true\n",
    );
    await ok(
      d,
      ["ofctl", "add-flows", "br0", "-"],
      "in_port=1,dl_dst=50:54:00:00:00:07,actions=output:2\n",
    );
    await ok(d, ["netdev-dummy/receive", "p1", P1_05_TO_07]);
    await ok(d, ["revalidator/wait"]);
    for (let i = 0; i < 3; i++) await ok(d, ["netdev-dummy/receive", "p1", P1_05_TO_07]);
    await ok(d, ["revalidator/wait"]);
    assert.equal(await ok(d, ["dpif-netdev/pmd-stats-show"]), OVS_PMD_STATS);
    assert.equal((await d.run(["set-config", "smc-enable=yes"])).code, 2);
  } finally {
    await d.stop();
  }
});

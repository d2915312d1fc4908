/**
 * Two PMD threads (other_config:pmd-cpu-mask=3) through the command line,
 * against what OVS 3.1 prints for the same set-up (dummy-pmd ports p1 with
 * options:n_rxq=2, p2 with 3, p3 with 1; `actions=normal`; one packet on
 * p1 and one on p2, both on rx queue 0): p1's flow lives in the PMD on
 * core 0, p2's in the one on core 1, and dump-flows prints a section per
 * PMD. The revalidators then revalidate and expire the flows of both.
 */
import assert from "node:assert/strict";
import { ok, TestDaemon } from "./_run.ts";

const P1 =
  "in_port(1),eth(src=50:54:00:00:00:05,dst=50:54:00:00:00:07),eth_type(0x0800),ipv4(src=192.168.0.1,dst=192.168.0.2,proto=6,tos=0,ttl=64,frag=no),tcp(src=8,dst=9)";
const P2 =
  "in_port(2),eth(src=50:54:00:00:00:07,dst=50:54:00:00:00:05),eth_type(0x0800),ipv4(src=192.168.0.2,dst=192.168.0.1,proto=6,tos=0,ttl=64,frag=no),tcp(src=9,dst=8)";

const OVS_DUMP = "flow-dump from pmd on cpu core: 0\n" +
  "recirc_id(0),in_port(1),packet_type(ns=0,id=0),eth(src=50:54:00:00:00:05,dst=50:54:00:00:00:07),eth_type(0x0800),ipv4(frag=no), packets:0, bytes:0, used:never, actions:2\n" +
  "flow-dump from pmd on cpu core: 1\n" +
  "recirc_id(0),in_port(2),packet_type(ns=0,id=0),eth(src=50:54:00:00:00:07,dst=50:54:00:00:00:05),eth_type(0x0800),ipv4(frag=no), packets:0, bytes:0, used:never, actions:1\n";

/** OVS's output; pmd usage and overhead read NOT AVAIL until a 5 s interval has passed. */
const OVS_RXQ_SHOW = "Displaying last 60 seconds pmd usage %\n" +
  "pmd thread numa_id 0 core_id 0:\n" +
  "  isolated : false\n" +
  "  port: p1                queue-id:  0 (enabled)   pmd usage: NOT AVAIL\n" +
  "  port: p2                queue-id:  1 (enabled)   pmd usage: NOT AVAIL\n" +
  "  port: p2                queue-id:  2 (enabled)   pmd usage: NOT AVAIL\n" +
  "  overhead: NOT AVAIL\n" +
  "pmd thread numa_id 0 core_id 1:\n" +
  "  isolated : false\n" +
  "  port: p1                queue-id:  1 (enabled)   pmd usage: NOT AVAIL\n" +
  "  port: p2                queue-id:  0 (enabled)   pmd usage: NOT AVAIL\n" +
  "  port: p3                queue-id:  0 (enabled)   pmd usage: NOT AVAIL\n" +
  "  overhead: NOT AVAIL\n";

/** The usage figures become numbers once an interval has passed; the layout stays. */
const usageNotAvail = (s: string) =>
  s.replace(/pmd usage: +[0-9]+ %/g, "pmd usage: NOT AVAIL")
    .replace(/overhead: +[0-9]+ %/g, "overhead: NOT AVAIL");

Deno.test("two PMDs: per-PMD flows, dump sections, rxq assignment and stats as OVS", async () => {
  const d = await TestDaemon.start(
    [
      "--datapath-type",
      "dummy",
      "--other-config",
      "pmd-cpu-mask=3",
      "--other-config",
      "max-idle=10000",
    ],
    { ports: ["p1,n_rxq=2", "p2,n_rxq=3", "p3"] },
  );
  try {
    await ok(d, ["ofctl", "add-flows", "br0", "-"], "actions=normal\n");
    await ok(d, ["time/stop"]);
    await ok(d, ["netdev-dummy/receive", "p1", P1]);
    await ok(d, ["netdev-dummy/receive", "p2", P2]);
    await ok(d, ["revalidator/wait"]);
    assert.equal(await ok(d, ["dpctl/dump-flows"]), OVS_DUMP);
    assert.equal(
      await ok(d, ["dpctl/dump-flows", "pmd=1"]),
      OVS_DUMP.split("\n")[3] + "\n",
      "pmd= picks one PMD's flows, without a title",
    );
    assert.equal(usageNotAvail(await ok(d, ["dpif-netdev/pmd-rxq-show"])), OVS_RXQ_SHOW);
    const stats = await ok(d, ["dpif-netdev/pmd-stats-show"]);
    assert.deepEqual(
      stats.split("\n").filter((l) => /thread|packets received|success upcall/.test(l)),
      [
        "pmd thread numa_id 0 core_id 0:",
        "  packets received: 1",
        "  miss with success upcall: 1",
        "pmd thread numa_id 0 core_id 1:",
        "  packets received: 1",
        "  miss with success upcall: 1",
        "main thread:",
        "  packets received: 0",
        "  miss with success upcall: 0",
      ],
    );
    assert.match(
      await ok(d, ["dpif-netdev/pmd-perf-show", "-pmd", "1"]),
      /\npmd thread numa_id 0 core_id 1:\n\n {2}Iterations: +\d+/,
    );
    assert.equal(await ok(d, ["dpif-netdev/pmd-rxq-rebalance"]), "pmd rxq rebalance requested.\n");

    // A rule change: the revalidators fix the flows in both PMDs.
    await ok(d, ["ofctl", "add-flow", "br0", "priority=40000,actions=drop"]);
    await ok(d, ["revalidator/wait"]);
    await ok(d, ["revalidator/wait"]);
    assert.equal(
      await ok(d, ["dpctl/dump-flows"]),
      OVS_DUMP.replace("actions:2", "actions:drop").replace("actions:1", "actions:drop"),
    );
    // Idle past max-idle: both PMDs' flows expire.
    await ok(d, ["time/warp", "11000"]);
    await ok(d, ["revalidator/wait"]);
    await ok(d, ["revalidator/wait"]);
    assert.equal(await ok(d, ["dpctl/dump-flows"]), "");
    assert.match(await ok(d, ["upcall/show"]), /: \(keys 0\)\n$/, "no ukey left");

    const bad = await d.run(["config/set", "pmd-rxq-assign=fastest"]);
    assert.notEqual(bad.code, 0);
    assert.match(bad.stderr, /pmd-rxq-assign: "fastest" is not one of cycles, roundrobin, group/);
    await ok(d, ["config/set", "pmd-rxq-assign=roundrobin"]);
    assert.match(await ok(d, ["dpif-netdev/pmd-rxq-show", "-pmd", "0"]), /p2 +queue-id: {2}0/);
  } finally {
    await d.stop();
  }
});

Deno.test("a bad pmd-cpu-mask or n_rxq is refused at start, naming it", async () => {
  for (
    const [args, err] of [
      [["--other-config", "pmd-cpu-mask=0xg"], /pmd-cpu-mask: "0xg" is not a hexadecimal mask/],
      [["--port", "p1,n_rxq=0"], /n_rxq must be 1 to 8, not "0"/],
    ] as const
  ) {
    const r = await TestDaemon.start(["--datapath-type", "dummy", ...args], { ports: [] }).then(
      async (d) => {
        await d.stop();
        return "started";
      },
      (e) => String(e),
    );
    assert.match(r, err);
  }
});

/**
 * Live PMD reconfiguration (other_config:pmd-cpu-mask changed with
 * `config/set`), against what OVS 3.1 prints for the same steps (ports p1
 * with options:n_rxq=2, p2 with 3, p3 with 1; `actions=normal`; started
 * with pmd-cpu-mask=1): going to 3 creates the PMD on core 1 and spreads
 * the rx queues over both, the flows staying in core 0's table; going to
 * 2 destroys core 0's PMD with its flows (and then their ukeys), core 1
 * polls every queue, and traffic goes on through it into its own table.
 */
import assert from "node:assert/strict";
import { ok, TestDaemon } from "./_run.ts";
import { rxqShowBecomes, usageNotAvail } from "./_pmd_show.ts";
import { pollUntilAsync } from "../poll.ts";

const P1 =
  "in_port(1),eth(src=50:54:00:00:00:05,dst=50:54:00:00:00:07),eth_type(0x0800),ipv4(src=192.168.0.1,dst=192.168.0.2,proto=6,tos=0,ttl=64,frag=no),tcp(src=8,dst=9)";
const P2 =
  "in_port(2),eth(src=50:54:00:00:00:07,dst=50:54:00:00:00:05),eth_type(0x0800),ipv4(src=192.168.0.2,dst=192.168.0.1,proto=6,tos=0,ttl=64,frag=no),tcp(src=9,dst=8)";
const FLOW1 =
  "recirc_id(0),in_port(1),packet_type(ns=0,id=0),eth(src=50:54:00:00:00:05,dst=50:54:00:00:00:07),eth_type(0x0800),ipv4(frag=no), packets:0, bytes:0, used:never, actions:2\n";
const FLOW2 =
  "recirc_id(0),in_port(2),packet_type(ns=0,id=0),eth(src=50:54:00:00:00:07,dst=50:54:00:00:00:05),eth_type(0x0800),ipv4(frag=no), packets:0, bytes:0, used:never, actions:1\n";

const HEAD = "Displaying last 60 seconds pmd usage %\n";
const q = (port: string, id: number) =>
  `  port: ${port.padEnd(16)}  queue-id: ${
    String(id).padStart(2)
  } (enabled)   pmd usage: NOT AVAIL\n`;
const pmd = (core: number, ...queues: string[]) =>
  `pmd thread numa_id 0 core_id ${core}:\n  isolated : false\n` + queues.join("") +
  "  overhead: NOT AVAIL\n";
const ALL = [q("p1", 0), q("p1", 1), q("p2", 0), q("p2", 1), q("p2", 2), q("p3", 0)];
/** OVS 3.1's pmd-rxq-show at each step. */
const OVS_MASK1 = HEAD + pmd(0, ...ALL);
const OVS_MASK3 = HEAD + pmd(0, q("p1", 0), q("p2", 1), q("p2", 2)) +
  pmd(1, q("p1", 1), q("p2", 0), q("p3", 0));
const OVS_MASK2 = HEAD + pmd(1, ...ALL);

Deno.test("pmd-cpu-mask changed at run time adds and removes PMDs, as OVS 3.1", async () => {
  const d = await TestDaemon.start(
    ["--datapath-type", "dummy", "--other-config", "pmd-cpu-mask=1"],
    { ports: ["p1,n_rxq=2", "p2,n_rxq=3", "p3"] },
  );
  try {
    await ok(d, ["ofctl", "add-flows", "br0", "-"], "actions=normal\n");
    await ok(d, ["time/stop"]);
    await ok(d, ["netdev-dummy/receive", "p1", P1]);
    await ok(d, ["netdev-dummy/receive", "p2", P2]);
    await ok(d, ["revalidator/wait"]);
    const core0 = "flow-dump from pmd on cpu core: 0\n" + FLOW1 + FLOW2;
    assert.equal(await ok(d, ["dpctl/dump-flows"]), core0);
    assert.equal(usageNotAvail(await ok(d, ["dpif-netdev/pmd-rxq-show"])), OVS_MASK1);

    await ok(d, ["config/set", "pmd-cpu-mask=3"]);
    await rxqShowBecomes(d, OVS_MASK3);
    assert.match(d.logSoFar(), /PMD thread on numa_id: 0, core id: {2}1 created\./);
    assert.match(d.logSoFar(), /There are 2 pmd threads on numa node 0/);
    assert.equal(await ok(d, ["dpctl/dump-flows"]), core0, "the flows stay in core 0's table");

    await ok(d, ["config/set", "pmd-cpu-mask=2"]);
    await rxqShowBecomes(d, OVS_MASK2);
    assert.match(d.logSoFar(), /PMD thread on numa_id: 0, core id: {2}0 destroyed\./);
    assert.equal(await ok(d, ["dpctl/dump-flows"]), "", "core 0's flows went with it");
    await pollUntilAsync(async () => {
      await ok(d, ["revalidator/wait"]);
      return /: \(keys 0\)\n$/.test(await ok(d, ["upcall/show"]));
    }, "the ukeys of the removed PMD's flows to go");

    // Traffic goes on, through core 1, into its own table.
    await ok(d, ["netdev-dummy/receive", "p1", P1]);
    await ok(d, ["revalidator/wait"]);
    assert.equal(
      await ok(d, ["dpctl/dump-flows"]),
      "flow-dump from pmd on cpu core: 1\n" + FLOW1,
    );
    const stats = await ok(d, ["dpif-netdev/pmd-stats-show"]);
    assert.deepEqual(
      stats.split("\n").filter((l) => /thread|packets received/.test(l)),
      [
        "pmd thread numa_id 0 core_id 1:",
        "  packets received: 1",
        "main thread:",
        "  packets received: 0",
      ],
    );
  } finally {
    await d.stop();
  }
});

Deno.test("a PMD set larger than the datapath's slots is refused, naming the limit", async () => {
  const d = await TestDaemon.start(
    ["--datapath-type", "dummy", "--other-config", "pmd-cpu-mask=1"],
    {
      ports: ["p1"],
    },
  );
  try {
    const slots = Math.max(1, navigator.hardwareConcurrency);
    const mask = ((1 << (slots + 1)) - 1).toString(16);
    await ok(d, ["config/set", `pmd-cpu-mask=${mask}`]);
    await pollUntilAsync(
      () =>
        Promise.resolve(
          /the datapath has room for \d+: the new pmd-cpu-mask takes effect/.test(d.logSoFar()),
        ),
      "the refusal in the log",
    );
    assert.match(await ok(d, ["dpif-netdev/pmd-rxq-show"]), /core_id 0:\n/);
    assert.doesNotMatch(await ok(d, ["dpif-netdev/pmd-rxq-show"]), /core_id 1:/);
  } finally {
    await d.stop();
  }
});

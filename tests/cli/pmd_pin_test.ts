/**
 * Rx queue pinning (Interface other_config:pmd-rxq-affinity through
 * `port/set`) and other_config:pmd-rxq-isolate, against what OVS 3.1
 * prints for the same steps (two PMDs, pmd-cpu-mask=3; ports p1 with
 * options:n_rxq=2, p2 with 3, p3 with 1): pinning p2's queues 0 and 2 to
 * core 1 isolates that PMD; a queue pinned to a core without a PMD is
 * assigned elsewhere with OVS's warning; pmd-rxq-isolate=false with the
 * group assignment lets the pinned PMD take unpinned queues again; live
 * pmd-cpu-mask changes (2, then 3 again) keep the pinning.
 */
import assert from "node:assert/strict";
import { ok, TestDaemon } from "./_run.ts";
import { rxqShowBecomes, usageNotAvail } from "./_pmd_show.ts";

const HEAD = "Displaying last 60 seconds pmd usage %\n";
const q = (port: string, id: number) =>
  `  port: ${port.padEnd(16)}  queue-id: ${
    String(id).padStart(2)
  } (enabled)   pmd usage: NOT AVAIL\n`;
const pmd = (core: number, isolated: boolean, ...queues: string[]) =>
  `pmd thread numa_id 0 core_id ${core}:\n  isolated : ${isolated}\n` + queues.join("") +
  (queues.length ? "  overhead: NOT AVAIL\n" : "");

/** OVS 3.1 after `set Interface p2 other_config:pmd-rxq-affinity="0:1,2:1"`. */
const OVS_PINNED = HEAD +
  pmd(0, false, q("p1", 0), q("p1", 1), q("p2", 1), q("p3", 0)) +
  pmd(1, true, q("p2", 0), q("p2", 2));
/** ... then pmd-rxq-assign=group, pmd-rxq-isolate=false. */
const OVS_NOT_ISOLATED = HEAD +
  pmd(0, false, q("p1", 0), q("p1", 1), q("p2", 1)) +
  pmd(1, false, q("p2", 0), q("p2", 2), q("p3", 0));

/** ... then pmd-cpu-mask=2 (core 0's PMD destroyed). */
const OVS_CORE1_ONLY = HEAD +
  pmd(1, false, q("p1", 0), q("p1", 1), q("p2", 0), q("p2", 1), q("p2", 2), q("p3", 0));

Deno.test("pmd-rxq-affinity pins queues and isolates their PMD, as OVS 3.1", async () => {
  const d = await TestDaemon.start(
    ["--datapath-type", "dummy", "--other-config", "pmd-cpu-mask=3"],
    { ports: ["p1,n_rxq=2", "p2,n_rxq=3", "p3"] },
  );
  try {
    await ok(d, ["port/set", "p2", "pmd-rxq-affinity=0:1,2:1"]);
    assert.equal(usageNotAvail(await ok(d, ["dpif-netdev/pmd-rxq-show"])), OVS_PINNED);
    assert.match(
      d.logSoFar(),
      /Core {2}1 on numa node 0 is pinned with port 'p2' rx queue 0 \(measured processing cycles 0\)\n/,
    );

    await ok(d, ["port/set", "p1", "pmd-rxq-affinity=1:5"]);
    assert.equal(usageNotAvail(await ok(d, ["dpif-netdev/pmd-rxq-show"])), OVS_PINNED);
    assert.match(
      d.logSoFar(),
      /Core {2}5 cannot be pinned with port 'p1' rx queue 1\. Use pmd-cpu-mask to enable a pmd on core 5\. An alternative core will be assigned\./,
    );

    // Bad lists change nothing and name the bad entry.
    for (const bad of ["0:x", "1", "-1:0"]) {
      const r = await d.run(["port/set", "p2", `pmd-rxq-affinity=${bad}`, "tag=10"]);
      assert.notEqual(r.code, 0);
      assert.match(r.stderr, new RegExp(`pmd-rxq-affinity: bad entry "${bad}"`));
    }
    assert.match(await ok(d, ["port/set", "p2"]), /tag=\[\]/, "the VLAN part was not applied");
    assert.equal(usageNotAvail(await ok(d, ["dpif-netdev/pmd-rxq-show"])), OVS_PINNED);

    // pmd-rxq-isolate=false is for the group assignment only.
    await ok(d, ["config/set", "pmd-rxq-isolate=false"]);
    assert.match(
      d.logSoFar(),
      /pmd-rxq-isolate can only be set false when using pmd-rxq-assign=group/,
    );
    assert.equal(usageNotAvail(await ok(d, ["dpif-netdev/pmd-rxq-show"])), OVS_PINNED);
    await ok(d, ["config/set", "pmd-rxq-assign=group", "pmd-rxq-isolate=false"]);
    assert.match(d.logSoFar(), /pmd-rxq-affinity does not isolate PMD core/);
    assert.equal(usageNotAvail(await ok(d, ["dpif-netdev/pmd-rxq-show"])), OVS_NOT_ISOLATED);

    // Live PMD changes keep the pinning: without core 0, core 1 polls all.
    await ok(d, ["config/set", "pmd-cpu-mask=2"]);
    await rxqShowBecomes(d, OVS_CORE1_ONLY);
    await ok(d, ["config/set", "pmd-cpu-mask=3"]);
    await rxqShowBecomes(d, OVS_NOT_ISOLATED);

    // Unpinning p2 and setting isolation back: all queues spread again.
    await ok(d, ["config/set", "pmd-rxq-isolate=true"]);
    await ok(d, ["port/set", "p2", "pmd-rxq-affinity="]);
    const show = usageNotAvail(await ok(d, ["dpif-netdev/pmd-rxq-show"]));
    assert.doesNotMatch(show, /isolated : true/);
  } finally {
    await d.stop();
  }
});

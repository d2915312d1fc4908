/**
 * A fresh daemon shows nothing of the PMD's start-up warm-up
 * (src/dpif/_pmd_warmup.ts): its synthetic flows, packets, counts and
 * ports stay in a scratch datapath the PMD worker throws away before it
 * attaches the daemon's coverage and log. src/dpif/pmd_warmup_test.ts
 * checks that netdev_received and netdev_sent are what the warm-up counts.
 */
import assert from "node:assert/strict";
import { ok, TestDaemon } from "./_run.ts";

Deno.test("a fresh daemon's counters, flows, ukeys and log show no trace of the warm-up", async () => {
  const d = await TestDaemon.start(["--other-config", "pmd-cpu-mask=0x3"]);
  try {
    const coverage = await ok(d, ["coverage/show"]);
    for (const name of ["netdev_received", "netdev_sent"]) {
      assert.doesNotMatch(coverage, new RegExp(`^${name} `, "m"), coverage);
    }
    const show = await ok(d, ["dpctl/show"]);
    assert.match(show, /lookups: hit:0 missed:0 lost:0\n {2}flows: 0\n/);
    assert.doesNotMatch(show, /warmup/);
    assert.equal(await ok(d, ["dpctl/dump-flows"]), "");
    const pmd = await ok(d, ["dpif-netdev/pmd-stats-show"]);
    assert.equal((pmd.match(/^pmd thread numa_id 0 core_id \d+:$/gm) ?? []).length, 2, pmd);
    for (const line of pmd.split("\n").filter((l) => /: [0-9.]+$/.test(l))) {
      if (/numa_id|core_id/.test(line)) continue;
      assert.match(line, /: 0(\.00)?$/, `pmd-stats-show: ${line}`);
    }
    const upcalls = await ok(d, ["upcall/show"]);
    assert.match(upcalls, /flows {9}: \(current 0\) \(avg 0\) \(max 0\)/);
    assert.deepEqual([...upcalls.matchAll(/\(keys (\d+)\)/g)].map((m) => m[1]), ["0"]);
  } finally {
    const { log } = await d.stop();
    assert.doesNotMatch(log, /warmup|\|WARN\||\|ERR\|/);
  }
});

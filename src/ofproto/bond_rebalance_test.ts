import assert from "node:assert/strict";
import { Bond } from "./bond.ts";
import { type BondConfig, defaultBondConfig } from "./bond_config.ts";
import { BondRunner } from "./bond_run.ts";
import { accountRecircRules, rebalanceBuckets } from "./bond_rebalance.ts";

function runner(mode: BondConfig["mode"], members = ["p4", "p5"], interval = 10000): BondRunner {
  const config: BondConfig = {
    ...defaultBondConfig("bond0", mode),
    members: members.map((name, i) => ({ name, ofport: 4 + i })),
    rebalanceInterval: interval,
  };
  return new BondRunner(config, (p) => `aa:55:aa:55:00:0${p}`, 7, () => true, 0);
}

Deno.test("bond_rebalance moves the bucket that brings two members closest, then halves the loads", () => {
  const r = runner("balance-slb");
  const b = r.bond;
  b.setBucketMember(218, 0);
  b.setBucketMember(215, 0);
  b.account(218, 120118);
  b.account(215, 90118);
  assert.equal(r.rebalance(9999), false, "not before the interval");
  assert.equal(r.rebalance(10000), true);
  assert.equal(b.bucketMember(215), 1, "the lighter bucket fits under the ideal shift");
  assert.equal(b.bucketMember(218), 0);
  assert.equal(b.bucketTxBytes(218), 60059);
  assert.equal(b.bucketTxBytes(215), 45059);
  assert.ok(
    r.show(10000).includes("member p5: enabled\n  may_enable: true\n  hash 215: 44 kB load\n"),
  );
  assert.ok(r.show(10000).includes("next rebalance: 10000 ms\n"));
  assert.equal(r.rebalance(15000), false, "the next interval has not passed");
  assert.equal(r.rebalance(20000), false, "balanced enough: nothing moves");
});

Deno.test("bond_rebalance leaves small or single-bucket imbalances alone", () => {
  const r = runner("balance-slb");
  const b = r.bond;
  b.setBucketMember(1, 0);
  b.setBucketMember(2, 0);
  b.account(1, 50000);
  b.account(2, 40000);
  assert.equal(rebalanceBuckets(b), false, "under 100000 bytes of overload");
  b.setBucketMember(3, 0);
  b.account(3, 1_000_000);
  b.setBucketMember(1, 1);
  b.setBucketMember(2, 1);
  assert.equal(rebalanceBuckets(b), false, "one heavy bucket cannot be split");
  assert.equal(b.bucketMember(3), 0);
});

Deno.test("bond_rebalance over three members follows OVS's greedy moves", () => {
  // a carries six 200000-byte buckets: three go to c (the last of the
  // equally idle), one to b; then c has no buckets of its own to give
  // (moved ones are not moved again) and a's next would overshoot.
  const r = runner("balance-slb", ["a", "b", "c"]);
  const b = r.bond;
  for (let h = 0; h < 6; h++) {
    b.setBucketMember(h, 0);
    b.account(h, 200000);
  }
  assert.equal(rebalanceBuckets(b), true);
  const loads = [0, 1, 2].map((m) =>
    [0, 1, 2, 3, 4, 5].filter((h) => b.bucketMember(h) === m).length
  );
  assert.deepEqual(loads, [2, 1, 3]);
});

Deno.test("bucket loads count only while the bond balances", () => {
  const ab = runner("active-backup");
  ab.bond.account(3, 5000);
  assert.equal(ab.bond.bucketTxBytes(3), 0);
  const off = runner("balance-slb", ["p4", "p5"], 0);
  off.bond.account(3, 5000);
  assert.equal(off.bond.bucketTxBytes(3), 0);
  assert.ok(!off.show(0).includes("next rebalance"));
});

Deno.test("a worker's view of a bond adds to the buckets the main thread reads", () => {
  const r = runner("balance-slb");
  const view = new Bond(structuredClone(r.bond.init()));
  view.account(9, 3000);
  view.account(9, 2000);
  assert.equal(r.bond.bucketTxBytes(9), 5000);
});

Deno.test("post-recirculation rule counts become bucket loads by their growth", () => {
  const r = runner("balance-slb");
  const b = r.bond;
  b.setBucketMember(4, 0);
  const prev = new Array(256).fill(0);
  accountRecircRules(b, prev, (h) => (h === 4 ? 1000 : undefined));
  accountRecircRules(b, prev, (h) => (h === 4 ? 1500 : undefined));
  assert.equal(b.bucketTxBytes(4), 1500);
  accountRecircRules(b, prev, (h) => (h === 4 ? 200 : undefined));
  assert.equal(b.bucketTxBytes(4), 1700, "a replaced rule counts from zero");
});

Deno.test("bond/migrate moves an SLB bucket, with OVS's errors", () => {
  const r = runner("balance-slb");
  assert.equal(r.migrate("471", "p5"), "migrated");
  assert.equal(r.bond.bucketMember(215), 1);
  assert.equal(r.wantsRevalidate, true);
  assert.throws(() => r.migrate("x", "p4"), /^BondCommandError: bad hash$/);
  assert.throws(() => r.migrate("1", "p9"), /no such member/);
  r.enableMember("p4", false);
  assert.throws(() => r.migrate("1", "p4"), /cannot migrate to disabled member/);
  assert.throws(() => runner("balance-tcp").migrate("1", "p4"), /not an SLB bond/);
});

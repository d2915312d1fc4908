import assert from "node:assert/strict";
import { Bond } from "./bond.ts";
import { type BondConfig, defaultBondConfig } from "./bond_config.ts";
import { bondHashCommand, BondRunner } from "./bond_run.ts";

function config(mode: BondConfig["mode"], extra: Partial<BondConfig> = {}): BondConfig {
  return {
    ...defaultBondConfig("bond0", mode),
    members: [{ name: "p4", ofport: 4 }, { name: "p5", ofport: 5 }],
    ...extra,
  };
}

const mac = (last: number) => Uint8Array.of(0x50, 0x54, 0, 0, 0, last);
const macOf = (ofport: number) => `aa:55:aa:55:00:0${ofport}`;

Deno.test("bond/hash is OVS's hash_mac bucket (values from OVS 3.1)", () => {
  assert.equal(bondHashCommand("50:54:00:00:00:05"), "218\n");
  assert.equal(bondHashCommand("50:54:00:00:00:05", "10", "7"), "29\n");
  assert.throws(() => bondHashCommand("50:54:00:00:00:0x"), /invalid mac/);
  assert.throws(() => bondHashCommand("50:54:00:00:00:05", "x"), /invalid vlan/);
});

Deno.test("active-backup: output and admission follow the active member, failover on link down", () => {
  const up = new Map([[4, true], [5, true]]);
  const r = new BondRunner(config("active-backup"), macOf, 0, (p) => up.get(p)!, 0);
  const b = r.bond;
  assert.equal(b.chooseOutput(mac(5), 0, 0, () => {}), 4);
  assert.equal(b.admissibility(4, false), "accept");
  assert.equal(b.admissibility(5, false), "drop");
  up.set(4, false);
  assert.equal(r.run((p) => up.get(p)!, 1), true);
  assert.equal(b.chooseOutput(mac(5), 0, 0, () => {}), 5);
  assert.equal(b.admissibility(5, false), "accept");
  assert.ok(r.show(1).includes("member p4: disabled\n  may_enable: false\n"));
  assert.throws(() => r.setActiveMember("p4"), /cannot make disabled member active/);
  up.set(4, true);
  r.run((p) => up.get(p)!, 2);
  assert.equal(b.active, 1, "the active member stays when the other comes back");
  assert.equal(r.setActiveMember("p4"), "done");
  assert.equal(r.setActiveMember("p4"), "no change");
});

Deno.test("a worker's view of a bond sees the main thread's changes", () => {
  const up = new Map([[4, true], [5, true]]);
  const r = new BondRunner(config("active-backup"), macOf, 0, (p) => up.get(p)!, 0);
  const view = new Bond(structuredClone(r.bond.init()));
  r.setActiveMember("p5");
  assert.equal(view.chooseOutput(mac(1), 0, 0, () => {}), 5);
});

Deno.test("balance-slb: buckets take enabled members round robin, and move when one goes", () => {
  const up = new Map([[4, true], [5, true]]);
  const r = new BondRunner(config("balance-slb"), macOf, 0, (p) => up.get(p)!, 0);
  const b = r.bond;
  let hashed = 0;
  const first = b.chooseOutput(mac(5), 0, 0, () => hashed++);
  const second = b.chooseOutput(mac(6), 0, 0, () => hashed++);
  assert.deepEqual([first, second], [4, 5]);
  assert.equal(b.chooseOutput(mac(5), 0, 0, () => hashed++), 4, "a bucket keeps its member");
  assert.equal(hashed, 3);
  assert.equal(b.admissibility(5, false), "drop-if-moved");
  assert.equal(b.admissibility(5, true), "drop", "multicast only on the active member");
  up.set(4, false);
  r.run((p) => up.get(p)!, 1);
  assert.equal(b.chooseOutput(mac(5), 0, 0, () => {}), 5);
  assert.deepEqual(r.bucketCounts(), [0, 2]);
  assert.match(r.show(1), /next rebalance: 9999 ms/);
});

Deno.test("balance-tcp without negotiated LACP drops both ways", () => {
  const r = new BondRunner(config("balance-tcp"), macOf, 7, () => true, 0);
  assert.equal(r.bond.chooseOutput(mac(5), 0, 0, () => {}), -1);
  assert.equal(r.bond.admissibility(4, false), "drop");
  assert.match(r.show(0), /bond may use recirculation: yes, Recirc-ID : 7\n/);
});

Deno.test("updelay: a member coming up waits, and bond/show counts the delay down", () => {
  const up = new Map([[4, true], [5, false]]);
  const r = new BondRunner(
    config("active-backup", { updelay: 100 }),
    macOf,
    0,
    (p) => up.get(p)!,
    0,
  );
  up.set(5, true);
  r.run((p) => up.get(p)!, 1000);
  assert.ok(r.show(1040).includes("member p5: disabled\n  updelay expires in 60 ms\n"));
  r.run((p) => up.get(p)!, 1100);
  assert.equal(r.bond.enabled(1), true);
});

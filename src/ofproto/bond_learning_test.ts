import assert from "node:assert/strict";
import { toHex } from "../packet/mod.ts";
import { type BondConfig, defaultBondConfig } from "./bond_config.ts";
import { BondRunner } from "./bond_run.ts";
import { composeLearningPacket, maySendLearningPackets } from "./bond_learning.ts";

function runner(mode: BondConfig["mode"], up = (_p: number) => true): BondRunner {
  const config: BondConfig = {
    ...defaultBondConfig("bond0", mode),
    members: [{ name: "p4", ofport: 4 }, { name: "p5", ofport: 5 }],
  };
  return new BondRunner(config, (p) => `aa:55:aa:55:00:0${p}`, 0, up, 0);
}

const mac = Uint8Array.of(0x50, 0x54, 0, 0, 0, 5);

Deno.test("a learning packet is OVS's RARP from the MAC, tagged with its VLAN, out of the active member", () => {
  const r = runner("active-backup");
  const untagged = composeLearningPacket(r.bond, mac, 0)!;
  assert.equal(untagged.ofport, 4);
  assert.equal(
    toHex(untagged.frame),
    "ffffffffffff505400000005803500010800060400035054000000050000000050540000000500000000",
  );
  r.setActiveMember("p5");
  const tagged = composeLearningPacket(r.bond, mac, 10)!;
  assert.equal(tagged.ofport, 5);
  assert.equal(toHex(tagged.frame).slice(24, 32), "8100000a");
  assert.equal(tagged.frame.length, 46);
});

Deno.test("learning packets are asked for after a failover or a member going, once", () => {
  const up = new Map([[4, true], [5, true]]);
  const r = runner("balance-slb", (p) => up.get(p)!);
  r.takeLearningRequest();
  assert.equal(r.takeLearningRequest(), false, "asking clears the request");
  up.set(4, false);
  r.run((p) => up.get(p)!, 1);
  assert.equal(r.takeLearningRequest(), true);
  assert.equal(r.takeLearningRequest(), false);
  r.enableMember("p5", false);
  assert.equal(r.takeLearningRequest(), true, "bond/disable-member too");
  r.enableMember("p5", true);
  assert.equal(r.takeLearningRequest(), false, "enabling a member moves no MAC");
});

Deno.test("balance-tcp never sends learning packets", () => {
  const r = runner("balance-tcp");
  assert.equal(maySendLearningPackets(r.bond), false);
  assert.equal(r.takeLearningRequest(), false);
});

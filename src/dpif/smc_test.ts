import assert from "node:assert/strict";
import { flowExtract } from "../flow/mod.ts";
import { DummyNetdev } from "../netdev/mod.ts";
import { dpctlAddFlow, dpctlDelFlow, dpctlDumpFlows } from "./dpctl.ts";
import { DpifNetdev } from "./dpif_netdev.ts";
import { pmdStatsShow } from "./pmd_stats.ts";
import { udpFrame } from "../../tests/support/dpif/test_extract.ts";

/** An in-process datapath with ports 1 and 2, EMC off so lookups reach the SMC. */
function datapath(smc: boolean): { dp: DpifNetdev; p1: DummyNetdev } {
  const dp = DpifNetdev.create("dummy", { extract: flowExtract, flowCapacity: 256 });
  const p1 = new DummyNetdev("p1");
  dp.portAdd(p1);
  dp.portAdd(new DummyNetdev("p2"));
  dp.setEmcInsertInvProb(0);
  dp.setSmcEnable(smc);
  return { dp, p1 };
}

const flowTo = (dst: number) =>
  `recirc_id(0),in_port(1),eth(dst=50:54:00:00:00:${
    dst.toString(16).padStart(2, "0")
  }),eth_type(0x0800),ipv4(frag=no)`;

Deno.test("smc: a dpcls hit fills the SMC, the next packet of the flow is an SMC hit", () => {
  const { dp, p1 } = datapath(true);
  try {
    dpctlAddFlow(dp, [flowTo(7), "2"]);
    p1.receive([udpFrame(1, 7, 1, 2)]);
    p1.receive([udpFrame(1, 7, 1, 2), udpFrame(2, 7, 3, 4)]);
    const s = dp.pmdStats();
    assert.deepEqual([s.emcHits, s.smcHits, s.megaflowHits, s.missed], [0, 1, 2, 0]);
    assert.match(pmdStatsShow(dp), /\n {2}emc hits: 0\n {2}smc hits: 1\n {2}megaflow hits: 2\n/);
  } finally {
    dp.destroy();
  }
});

Deno.test("smc: off by default, as in OVS; no SMC hits without smc-enable", () => {
  const { dp, p1 } = datapath(false);
  try {
    dpctlAddFlow(dp, [flowTo(7), "2"]);
    for (let i = 0; i < 3; i++) p1.receive([udpFrame(1, 7, 1, 2)]);
    assert.deepEqual([dp.pmdStats().smcHits, dp.pmdStats().megaflowHits], [0, 3]);
  } finally {
    dp.destroy();
  }
});

Deno.test("smc: a deleted flow is never hit through its stale entry, even with its slot reused", () => {
  const { dp, p1 } = datapath(true);
  try {
    dpctlAddFlow(dp, [flowTo(7), "2"]);
    p1.receive([udpFrame(1, 7, 1, 2)]);
    p1.receive([udpFrame(1, 7, 1, 2)]);
    assert.equal(dp.pmdStats().smcHits, 1);
    dpctlDelFlow(dp, [flowTo(7)]);
    // The freed slot goes to the next flow: the SMC entry now names a flow
    // with the same mask but another key, which the packet must not hit.
    dpctlAddFlow(dp, [flowTo(8), "2"]);
    p1.receive([udpFrame(1, 7, 1, 2)]);
    const s = dp.pmdStats();
    assert.deepEqual([s.smcHits, s.megaflowHits, s.missed], [1, 1, 1]);
    assert.match(dpctlDumpFlows(dp, []), /eth\(dst=50:54:00:00:00:08\).*packets:0,/);
  } finally {
    dp.destroy();
  }
});

/** 16 masks: flows on eth dst, half of them also on the UDP source port's low bits. */
function installSixteenMasks(dp: DpifNetdev): void {
  for (let m = 0; m < 16; m++) {
    const bits = m + 1;
    const mask = ((1 << bits) - 1) & 0xffff || 0xffff;
    for (let dst = 1; dst <= 4; dst++) {
      dpctlAddFlow(dp, [
        `recirc_id(0),in_port(1),eth(dst=50:54:00:00:${m.toString(16).padStart(2, "0")}:0${dst}),` +
        `eth_type(0x0800),ipv4(proto=17,frag=no),udp(src=${dst & mask}/0x${mask.toString(16)})`,
        "2",
      ]);
    }
  }
}

Deno.test("smc: the same packets hit the same flows with the SMC on and off (16 subtables)", () => {
  const runs: string[] = [];
  for (const smc of [false, true]) {
    const { dp, p1 } = datapath(smc);
    try {
      installSixteenMasks(dp);
      for (let round = 0; round < 3; round++) {
        for (let m = 0; m < 16; m++) {
          for (let dst = 1; dst <= 5; dst++) {
            p1.receive([udpFrame(1, (m << 8) | dst, dst, 9), udpFrame(2, (m << 8) | dst, 99, 9)]);
          }
        }
      }
      const s = dp.pmdStats();
      assert.equal(s.smcHits > 0, smc, `smc=${smc}: smc hits ${s.smcHits}`);
      const dump = dpctlDumpFlows(dp, []).split("\n").filter((l) => !l.includes("used:never"))
        .map((l) => l.replace(/, used:.*$/, "")).sort().join("\n");
      runs.push(`hits ${s.emcHits + s.smcHits + s.megaflowHits} missed ${s.missed}\n${dump}`);
    } finally {
      dp.destroy();
    }
  }
  assert.equal(runs[1], runs[0]);
});

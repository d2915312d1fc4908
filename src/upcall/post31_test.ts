/**
 * What OVS learned after 3.1 in the revalidators, in-process: each test
 * follows an upstream commit or testsuite case (named in the test), and
 * the ones where 3.1 differs also check `ovs-compat=3.1` keeps 3.1's way.
 */
import assert from "node:assert/strict";
import {
  clockStop,
  clockWarp,
  coverageTotal,
  setVlogFile,
  timeMsec,
  vlogSetFromString,
} from "../lib/mod.ts";
import { revalidatorSetup } from "../../tests/support/upcall/reval_setup.ts";
import { tcpFrame } from "../../tests/support/upcall/test_support.ts";
import { OVS_COMPAT_3_1 } from "./compat.ts";
import {
  FDR_FLOW_IDLE,
  FDR_FLOW_MISSING_DP,
  FDR_FLOW_WILDCARDED,
  FDR_PURGE,
  FDR_TOO_EXPENSIVE,
  formatDeletionReasons,
} from "./deletion_reasons.ts";
import { nextFlowLimit } from "./flow_limit.ts";
import { dpctlDumpFlows } from "../dpif/mod.ts";
import { UkeyRevalidation, XcacheStore } from "./revalidate_ukey.ts";

const count = (n: string) => coverageTotal(n) ?? 0;
clockStop();

const setup = revalidatorSetup;

Deno.test("ofproto-dpif - Cleanup missing datapath flows: a ukey missed by 4 dumps in a row is deleted (180ab2fd6)", async () => {
  const { t, reval, send } = setup();
  send(1000);
  await reval.cycle();
  assert.equal(t.ctx.ukeys.count(), 1, "the ukey exists");
  const missing = count("revalidate_missing_dp_flow");
  const reasons = t.ctx.shared.deletions(FDR_FLOW_MISSING_DP);
  t.dp.flowFlush();
  for (let i = 0; i < 3; i++) await reval.cycle();
  assert.equal(t.ctx.ukeys.count(), 1, "three missed dumps are not enough");
  await reval.cycle();
  assert.equal(t.ctx.ukeys.count(), 0, "the fourth drops it");
  assert.equal(count("revalidate_missing_dp_flow"), missing + 1);
  assert.equal(t.ctx.shared.deletions(FDR_FLOW_MISSING_DP), reasons + 1);
  t.destroy();
});

Deno.test("a ukey whose flow is dumped again starts counting its missed dumps afresh", async () => {
  const { t, reval, send } = setup();
  send(1000);
  await reval.cycle();
  const u = new Uint32Array(4);
  let slot = -1;
  for (let m = 0; m < 512; m++) t.ctx.ukeys.forEachInUmap(m, (s) => (slot = s));
  t.ctx.ukeys.ufid(slot, u);
  t.ctx.ukeys.setMissedDumps(slot, 3);
  await reval.cycle();
  assert.equal(t.ctx.ukeys.missedDumps(slot), 0, "dumped this round");
  assert.equal(t.ctx.ukeys.tcpFlags(slot) >>> 16, 0, "the missed count is not read as TCP flags");
  assert.equal(t.ctx.ukeys.count(), 1);
  t.destroy();
});

Deno.test("with ovs-compat=3.1 a stale ukey stays (no revalidate_missing_dp_flow)", async () => {
  const { t, reval, send } = setup();
  t.ctx.shared.ovsCompat = OVS_COMPAT_3_1;
  send(1000);
  await reval.cycle();
  const missing = count("revalidate_missing_dp_flow");
  t.dp.flowFlush();
  for (let i = 0; i < 6; i++) await reval.cycle();
  assert.equal(t.ctx.ukeys.count(), 1);
  assert.equal(count("revalidate_missing_dp_flow"), missing);
  t.destroy();
});

Deno.test("every deletion is counted under its reason: idle, purge, wildcarded", async () => {
  const { t, reval, send } = setup();
  const sh = t.ctx.shared;
  const idle = sh.deletions(FDR_FLOW_IDLE);
  send(1000);
  await reval.cycle();
  clockWarp(10001);
  await reval.cycle();
  assert.equal(sh.deletions(FDR_FLOW_IDLE), idle + 1);

  const purge = sh.deletions(FDR_PURGE);
  send(1001);
  await reval.cycle();
  reval.revalidator.sweep(true);
  assert.equal(sh.deletions(FDR_PURGE), purge + 1);

  // A higher rule now looks at tp_dst: the installed flow is too wide.
  const wide = sh.deletions(FDR_FLOW_WILDCARDED);
  send(1002);
  await reval.cycle();
  t.xlate.add(200, { tp_dst: 81 }, []);
  sh.revalSeq.change();
  await reval.cycle();
  assert.equal(sh.deletions(FDR_FLOW_WILDCARDED), wide + 1);
  assert.equal(t.ctx.ukeys.count(), 0);
  assert.match(formatDeletionReasons(sh), /^ {4}flow_idle {7}: [1-9]\d*$/m);
  t.destroy();
});

Deno.test("min-revalidate-pps=0 always revalidates (e5b3cb999); OVS 3.1 took 0 as 1", () => {
  const { t } = setup();
  const r = new UkeyRevalidation(t.ctx, new XcacheStore(1));
  const sh = t.ctx.shared;
  sh.maxRevalidator = 500;
  sh.dumpDuration = 400; // a slow dump: the pps rule applies
  sh.minRevalidatePps = 0;
  // One packet in 5 s is 0.2 pps.
  const used = 1000;
  clockWarp(6000);
  assert.equal(r.shouldRevalidate(1, used), true);
  sh.ovsCompat = OVS_COMPAT_3_1;
  assert.equal(r.shouldRevalidate(1, used), false, "3.1: 0 means 1 pps");
  t.destroy();
});

Deno.test("a counter that went backwards: counted and judged as a wrap since 3.2 (59c908410), push 0 in 3.1", async () => {
  const { t, reval, send } = setup();
  const sh = t.ctx.shared;
  sh.maxRevalidator = 500;
  send(1000);
  await reval.cycle();
  let slot = -1;
  for (let m = 0; m < 512; m++) t.ctx.ukeys.forEachInUmap(m, (s) => (slot = s));
  const ukeys = t.ctx.ukeys;
  // The ukey believes it saw more packets than the datapath now reports,
  // long ago: a rule change must translate it again, not call it too expensive.
  clockWarp(5000);
  ukeys.setStats(slot, 1000, 64000, timeMsec() - 4000, 0);
  const resets = count("ukey_invalid_stat_reset");
  const tooExpensive = sh.deletions(FDR_TOO_EXPENSIVE);
  sh.revalSeq.change();
  sh.dumpDuration = 400; // the last dump was slow: the pps rule applies
  await reval.cycle();
  assert.equal(count("ukey_invalid_stat_reset"), resets + 1);
  assert.equal(sh.deletions(FDR_TOO_EXPENSIVE), tooExpensive, "revalidated, not deleted");
  assert.equal(ukeys.count(), 1);

  sh.ovsCompat = OVS_COMPAT_3_1;
  ukeys.setStats(slot, 1000, 64000, timeMsec() - 4000, 0);
  sh.revalSeq.change();
  sh.dumpDuration = 400;
  await reval.cycle();
  assert.equal(count("ukey_invalid_stat_reset"), resets + 1, "3.1 has no such counter");
  assert.equal(sh.deletions(FDR_TOO_EXPENSIVE), tooExpensive + 1, "3.1: push 0 looks too slow");
  t.destroy();
});

Deno.test("flow-limit steps are counted since 3.3 (969b3a570), not in 3.1 mode", () => {
  const c = () => [
    count("upcall_flow_limit_scaled"),
    count("upcall_flow_limit_reduced"),
    count("upcall_flow_limit_grew"),
  ];
  const before = c();
  nextFlowLimit(90000, 3500, 0, 200000, true);
  nextFlowLimit(10000, 1500, 0, 200000, true);
  nextFlowLimit(10000, 500, 9000, 200000, true);
  nextFlowLimit(10000, 500, 4000, 200000, true); // no step
  assert.deepEqual(c(), before.map((v) => v + 1));
  nextFlowLimit(90000, 3500, 0, 200000, false);
  assert.deepEqual(c(), before.map((v) => v + 1));
});

Deno.test("each deletion logs its UFID and reason at debug level", async () => {
  const { t, reval, send } = setup();
  send(1000);
  await reval.cycle();
  const ufid = dpctlDumpFlows(t.dp, ["-m"]).match(/^ufid:[0-9a-f-]+/m)![0];
  const dir = Deno.makeTempDirSync();
  setVlogFile(`${dir}/udpif.log`);
  vlogSetFromString("ofproto_dpif_upcall:file:dbg");
  try {
    clockWarp(10001);
    await reval.cycle();
  } finally {
    vlogSetFromString("ofproto_dpif_upcall:file:info");
    setVlogFile(undefined);
  }
  const log = Deno.readTextFileSync(`${dir}/udpif.log`);
  Deno.removeSync(dir, { recursive: true });
  assert.match(
    log,
    new RegExp(`\\|DBG\\|deleting ukey ${ufid}: Flow idle timeout \\(flow_idle\\)$`, "m"),
  );
  t.destroy();
});

Deno.test("a dump over 2 s is logged at WARN since 3.3 (92ff2a201), at INFO in 3.1 mode", async () => {
  const { t, reval, send } = setup();
  send(1000);
  // The dump takes 2.5 s: the clock jumps as the leader starts it.
  const dumpStart = t.binding.dumpStart.bind(t.binding);
  t.binding.dumpStart = () => (clockWarp(2500), dumpStart());
  const dir = Deno.makeTempDirSync();
  setVlogFile(`${dir}/udpif.log`);
  try {
    await reval.cycle();
    t.ctx.shared.ovsCompat = OVS_COMPAT_3_1;
    await reval.cycle();
  } finally {
    setVlogFile(undefined);
  }
  const lines = Deno.readTextFileSync(`${dir}/udpif.log`).split("\n")
    .filter((l) => l.includes("unreasonably long"));
  Deno.removeSync(dir, { recursive: true });
  assert.equal(lines.length, 2, lines.join("\n"));
  assert.match(
    lines[0],
    /\|ofproto_dpif_upcall\|WARN\|Spent an unreasonably long 2500ms dumping flows$/,
  );
  assert.match(
    lines[1],
    /\|ofproto_dpif_upcall\|INFO\|Spent an unreasonably long 2500ms dumping flows$/,
  );
  t.destroy();
});

Deno.test("a flow missed by one dump is revalidated with its last known stats, so no packet counts twice (6c24851f4)", async () => {
  const { t, reval, send } = setup();
  const rule = t.xlate.rules[1];
  const through = (n: number) => {
    t.p1.receive(Array.from({ length: n }, () => tcpFrame(1, 2, 1000, 80)));
    t.pump();
  };
  send(1000);
  through(3);
  await reval.cycle();
  assert.equal(t.xlate.nPackets(rule), 4, "the upcall's packet and the flow's 3");
  // One dump misses the flow (as a datapath table reshuffle can), under a rule change.
  const dumpNext = t.binding.dumpNext.bind(t.binding);
  let miss = true;
  t.binding.dumpNext = (thread, out, max) => miss ? 0 : dumpNext(thread, out, max);
  const missed = count("revalidate_missed_dp_flow");
  t.ctx.shared.revalSeq.change();
  await reval.cycle();
  miss = false;
  assert.equal(count("revalidate_missed_dp_flow"), missed + 1, "the sweep revalidated it");
  through(2);
  await reval.cycle();
  assert.equal(t.xlate.nPackets(rule), 6, "each packet once");
  t.destroy();
});

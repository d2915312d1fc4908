import assert from "node:assert/strict";
import { exactField, F } from "../flow/mod.ts";
import { clockStop, clockWarp, coverageTotal, setVlogFile } from "../lib/mod.ts";
import { revalidatorSetup } from "../../tests/support/upcall/reval_setup.ts";
import { keyOf, tcpFrame } from "../../tests/support/upcall/test_support.ts";
import { UKEY_OPERATIONAL } from "./ukey_table.ts";
import { OVS_COMPAT_3_1, OVS_COMPAT_LATEST } from "./compat.ts";
import { dpctlAddFlow, dpctlDumpFlows, PUT_CREATE } from "../dpif/mod.ts";

const count = (n: string) => coverageTotal(n) ?? 0;
clockStop();

const setup = revalidatorSetup;

Deno.test("a flow idle for max-idle is deleted and its ukey swept in the same cycle", async () => {
  const { t, reval, send, flows } = setup();
  send(1000);
  await reval.cycle();
  assert.equal(flows(), 1);
  clockWarp(9000);
  await reval.cycle();
  assert.equal(flows(), 1, "not idle long enough");
  clockWarp(1001);
  await reval.cycle();
  assert.equal(flows(), 0);
  assert.equal(t.ctx.ukeys.count(), 0);
  t.destroy();
});

Deno.test("packets that hit a datapath flow are credited to its rule by the revalidator", async () => {
  const { t, reval, send } = setup((t) => {
    t.xlate.add(0, {}, [{ type: "output", port: 2 }]);
  });
  const rule = t.xlate.rules[1];
  send(1000);
  assert.equal(t.xlate.nPackets(rule), 1, "the upcalled packet, at translation");
  t.p1.receive([tcpFrame(1, 2, 1000, 80), tcpFrame(1, 2, 1000, 80), tcpFrame(1, 2, 1000, 80)]);
  t.pump();
  await reval.cycle();
  assert.equal(t.xlate.nPackets(rule), 4);
  assert.equal(t.xlate.nBytes(rule), 4 * 64);
  await reval.cycle();
  assert.equal(t.xlate.nPackets(rule), 4, "the same packets are never pushed twice");
  t.p1.receive([tcpFrame(1, 2, 1000, 80)]);
  t.pump();
  clockWarp(10001);
  await reval.cycle();
  assert.equal(t.dp.getStats().flows, 0, "idle again");
  assert.equal(t.xlate.nPackets(rule), 5, "a deleted flow's last packets are pushed too");
  t.destroy();
});

Deno.test("after a rule's actions change, the flow is modified in place", async () => {
  const { t, reval, send, flows } = setup();
  send(1000);
  await reval.cycle();
  t.xlate.rules[1].actions = [{ type: "output", port: 1 }];
  t.ctx.shared.revalSeq.change();
  await reval.cycle();
  assert.equal(flows(), 1);
  const snap = t.binding.newDumpedFlow();
  const ufid = t.binding.newDumpedFlow().ufid;
  t.binding.dumpStart();
  t.binding.dumpThreadStart(0, false);
  const out = [snap];
  assert.equal(t.binding.dumpNext(0, out, 1), 1);
  ufid.set(snap.ufid);
  assert.deepEqual(t.binding.flowActions(snap), [{ type: "output", port: 1 }]);
  const slot = t.ctx.ukeys.lookup(ufid, 0);
  assert.equal(t.ctx.ukeys.state(slot), UKEY_OPERATIONAL);
  t.destroy();
});

Deno.test("a flow whose rule now looks at more fields than its mask is deleted", async () => {
  const { t, reval, send, flows } = setup();
  send(1000);
  await reval.cycle();
  t.xlate.rules[1].match = { nw_src: 0x0a000001 };
  t.ctx.shared.revalSeq.change();
  await reval.cycle();
  assert.equal(flows(), 0);
  assert.equal(t.ctx.ukeys.count(), 0);
  t.destroy();
});

Deno.test("above twice the flow limit every flow is deleted as an emergency", async () => {
  const { t, reval, send, flows } = setup();
  send(1000, 1001, 1002, 1003, 1004);
  assert.equal(flows(), 5);
  t.ctx.shared.flowLimit = 2;
  const kill = count("upcall_flow_limit_kill");
  clockWarp(101);
  await reval.cycle();
  assert.equal(flows(), 0);
  assert.ok(count("upcall_flow_limit_kill") > kill);
  t.destroy();
});

Deno.test("above the flow limit flows idle for 100 ms are deleted", async () => {
  const { t, reval, send, flows } = setup();
  send(1000, 1001, 1002);
  clockWarp(60);
  t.p1.receive([1000, 1001, 1002].map((s) => tcpFrame(1, 2, s, 80)));
  t.pump();
  clockWarp(60);
  t.ctx.shared.flowLimit = 2;
  await reval.cycle();
  assert.equal(flows(), 3, "used 60 ms ago: not idle for 100 ms yet");
  t.ctx.shared.flowLimit = 2;
  clockWarp(150);
  await reval.cycle();
  assert.equal(flows(), 0);
  t.destroy();
});

Deno.test("the leader retunes the limit from the dump's duration", async () => {
  const { t, reval, send } = setup();
  const slow = t.binding.dumpThreadStart.bind(t.binding);
  let warp = 0;
  t.binding.dumpThreadStart = (thread: number, terse: boolean) => {
    clockWarp(warp);
    slow(thread, terse);
  };
  send(...Array.from({ length: 11 }, (_, i) => 1000 + i));
  clockWarp(101);
  await reval.cycle();
  assert.equal(t.ctx.shared.dumpDuration, 1);
  assert.equal(t.ctx.shared.flowLimit, 11000, "11 flows in 1 ms: room to grow");
  warp = 2500;
  await reval.cycle();
  assert.equal(t.ctx.shared.dumpDuration, 2500);
  assert.equal(t.ctx.shared.flowLimit, 5500);
  warp = 1500;
  await reval.cycle();
  assert.equal(t.ctx.shared.flowLimit, 4125);
  t.destroy();
});

Deno.test("the leader keeps the average and maximum flow counts", async () => {
  const { t, reval, send } = setup();
  send(1000, 1001, 1002, 1003);
  clockWarp(101);
  await reval.cycle();
  assert.equal(t.ctx.shared.avgNFlows, 2);
  assert.equal(t.ctx.shared.maxNFlows, 4);
  await reval.cycle();
  assert.equal(t.ctx.shared.avgNFlows, 3);
  t.destroy();
});

Deno.test("purge deletes every flow that has a ukey, and the ukeys", () => {
  const { t, reval, send, flows } = setup();
  send(1000, 1001, 1002);
  reval.revalidator.sweep(true);
  assert.equal(flows(), 0);
  assert.equal(t.ctx.ukeys.count(), 0);
  t.destroy();
});

Deno.test("a datapath flow nobody installed is adopted as a ukey and revalidated", async () => {
  const { t, reval, flows } = setup();
  const f = tcpFrame(1, 2, 1000, 80);
  const mask = new Uint32Array(keyOf(f, 1).length);
  const mb = new Uint8Array(mask.buffer);
  for (const s of [F.in_port, F.tp_src]) exactField(mb, s);
  t.dp.flowPut({
    flags: PUT_CREATE,
    key: keyOf(f, 1),
    mask,
    actions: [{ type: "output", port: 2 }],
  });
  await reval.cycle();
  assert.equal(t.ctx.ukeys.count(), 1);
  assert.equal(flows(), 1, "the flow matches its fresh translation");
  const put2 = t.dp.flowPut({
    flags: PUT_CREATE,
    key: keyOf(tcpFrame(1, 2, 1001, 80), 1),
    mask,
    actions: [{ type: "output", port: 1 }],
  });
  await reval.cycle();
  assert.equal(t.ctx.ukeys.count(), 2);
  const snap = t.binding.newDumpedFlow();
  assert.ok(t.binding.flowGet(put2.flow!.ufid, snap));
  assert.deepEqual(t.binding.flowActions(snap), [{ type: "output", port: 2 }], "actions fixed");
  t.destroy();
});

Deno.test("a ukey whose flow vanished from the datapath stays until a purge, as in OVS 3.1", async () => {
  const { t, reval, send } = setup();
  t.ctx.shared.ovsCompat = OVS_COMPAT_3_1;
  send(1000);
  await reval.cycle();
  t.dp.flowFlush();
  for (let i = 0; i < 6; i++) await reval.cycle();
  assert.equal(t.ctx.ukeys.count(), 1, "no reval_seq change: the sweep keeps the ukey");
  reval.revalidator.sweep(true);
  assert.equal(t.ctx.ukeys.count(), 0, "purge drops it");
  t.destroy();
});

Deno.test("a ukey held by another thread is skipped and counted as contention", async () => {
  const { t, reval, send, flows } = setup();
  send(1000);
  const u = new Uint32Array(4);
  for (let m = 0; m < 512; m++) t.ctx.ukeys.forEachInUmap(m, (s) => t.ctx.ukeys.ufid(s, u));
  const slot = t.ctx.ukeys.lookup(u, 0);
  assert.ok(t.ctx.ukeys.tryLock(slot));
  const c = count("upcall_ukey_contention");
  clockWarp(20000);
  await reval.cycle();
  // Once by the dump, once by the sweep (OVS 3.4, ed379a810; 3.1 counted only the dump's).
  assert.equal(count("upcall_ukey_contention"), c + 2);
  t.ctx.shared.ovsCompat = OVS_COMPAT_3_1;
  await reval.cycle();
  assert.equal(count("upcall_ukey_contention"), c + 3);
  t.ctx.shared.ovsCompat = OVS_COMPAT_LATEST;
  assert.equal(flows(), 1, "the idle flow survives while its ukey is held");
  t.ctx.ukeys.unlock(slot);
  await reval.cycle();
  assert.equal(flows(), 0);
  t.destroy();
});

Deno.test("the revalidator's log prints a UFID exactly as dpctl/dump-flows does", async () => {
  const { t, reval } = setup();
  // A recirculated flow nobody installed cannot be adopted: the revalidator logs it.
  const U = "b7cb35d9-9d6d-4fd9-ab67-1ba79f26d75d";
  dpctlAddFlow(t.dp, [`ufid:${U},recirc_id(0x1),in_port(1),eth_type(0x0800),ipv4(frag=no)`, "2"]);
  const dumped = dpctlDumpFlows(t.dp, ["-m"]).match(/^ufid:[0-9a-f-]+/m)?.[0];
  assert.equal(dumped, `ufid:${U}`);
  const dir = Deno.makeTempDirSync();
  setVlogFile(`${dir}/udpif.log`);
  try {
    await reval.cycle();
  } finally {
    setVlogFile(undefined);
  }
  const logged = Deno.readTextFileSync(`${dir}/udpif.log`)
    .split("\n").find((l) => l.includes("unexpected flow"));
  Deno.removeSync(dir, { recursive: true });
  assert.ok(logged, "the unexpected flow is logged");
  assert.ok(logged.endsWith(`: ${dumped}`), logged);
  assert.equal(t.dp.getStats().flows, 0, "and deleted");
  t.destroy();
});

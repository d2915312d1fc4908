/**
 * udpif with real workers: handler and revalidator Web Workers over the
 * netdev datapath with its PMD worker, on the stopped shared clock.
 * Nothing sleeps: tests wait for handled-upcall counts and dump_seq
 * changes, and move time with warps.
 */
import assert from "node:assert/strict";
import { F } from "../flow/mod.ts";
import { DpifNetdev, FlowSnapshot, snapshotActions } from "../dpif/mod.ts";
import { clockStop, clockWarp, coverageTotal, timeMsec } from "../lib/mod.ts";
import { DummyNetdev } from "../netdev/mod.ts";
import { revalidatorPurge, setMegaflows, upcallShow } from "./commands.ts";
import { RuleXlate, tcpFrame } from "../../tests/support/upcall/test_support.ts";
import { Udpif, XLATE_LOG_MAX } from "./udpif.ts";
import { OVS_COMPAT_3_1 } from "./compat.ts";
import { pollUntil } from "../../tests/poll.ts";
import { hugePagesAdvised } from "../../tests/support/huge_pages.ts";

clockStop();
const count = (n: string) => coverageTotal(n) ?? 0;

async function setup(
  rules: (x: RuleXlate) => void,
  threads = [1, 1],
  snapshot?: (x: RuleXlate) => unknown,
) {
  const dp = DpifNetdev.create("dummy", {
    flowCapacity: 4096,
    extractModule: new URL("../flow/mod.ts", import.meta.url).href,
  });
  await dp.ready();
  const p1 = new DummyNetdev("p1");
  const p2 = new DummyNetdev("p2", "dummy", { recordTx: true });
  dp.portAdd(p1);
  dp.portAdd(p2);
  const xlate = new RuleXlate();
  // One flow per connection: the highest rule looks at tp_src.
  xlate.add(100, { tp_src: 9999 }, []);
  rules(xlate);
  const udpif = new Udpif({
    dp,
    xlateModule: new URL("../../tests/support/upcall/test_support.ts", import.meta.url).href,
    xlateInit: xlate.init(),
    mainXlate: xlate,
    cores: 2,
    xlateSnapshot: snapshot && (() => snapshot(xlate)),
  });
  await udpif.setThreads(threads[0], threads[1]);
  let sent = 0;
  /** Sends one packet per source port and waits until handlers are done with them. */
  const send = async (...sports: number[]) => {
    const before = dp.getStats();
    p1.receive(sports.map((s) => tcpFrame(1, 2, s, 80)));
    sent += sports.length;
    // Every packet is either a hit or a miss that becomes one upcall.
    await pollUntil(() => {
      const s = dp.getStats();
      return s.hit - before.hit + s.missed - before.missed >= sports.length;
    }, "the packets looked up");
    await udpif.shared.waitHandled(dp.getStats().missed);
  };
  /**
   * A complete revalidation cycle that started after this call. Time moves
   * only while the leader sleeps, so no dump is stretched by a warp.
   */
  const cycle = async () => {
    for (let i = 0; i < 2; i++) {
      await udpif.shared.waitLeaderAsleep();
      const done = udpif.waitDump();
      clockWarp(500);
      await done;
    }
  };
  const done = async () => {
    await udpif.destroy();
    dp.destroy();
  };
  return { dp, p1, p2, xlate, udpif, send, cycle, done, sent: () => sent };
}

Deno.test("worker handlers install megaflows and upcall/show counts their ukeys", async () => {
  const { dp, p2, udpif, send, cycle, done } = await setup((x) => {
    x.add(10, { tp_dst: 80 }, [{ type: "output", port: 2 }]);
  });
  await send(1000, 1001);
  assert.equal(dp.getStats().flows, 2);
  await cycle();
  const tid = udpif.revalidatorTids[0];
  assert.match(
    upcallShow([udpif]),
    new RegExp(
      "^dummy@ovs-dummy:\n  flows         : \\(current 2\\) \\(avg \\d+\\) \\(max 2\\) " +
        `\\(limit 1\\d000\\)\n  dump duration : 1ms\n  ufid enabled : true\n\n  ${tid}: \\(keys 2\\)\n$`,
    ),
  );
  p2.pollTx();
  assert.equal(p2.txFrames.length, 2);
  await done();
});

Deno.test("worker revalidators expire idle flows and push their stats to the rules", async () => {
  let rule = undefined as unknown as ReturnType<RuleXlate["add"]>;
  const { dp, p1, xlate, send, cycle, done } = await setup((x) => {
    rule = x.add(10, { tp_dst: 80 }, [{ type: "output", port: 2 }]);
  });
  await send(1000);
  p1.receive([tcpFrame(1, 2, 1000, 80), tcpFrame(1, 2, 1000, 80)]);
  await send(1000);
  await cycle();
  assert.equal(xlate.nPackets(rule), 4, "1 upcall + 3 datapath hits");
  clockWarp(10000);
  await cycle();
  assert.equal(dp.getStats().flows, 0);
  await done();
});

Deno.test("after mod-flows worker revalidators modify in place, after a narrower rule they delete", async () => {
  const { dp, xlate, udpif, send, cycle, done } = await setup((x) => {
    x.add(10, { tp_dst: 80 }, [{ type: "output", port: 2 }]);
  });
  await send(1000);
  await cycle();
  const rules = structuredClone(xlate.rules);
  rules[1].actions = [{ type: "output", port: 1 }];
  xlate.update(rules);
  udpif.postXlateUpdate(rules);
  udpif.revalidate();
  await cycle();
  const out = [new FlowSnapshot()];
  assert.equal(dp.flowDumpCreate().threadCreate().next(out, 1), 1);
  assert.deepEqual(snapshotActions(out[0]), [{ type: "output", port: 1 }]);
  const narrower = structuredClone(rules);
  narrower[1].match = { tp_dst: 80, nw_src: 0x0a000001 };
  udpif.postXlateUpdate(narrower);
  udpif.revalidate();
  await cycle();
  assert.equal(dp.getStats().flows, 0);
  assert.equal(udpif.ukeys.count(), 0);
  await done();
});

Deno.test("purge empties the datapath; disabling megaflows flushes and installs exact flows", async () => {
  const { dp, udpif, send, done } = await setup((x) => {
    x.add(10, { tp_dst: 80 }, [{ type: "output", port: 2 }]);
  });
  await send(1000, 1001);
  // revalidator_purge skips a ukey whose lock a running dump holds, in OVS
  // too: with the revalidators parked between dumps, purge sees them all.
  await udpif.pause();
  udpif.purge();
  await udpif.resume();
  assert.equal(dp.getStats().flows, 0);
  assert.equal(udpif.ukeys.count(), 0);
  await send(1000);
  const tid = udpif.revalidatorTids[0];
  const flushes = coverageTotal("dpif_flow_flush") ?? 0;
  assert.equal(await setMegaflows([udpif], false), "megaflows disabled");
  assert.equal(dp.getStats().flows, 0, "the datapath was flushed");
  assert.equal((coverageTotal("dpif_flow_flush") ?? 0) - flushes, 1, "and dpif_flow_flush counted");
  assert.notEqual(udpif.revalidatorTids[0], tid, "threads were restarted");
  await send(1002);
  const out = [new FlowSnapshot()];
  dp.flowDumpCreate().threadCreate().next(out, 1);
  const m = new Uint8Array(out[0].mask.buffer);
  assert.equal(m[F.nw_src.off], 0xff, "exact match on nw_src");
  assert.equal(await setMegaflows([udpif], true), "megaflows enabled");
  await done();
});

Deno.test("at twice the flow limit worker revalidators delete every flow", async () => {
  const { dp, udpif, send, cycle, done } = await setup((x) => {
    x.add(10, { tp_dst: 80 }, [{ type: "output", port: 2 }]);
  });
  await send(1000, 1001, 1002, 1003, 1004);
  assert.equal(dp.getStats().flows, 5);
  const kill = count("upcall_flow_limit_kill");
  await udpif.configure({ flowLimit: 2 });
  await cycle();
  assert.equal(dp.getStats().flows, 0);
  assert.ok(count("upcall_flow_limit_kill") > kill);
  const hit = count("upcall_flow_limit_hit");
  for (const sport of [2000, 2001, 2002]) {
    clockWarp(101);
    // Refresh the 100 ms flow-count cache (udpif_get_n_flows) with the
    // count after the last install. A revalidator refreshing it at the same
    // time would make the handler's trylock fail and read the count from
    // before that install, one flow low, as OVS would too.
    udpif.nFlows(timeMsec());
    await send(sport);
  }
  assert.equal(dp.getStats().flows, 2, "handlers stop at the limit");
  assert.ok(count("upcall_flow_limit_hit") > hit);
  await done();
});

Deno.test("thread counts change under traffic without losing an upcall", async () => {
  const { dp, p2, udpif, send, cycle, done, sent } = await setup((x) => {
    x.add(10, { tp_dst: 80 }, [{ type: "output", port: 2 }]);
  });
  const traffic = (async () => {
    for (let i = 0; i < 20; i++) await send(3000 + i);
  })();
  await udpif.setThreads(2, 2);
  await traffic;
  assert.equal(udpif.nHandlers, 2);
  assert.equal(udpif.nRevalidators, 2);
  await cycle();
  const lines = upcallShow([udpif]).split("\n").filter((l) => /^ {2}\d+: \(keys \d+\)$/.test(l));
  assert.equal(lines.length, 2);
  const keys = lines.reduce((n, l) => n + Number(/keys (\d+)/.exec(l)![1]), 0);
  assert.equal(keys, dp.getStats().flows);
  p2.pollTx();
  assert.equal(p2.txFrames.length, sent(), "every packet was forwarded");
  await udpif.pause();
  await udpif.pause();
  const paused = udpif.shared.dumpSeq.read();
  await udpif.resume();
  await cycle();
  assert.ok(udpif.shared.dumpSeq.read() > paused, "dumps go on after resume");
  await udpif.pause();
  await done();
});

Deno.test("revalidator/purge pauses the revalidators while it purges (bd86266ea); a user's pause stays", async () => {
  const { dp, udpif, send, done } = await setup((x) => {
    x.add(10, { tp_dst: 80 }, [{ type: "output", port: 2 }]);
  });
  await send(1000, 1001, 1002);
  // Whether the revalidators were parked when the purge itself ran.
  const pausedDuringPurge: boolean[] = [];
  const purge = udpif.purge.bind(udpif);
  udpif.purge = () => (pausedDuringPurge.push(udpif.shared.pauseLatch), purge());
  // Paused, no revalidator holds a ukey: the purge sees every one.
  assert.equal(await revalidatorPurge([udpif]), "");
  assert.deepEqual(pausedDuringPurge, [true]);
  assert.equal(dp.getStats().flows, 0);
  assert.equal(udpif.ukeys.count(), 0);
  assert.equal(udpif.shared.pauseLatch, false, "resumed after the purge");
  await send(1003);
  await udpif.pause();
  await revalidatorPurge([udpif]);
  assert.equal(udpif.ukeys.count(), 0);
  assert.equal(udpif.shared.pauseLatch, true, "the user's pause stays");
  await udpif.resume();
  // OVS 3.1 purged beside the running revalidators.
  udpif.shared.ovsCompat = OVS_COMPAT_3_1;
  await send(1004);
  await revalidatorPurge([udpif]);
  assert.deepEqual(pausedDuringPurge, [true, true, false]);
  await done();
});

Deno.test("with the clock stopped revalidator/wait still returns, as in OVS", async () => {
  const { udpif, done } = await setup(() => {});
  // No warp: the leader's poll timeout runs in real time, as OVS's does.
  await udpif.waitDump();
  await udpif.waitDump();
  await done();
});

Deno.test("with two revalidators every flow follows a mod-flows", async () => {
  const { dp, xlate, udpif, send, cycle, done } = await setup((x) => {
    x.add(10, { tp_dst: 80 }, [{ type: "output", port: 2 }]);
  }, [1, 2]);
  await send(...Array.from({ length: 40 }, (_, i) => 4000 + i));
  await cycle();
  const rules = structuredClone(xlate.rules);
  rules[1].actions = [{ type: "output", port: 1 }];
  udpif.postXlateUpdate(rules);
  udpif.revalidate();
  await cycle();
  const out = Array.from({ length: 50 }, () => new FlowSnapshot());
  const n = dp.flowDumpCreate().threadCreate().next(out, 50);
  assert.equal(n, 40);
  for (let i = 0; i < n; i++) {
    assert.deepEqual(snapshotActions(out[i]), [{ type: "output", port: 1 }]);
  }
  assert.deepEqual(udpif.keysPerRevalidator().reduce((a, b) => a + b), 40);
  await done();
});

Deno.test("workers started after the translation state was compacted start from it", async () => {
  const { dp, xlate, udpif, send, cycle, done } = await setup((x) => {
    x.add(10, { tp_dst: 80 }, [{ type: "output", port: 2 }]);
  });
  const v2 = structuredClone(xlate.rules);
  v2[1].actions = [{ type: "output", port: 1 }];
  udpif.postXlateUpdate(v2);
  udpif.compactXlateState({ rules: v2, stats: xlate.stats });
  await udpif.setThreads(2, 2);
  await send(5000, 5001, 5002);
  await cycle();
  const out = Array.from({ length: 4 }, () => new FlowSnapshot());
  const n = dp.flowDumpCreate().threadCreate().next(out, 4);
  assert.equal(n, 3);
  for (let i = 0; i < n; i++) {
    assert.deepEqual(snapshotActions(out[i]), [{ type: "output", port: 1 }]);
  }
  await done();
});

Deno.test("the log of translation updates is replaced by a snapshot before it grows past XLATE_LOG_MAX", async () => {
  const { dp, xlate, udpif, send, cycle, done } = await setup(
    (x) => x.add(10, { tp_dst: 80 }, [{ type: "output", port: 2 }]),
    [1, 1],
    (x) => ({ rules: x.rules, stats: x.stats }),
  );
  // Every update is the rule set as it is now (RuleXlate's update replaces the rules).
  for (let i = 0; i < 3 * XLATE_LOG_MAX; i++) {
    xlate.rules[1].actions = [{ type: "output", port: 1 + (i % 2) }];
    udpif.postXlateUpdate(structuredClone(xlate.rules));
    assert.ok(
      udpif.xlateLogLength < XLATE_LOG_MAX,
      `log of ${udpif.xlateLogLength} after ${i + 1}`,
    );
  }
  // New workers start from the snapshot: the last update's output:2.
  await udpif.setThreads(2, 2);
  await send(6000, 6001);
  await cycle();
  const out = Array.from({ length: 4 }, () => new FlowSnapshot());
  const n = dp.flowDumpCreate().threadCreate().next(out, 4);
  assert.equal(n, 2);
  for (let i = 0; i < n; i++) {
    assert.deepEqual(snapshotActions(out[i]), [{ type: "output", port: 2 }]);
  }
  await done();
});

Deno.test("udpif: the ukey table is advised for huge pages", async () => {
  const dp = DpifNetdev.create("dummy", { flowCapacity: 65536 });
  const xlate = new RuleXlate();
  const udpif = new Udpif({
    dp,
    xlateModule: new URL("../../tests/support/upcall/test_support.ts", import.meta.url).href,
    xlateInit: xlate.init(),
    mainXlate: xlate,
  });
  try {
    assert.ok(hugePagesAdvised(udpif.ukeys.buffer));
  } finally {
    await udpif.destroy();
    dp.destroy();
  }
});

/**
 * The property revalidation exists for: after any rule churn and traffic,
 * once a revalidation has run, every datapath flow's actions equal a fresh
 * translation of its key and no flow is wider than that translation's
 * wildcards. Random but seeded, so a failure replays.
 */
import assert from "node:assert/strict";
import { F, newKey, type OdpAction } from "../flow/mod.ts";
import { Barrier, clockStop, clockWarp } from "../lib/mod.ts";
import { Handler } from "./handler.ts";
import { maskTooWide } from "./revalidate_ukey.ts";
import { RevalidatorThread } from "./revalidator_loop.ts";
import { tcpFrame, type TestRule, testUdpif } from "../../tests/support/upcall/test_support.ts";

clockStop();

/** xorshift32: small, seeded, good enough to pick fields and ports. */
function rng(seed: number): (n: number) => number {
  let x = seed >>> 0 || 1;
  return (n: number) => {
    x ^= x << 13;
    x >>>= 0;
    x ^= x >>> 17;
    x ^= x << 5;
    x >>>= 0;
    return x % n;
  };
}

const FIELDS = ["tp_dst", "tp_src", "nw_src", "nw_dst"] as const;

function randomRule(r: (n: number) => number, id: number): TestRule {
  const match: TestRule["match"] = {};
  for (const f of FIELDS) {
    if (r(3) !== 0) continue;
    match[f] = f.startsWith("tp") ? 80 + r(4) : 0x0a000000 + 1 + r(4);
  }
  const actions: OdpAction[] = r(4) === 0 ? [] : [{ type: "output", port: 1 + r(3) }];
  return { priority: r(100), match, actions, id };
}

for (const seed of [1, 7, 42, 1234, 99991, 3, 5, 11, 2024, 65537]) {
  Deno.test(
    `after churn and traffic every flow matches a fresh translation (seed ${seed}${
      seed % 2 ? ", exact match" : ""
    })`,
    async () => {
      const r = rng(seed);
      const t = testUdpif();
      // Odd seeds run with megaflows disabled: exact-match flows.
      t.ctx.shared.megaflows = seed % 2 === 0;
      const handler = new Handler(t.ctx, 0);
      const reval = new RevalidatorThread(t.ctx, 0, Barrier.create(1), Barrier.create(1));
      t.xlate.rules = Array.from({ length: 6 }, (_, i) => randomRule(r, i));
      t.xlate.rules.sort((a, b) => b.priority - a.priority);
      for (let round = 0; round < 30; round++) {
        const frames = Array.from(
          { length: 20 },
          () => tcpFrame(1 + r(4), 1 + r(4), 80 + r(4), 80 + r(4)),
        );
        t.p1.receive(frames);
        t.pump();
        while (handler.runOnce() > 0);
        if (r(2) === 0) {
          const i = r(t.xlate.rules.length);
          t.xlate.rules[i] = randomRule(r, t.xlate.rules[i].id);
          t.xlate.rules.sort((a, b) => b.priority - a.priority);
          t.ctx.shared.revalSeq.change();
        }
        if (r(3) === 0) await reval.cycle();
        clockWarp(50);
      }
      await reval.cycle();
      const out = Array.from({ length: 50 }, () => t.binding.newDumpedFlow());
      t.binding.dumpStart();
      t.binding.dumpThreadStart(0, false);
      let checked = 0;
      for (let n; (n = t.binding.dumpNext(0, out, 50)) > 0;) {
        for (let i = 0; i < n; i++) {
          const f = out[i];
          const wc = newKey();
          const fresh = t.xlate.translate({
            key: f.key,
            packet: null,
            packets: 0,
            bytes: 0,
            tcpFlags: 0,
            used: 0,
            wc,
            wantXcache: false,
          });
          wc[F.in_port.off >> 2] = 0xffffffff;
          assert.deepEqual(t.binding.flowActions(f), fresh.actions, "actions are current");
          assert.ok(!maskTooWide(f.mask, wc), "the flow is no wider than its translation");
          checked++;
        }
      }
      assert.ok(checked > 0);
      assert.equal(checked, t.ctx.ukeys.count(), "one ukey per datapath flow");
      t.destroy();
    },
  );
}

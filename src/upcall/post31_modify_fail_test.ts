/**
 * OVS 3.2's cf11766cb "ofproto-dpif-upcall: Fix push_dp_ops to handle all
 * errors.", in-process: a revalidator's modify that the datapath refuses
 * makes the ukey INCONSISTENT, and the flow is deleted by the next dump
 * (if it is there) or sweep, its stats credited once; `ovs-compat=3.1`
 * ignores the failure as OVS 3.1 did. The modify fails here as it can in
 * udpif: the flow is deleted between the dump that saw it and the push
 * (a `dpctl/del-flows` racing the revalidator); upstream's own test
 * ("dpif-netdev - revalidators handle dp modification fail correctly")
 * is reproduced through the command line in tests/cli/post31_test.ts.
 */
import assert from "node:assert/strict";
import { clockStop, coverageTotal } from "../lib/mod.ts";
import { revalidatorSetup } from "../../tests/support/upcall/reval_setup.ts";
import { OVS_COMPAT_3_1 } from "./compat.ts";
import { FDR_UPDATE_FAIL } from "./deletion_reasons.ts";
import { newUdpifOp, type UdpifDpif, type UdpifOp } from "./ports.ts";
import { tcpFrame } from "../../tests/support/upcall/test_support.ts";
import {
  UKEY_EVICTED,
  UKEY_EVICTING,
  UKEY_INCONSISTENT,
  UKEY_OPERATIONAL,
  UKEY_VISIBLE,
  ukeyStateNumber,
  ukeyTransition,
} from "./ukey_state.ts";

const count = (n: string) => coverageTotal(n) ?? 0;
clockStop();

/**
 * The test udpif with a revalidator whose next batch with a modify, once
 * armed, meets a flow that is gone (flushed just before the batch runs);
 * with "back", the flow is put back right after with its old actions (as
 * `dpctl/add-flow` could), so that the next dump finds it.
 */
function failingModifySetup(after: "gone" | "back") {
  const s = revalidatorSetup();
  const { t } = s;
  const dpif: UdpifDpif = t.ctx.dpif;
  const operate = dpif.operate.bind(dpif);
  let armed = false;
  let failed = 0;
  // Shadows the binding's method on this one instance.
  dpif.operate = (ops: UdpifOp[], n: number, upcall: boolean) => {
    const modifying = ops.slice(0, n).some((o) => o.type === "put" && o.modify);
    if (!armed || upcall || !modifying) return operate(ops, n, upcall);
    armed = false;
    t.dp.flowFlush();
    operate(ops, n, upcall);
    failed += ops.slice(0, n).filter((o) => o.type === "put" && o.error !== 0).length;
    if (after === "back") {
      const put = ops.slice(0, n).find((o) => o.type === "put")!;
      const again = newUdpifOp();
      again.ufid.set(put.ufid);
      again.key = put.key;
      again.mask = put.mask;
      again.pmd = put.pmd;
      again.actions = [{ type: "output", port: 2 }];
      operate([again], 1, false);
      assert.equal(again.error, 0, "the flow is back");
    }
  };
  /** A dump phase alone, as a cycle's first half. */
  const dumpPhase = () => {
    t.ctx.shared.dumpSeq.change();
    dpif.dumpStart();
    s.reval.revalidator.revalidate();
    dpif.dumpDone();
  };
  return { ...s, arm: () => (armed = true), failed: () => failed, dumpPhase };
}

/** The one ukey's slot. */
function onlySlot(t: ReturnType<typeof revalidatorSetup>["t"]): number {
  let slot = -1;
  for (let m = 0; m < 512; m++) t.ctx.ukeys.forEachInUmap(m, (s) => (slot = s));
  assert.ok(slot >= 0, "a ukey");
  return slot;
}

/** Changes the rule's actions, so that the next revalidation modifies the flow. */
function changeActions(t: ReturnType<typeof revalidatorSetup>["t"]): void {
  t.xlate.rules[1].actions = [{ type: "output", port: 1 }];
  t.ctx.shared.revalSeq.change();
}

Deno.test("the ukey states and their steps are the newest OVS's (INCONSISTENT between OPERATIONAL and EVICTING)", () => {
  assert.deepEqual([UKEY_OPERATIONAL, UKEY_INCONSISTENT, UKEY_EVICTING], [2, 3, 4]);
  assert.equal(ukeyTransition(UKEY_OPERATIONAL, UKEY_INCONSISTENT), "advance");
  assert.equal(ukeyTransition(UKEY_INCONSISTENT, UKEY_EVICTING), "advance");
  assert.equal(ukeyTransition(UKEY_OPERATIONAL, UKEY_EVICTING), "advance");
  assert.equal(ukeyTransition(UKEY_VISIBLE, UKEY_INCONSISTENT), "advance");
  assert.equal(ukeyTransition(UKEY_INCONSISTENT, UKEY_EVICTED), "refused");
  assert.equal(ukeyTransition(UKEY_INCONSISTENT, UKEY_OPERATIONAL), "backwards");
  // Logs print OVS 3.1's numbers in 3.1 mode: EVICTED was 4 there.
  assert.deepEqual(
    [ukeyStateNumber(UKEY_EVICTED, false), ukeyStateNumber(UKEY_EVICTED, true)],
    [5, 4],
  );
  assert.equal(ukeyStateNumber(UKEY_OPERATIONAL, true), 2);
});

Deno.test("a failed modify makes the ukey INCONSISTENT and the sweep deletes it as update_fail (cf11766cb)", async () => {
  const { t, reval, send, arm, failed, dumpPhase } = failingModifySetup("gone");
  send(1000);
  await reval.cycle();
  const slot = onlySlot(t);
  assert.equal(t.ctx.ukeys.state(slot), UKEY_OPERATIONAL);
  const updateFail = t.ctx.shared.deletions(FDR_UPDATE_FAIL);
  changeActions(t);
  arm();
  dumpPhase();
  assert.equal(failed(), 1, "the modify failed");
  assert.equal(t.ctx.ukeys.state(slot), UKEY_INCONSISTENT);
  reval.revalidator.sweep();
  assert.equal(t.ctx.ukeys.count(), 0, "the sweep deleted the inconsistent ukey");
  assert.equal(t.ctx.shared.deletions(FDR_UPDATE_FAIL), updateFail + 1);
  t.destroy();
});

Deno.test("an INCONSISTENT ukey whose flow the next dump finds: deleted there, its stats credited once (cf11766cb)", async () => {
  const { t, reval, send, arm, failed, dumpPhase } = failingModifySetup("back");
  send(1000);
  await reval.cycle();
  const rule = t.xlate.rules[1];
  const before = t.xlate.nPackets(rule);
  const inconsistent = count("dumped_inconsistent_flow");
  changeActions(t);
  arm();
  dumpPhase();
  assert.equal(failed(), 1);
  assert.equal(t.ctx.ukeys.state(onlySlot(t)), UKEY_INCONSISTENT);
  // The flow is back, and two packets go through it.
  assert.equal(t.dp.getStats().flows, 1);
  t.p1.receive([tcpFrame(1, 2, 1000, 80), tcpFrame(1, 2, 1000, 80)]);
  t.pump();
  const updateFail = t.ctx.shared.deletions(FDR_UPDATE_FAIL);
  dumpPhase();
  assert.equal(count("dumped_inconsistent_flow"), inconsistent + 1);
  assert.equal(t.dp.getStats().flows, 0, "the dump deleted the flow");
  reval.revalidator.sweep();
  assert.equal(t.ctx.ukeys.count(), 0);
  assert.equal(t.ctx.shared.deletions(FDR_UPDATE_FAIL), updateFail + 1);
  assert.equal(t.xlate.nPackets(rule), before + 2, "the flow's two packets, each once");
  t.destroy();
});

Deno.test("with ovs-compat=3.1 a failed modify is ignored: the ukey stays OPERATIONAL", async () => {
  const { t, reval, send, arm, failed, dumpPhase } = failingModifySetup("gone");
  t.ctx.shared.ovsCompat = OVS_COMPAT_3_1;
  send(1000);
  await reval.cycle();
  const slot = onlySlot(t);
  changeActions(t);
  arm();
  dumpPhase();
  assert.equal(failed(), 1);
  assert.equal(t.ctx.ukeys.state(slot), UKEY_OPERATIONAL);
  reval.revalidator.sweep();
  assert.equal(t.ctx.ukeys.count(), 1, "3.1 keeps the ukey");
  t.destroy();
});

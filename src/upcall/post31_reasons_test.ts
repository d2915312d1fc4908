/**
 * The deletion reasons (OVS 3.4's enum flow_del_reason, 86b9e653e) that
 * src/upcall/post31_test.ts and post31_modify_fail_test.ts do not reach:
 * each deletion is counted under the reason OVS gives it, as
 * `upcall/show --reasons` reports.
 */
import assert from "node:assert/strict";
import { clockStop, clockWarp } from "../lib/mod.ts";
import { revalidatorSetup } from "../../tests/support/upcall/reval_setup.ts";
import { FDR_AVOID_CACHING, FDR_FLOW_LIMIT, FDR_XLATION_ERROR } from "./deletion_reasons.ts";
import type { XlateRequest, XlateResult } from "./ports.ts";

clockStop();

Deno.test("above twice the flow limit each flow goes as flow_limit", async () => {
  const { t, reval, send, flows } = revalidatorSetup();
  send(1000, 1001, 1002, 1003, 1004);
  const before = t.ctx.shared.deletions(FDR_FLOW_LIMIT);
  t.ctx.shared.flowLimit = 2;
  clockWarp(101);
  await reval.cycle();
  assert.equal(flows(), 0);
  assert.equal(t.ctx.shared.deletions(FDR_FLOW_LIMIT), before + 5);
  t.destroy();
});

/**
 * A flow whose next translation (after a rule change) gives `change`'s
 * fields: the flows left and the deletions counted under `reason`.
 */
async function retranslatedAs(
  change: Partial<XlateResult>,
  reason: number,
): Promise<{ left: number; deleted: number }> {
  const { t, reval, send, flows } = revalidatorSetup();
  send(1000);
  await reval.cycle();
  const translate = t.xlate.translate.bind(t.xlate);
  t.xlate.translate = (req: XlateRequest) => ({ ...translate(req), ...change });
  t.ctx.shared.revalSeq.change();
  await reval.cycle();
  const r = { left: flows(), deleted: t.ctx.shared.deletions(reason) };
  t.destroy();
  return r;
}

Deno.test("a flow that no longer translates goes as xlation_error", async () => {
  const r = await retranslatedAs({ actions: undefined }, FDR_XLATION_ERROR);
  assert.deepEqual(r, { left: 0, deleted: 1 });
});

Deno.test("a flow whose translation now avoids caching goes as avoid_caching", async () => {
  const r = await retranslatedAs({ avoidCaching: true }, FDR_AVOID_CACHING);
  assert.deepEqual(r, { left: 0, deleted: 1 });
});

Deno.test("a flow deleted for avoid_caching credits its last packets through the cache that translation filled", async () => {
  const { t, reval, send, flows } = revalidatorSetup();
  send(1000);
  await reval.cycle();
  // A second packet the datapath flow counts and no rule has been credited with yet.
  send(1000);
  const translate = t.xlate.translate.bind(t.xlate);
  t.xlate.translate = (req: XlateRequest) => ({ ...translate(req), avoidCaching: true });
  const before = t.xlate.translations;
  t.ctx.shared.revalSeq.change();
  await reval.cycle();
  assert.equal(flows(), 0);
  // As OVS's ukey->xcache, refilled by revalidate_ukey__ whatever it decides:
  // the delete's push goes through it, not through another translation.
  assert.equal(t.xlate.translations - before, 1);
  const rule = t.xlate.rules.find((r) => r.priority === 0)!;
  assert.equal(t.xlate.nPackets(rule), 2);
  t.destroy();
});

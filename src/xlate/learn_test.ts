/**
 * learn and fin_timeout in translation: what goes to the LearnSink, what
 * the xlate cache keeps for refreshes, and the megaflow bits they set.
 */
import assert from "node:assert/strict";
import { F, type FlowKey } from "../flow/mod.ts";
import type { FlowMod } from "../ofproto/mod.ts";
import { maskOf, xlateText } from "../../tests/support/xlate/replay.ts";
import { type LearnSink, xlateCachePushLearn } from "./learn.ts";

const TCP = "in_port=1,tcp,dl_src=50:54:00:00:00:01,dl_dst=50:54:00:00:00:02," +
  "nw_src=10.0.0.1,nw_dst=10.0.0.2,nw_ttl=64,tp_src=100,tp_dst=200";

class RecordingSink implements LearnSink {
  learns: { ruleId: number; ordinal: number; fm: FlowMod | null; limit: number }[] = [];
  reduced: [number, number, number][] = [];
  refuse = false;
  /** What isLearned answers: whether the learned flow is in the table. */
  present = false;
  asked = 0;
  isLearned(_fm: FlowMod): boolean {
    this.asked++;
    return this.present;
  }
  learn(ruleId: number, ordinal: number, _flow: FlowKey, fm: FlowMod | null, limit: number) {
    this.learns.push({ ruleId, ordinal, fm, limit });
    return !this.refuse;
  }
  reduceTimeouts(ruleId: number, idle: number, hard: number): void {
    this.reduced.push([ruleId, idle, hard]);
  }
}

const LEARN = "in_port=1,actions=learn(table=1,limit=2,NXM_OF_ETH_DST[]=NXM_OF_ETH_SRC[]," +
  "output:NXM_OF_IN_PORT[]),learn(table=2,NXM_OF_IP_DST[]),output:2";

Deno.test("a handler's learn sends one flow_mod per learn action and matches the copied fields", () => {
  const sink = new RecordingSink();
  const out = xlateText([LEARN], TCP, { learnSink: sink });
  assert.equal(out.text, "2");
  assert.deepEqual(sink.learns.map((l) => [l.ordinal, l.limit, l.fm?.tableId]), [
    [0, 2, 1],
    [1, 0, 2],
  ]);
  // The learned flows' sources are in the megaflow (learn_mask); in_port always is.
  assert.equal(maskOf(out.wc, F.dl_src), "ffffffffffff");
  assert.equal(maskOf(out.wc, F.nw_dst), "ffffffff");
  assert.equal(maskOf(out.wc, F.dl_dst), "");
});

Deno.test("without side effects nothing is learned, but the cache records the learns for refreshes", () => {
  const sink = new RecordingSink();
  const out = xlateText([LEARN], TCP, { learnSink: sink, sideEffects: false, buildCache: true });
  assert.equal(sink.learns.length, 0);
  assert.equal(out.cache.learn.length, 2);
  xlateCachePushLearn(out.cache.learn, out.cache.fin, 0, 0, () => sink);
  assert.equal(sink.learns.length, 0, "a push without packets refreshes nothing");
  xlateCachePushLearn(out.cache.learn, out.cache.fin, 3, 0, () => sink);
  assert.deepEqual(sink.learns.map((l) => [l.ordinal, l.fm]), [[0, null], [1, null]]);
});

Deno.test("result_dst says whether the limit let the learn through", () => {
  const rules = [
    "table=0,in_port=1,actions=learn(table=1,limit=1,result_dst=reg0[0],NXM_OF_ETH_DST[]=NXM_OF_ETH_SRC[]),resubmit(,2)",
    "table=2,reg0=1,actions=output:2",
    "table=2,reg0=0,actions=output:3",
  ];
  const sink = new RecordingSink();
  assert.equal(xlateText(rules, TCP, { learnSink: sink }).text, "2");
  sink.refuse = true;
  assert.equal(xlateText(rules, TCP, { learnSink: sink }).text, "3");
});

Deno.test("without side effects a limited learn whose flow is gone avoids caching; result_dst says 1", () => {
  const rules = [
    "table=0,in_port=1,actions=learn(table=1,limit=1,result_dst=reg0[0],NXM_OF_ETH_DST[]=NXM_OF_ETH_SRC[]),resubmit(,2)",
    "table=2,reg0=1,actions=output:2",
    "table=2,reg0=0,actions=output:3",
  ];
  const sink = new RecordingSink();
  const revalidate = { learnSink: sink, sideEffects: false, buildCache: true };
  const gone = xlateText(rules, TCP, revalidate);
  assert.equal(gone.avoidCaching, true);
  assert.equal(gone.text, "2", "it cannot learn, so it does not say the limit refused it");
  assert.equal(sink.learns.length, 0);
  assert.equal(
    gone.cache.learn.length,
    1,
    "the cache still relearns at the next push with packets",
  );
  sink.present = true;
  const there = xlateText(rules, TCP, revalidate);
  assert.equal(there.avoidCaching, false);
  assert.equal(there.text, "2");
});

Deno.test("only a learn with a limit, translated without side effects, can avoid caching", () => {
  const limited =
    "in_port=1,actions=learn(table=1,limit=1,NXM_OF_ETH_DST[]=NXM_OF_ETH_SRC[]),output:2";
  const unlimited = "in_port=1,actions=learn(table=1,NXM_OF_ETH_DST[]=NXM_OF_ETH_SRC[]),output:2";
  const sink = new RecordingSink();
  // A handler learns (side effects): the learn's own answer decides, even when the limit refuses.
  sink.refuse = true;
  assert.equal(xlateText([limited], TCP, { learnSink: sink }).avoidCaching, false);
  const noLimit = xlateText([unlimited], TCP, {
    learnSink: sink,
    sideEffects: false,
    buildCache: true,
  });
  assert.equal(noLimit.avoidCaching, false);
  // ofproto/trace: no side effects and no cache, the learn is ignored altogether.
  const trace = xlateText([limited], TCP, { learnSink: sink, sideEffects: false });
  assert.equal(trace.avoidCaching, false);
  assert.equal(sink.asked, 0, "none of them asked whether the flow is in the table");
});

Deno.test("fin_timeout reduces the rule's timeouts only for FIN or RST", () => {
  const rules = ["in_port=1,tcp,actions=fin_timeout(idle_timeout=3,hard_timeout=7),output:2"];
  const sink = new RecordingSink();
  xlateText(rules, TCP, { learnSink: sink, tcpFlags: 0x10 });
  assert.equal(sink.reduced.length, 0);
  xlateText(rules, TCP, { learnSink: sink, tcpFlags: 0x01 });
  assert.equal(sink.reduced.length, 1);
  assert.deepEqual(sink.reduced[0].slice(1), [3, 7]);
  const cached = xlateText(rules, TCP, { learnSink: sink, sideEffects: false, buildCache: true });
  xlateCachePushLearn(cached.cache.learn, cached.cache.fin, 1, 0x04, () => sink);
  assert.equal(sink.reduced.length, 2, "a revalidator's push with RST reduces them too");
});

Deno.test("ofproto/trace shows the learned flow and suppresses the side effect", () => {
  const sink = new RecordingSink();
  const out = xlateText([LEARN], TCP, { learnSink: sink, sideEffects: false, trace: true });
  assert.equal(sink.learns.length, 0);
  const lines = JSON.stringify(out.trace);
  assert.match(lines, /suppressing side effects, so learn action ignored/);
});

import assert from "node:assert/strict";
import { formatOdpAction } from "../flow/mod.ts";
import { encodeControllerCookie, encodeSlowPathCookie } from "./cache.ts";
import { FROZEN_STATE_WORDS, RecircIdPool } from "./recirc.ts";
import { Replay, xlateText } from "../../tests/support/xlate/replay.ts";
import { type XlateCache, xlateCachePush } from "./cache.ts";
import { parseExactFlow } from "./trace_flow.ts";
import { xlate } from "./xlate.ts";
import { creditedBridges, creditedRules } from "../../tests/support/xlate/xcache_rules.ts";

Deno.test("the slow-path cookie prints as OVS prints it", () => {
  const a = { type: "userspace" as const, pid: 0, userdata: encodeSlowPathCookie(1 << 5) };
  assert.equal(formatOdpAction(a, null), "userspace(pid=0,slow_path(action))");
});

Deno.test("the controller cookie carries every field", () => {
  const userdata = encodeControllerCookie({
    dontSend: true,
    continuation: false,
    reason: 2,
    recircId: 7,
    ruleCookie: 0xabcn,
    controllerId: 3,
    maxLen: 128,
  });
  assert.equal(
    formatOdpAction({ type: "userspace", pid: 0, userdata }, null),
    "userspace(pid=0,controller(reason=2,dont_send=1,continuation=0,recirc_id=7," +
      "rule_cookie=0xabc,controller_id=3,max_len=128))",
  );
});

const state = (reg0: number) => {
  const s = new Uint32Array(FROZEN_STATE_WORDS);
  s[4] = reg0;
  return s;
};

Deno.test("one frozen state keeps one recirculation id while it is referenced", () => {
  const pool = new RecircIdPool();
  assert.equal(pool.idFor(state(1)), 1);
  assert.equal(pool.idFor(state(2)), 2);
  assert.equal(pool.idFor(state(1)), 1);
  pool.release(1);
  assert.equal(pool.idFor(state(1)), 1, "one reference is left");
  pool.release(1);
  pool.release(1);
  assert.equal(pool.idFor(state(1)), 3, "a released id is not handed out again");
});

Deno.test("threads sharing a pool agree on ids", () => {
  const a = new RecircIdPool();
  const b = new RecircIdPool(a.buffer);
  assert.equal(a.idFor(state(9)), 1);
  assert.equal(b.idFor(state(9)), 1);
  assert.equal(b.idFor(state(8)), 2);
});

Deno.test("a full pool hands out no id and translation fails cleanly", () => {
  const pool = new RecircIdPool(undefined, 2);
  assert.equal(pool.idFor(state(1)), 1);
  assert.equal(pool.idFor(state(2)), 2);
  assert.equal(pool.idFor(state(3)), 0);
  pool.release(2);
  assert.equal(pool.idFor(state(3)), 3, "a freed slot is reused");
});

Deno.test("pushing a cache credits every rule it went through", () => {
  const out = xlateText([
    "table=0,actions=resubmit(,1)",
    "table=1,actions=output:2",
  ], "in_port=1,ip");
  const credited: [number, number, number][] = [];
  xlateCachePush(out.cache, 3, 180, (id, n, b) => credited.push([id, n, b]), null, 0);
  assert.deepEqual(credited.map(([, n, b]) => [n, b]), [[3, 180], [3, 180]]);
  assert.notEqual(credited[0][0], credited[1][0]);
});

Deno.test("the cache records each table lookup in order, a miss as rule -1 (for ofproto/detrace)", () => {
  const out = xlateText([
    "table=0,actions=resubmit(,1),resubmit(,2)",
    "table=1,actions=output:2",
  ], "in_port=1,ip");
  const [t0, r0, t1, r1, t2, r2] = out.cache.lookups;
  assert.equal(out.cache.lookups.length, 6);
  assert.deepEqual([t0, t1, t2, r2], [0, 1, 2, -1]);
  assert.deepEqual([r0, r1], creditedRules(out.cache), "the rules found are the ones credited");
});

Deno.test("a cache given to a new translation is cleared and refilled, cut to that translation's entries", () => {
  const r = new Replay(3);
  r.tables.addFlow("table=0,in_port=1,actions=resubmit(,1),resubmit(,2)", 0);
  r.tables.addFlow("table=0,in_port=2,actions=output:1", 0);
  r.tables.addFlow("table=1,actions=output:2", 0);
  const translate = (flow: string, cache?: XlateCache) =>
    xlate({
      flow: parseExactFlow(flow, r.bridge),
      tables: r.tables,
      bridge: r.bridge,
      ml: r.ml,
      nowMs: 0,
      recircIds: r.recircIds,
      buildCache: true,
      cache,
    }).cache;
  const first = translate("in_port=1,ip");
  assert.equal(creditedRules(first).length, 2);
  assert.equal(first.lookups.length, 6);
  const fresh = translate("in_port=2,ip");
  const reused = translate("in_port=2,ip", first);
  assert.equal(reused, first, "the same object, refilled");
  assert.deepEqual(creditedRules(reused), creditedRules(fresh));
  assert.deepEqual(creditedBridges(reused), creditedBridges(fresh));
  assert.deepEqual(reused.lookups, fresh.lookups);
  // And back: the arrays grow again past what the shorter translation left.
  assert.deepEqual(translate("in_port=1,ip", first).lookups, translate("in_port=1,ip").lookups);
});

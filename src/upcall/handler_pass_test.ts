import assert from "node:assert/strict";
import { clockStop } from "../lib/mod.ts";
import { Handler } from "./handler.ts";
import { handlerPass } from "./_handler_pass.ts";
import { tcpFrame, testUdpif } from "../../tests/support/upcall/test_support.ts";

clockStop();

/**
 * A handler and the main thread's side of one translation update: the
 * main thread posts an update (updateSeq), bumps reval_seq and queues a
 * packet, in that order, as tablesChanged then netdev-dummy/receive do;
 * the update, once taken in, replaces the output-to-port-2 rule by a drop.
 */
function setup() {
  const t = testUdpif();
  t.xlate.add(0, {}, [{ type: "output", port: 2 }]);
  const shared = t.ctx.shared;
  let applied = shared.updateSeq;
  let catchUps = 0;
  const updates = {
    applied: () => applied,
    catchUp: () => {
      catchUps++;
      t.xlate.update([{ priority: 0, match: {}, actions: [], slow: 0, id: 0 }]);
      applied = shared.updateSeq;
      return Promise.resolve();
    },
  };
  const postUpdateThenPacket = () => {
    shared.bumpUpdateSeq();
    shared.revalSeq.change();
    t.p1.receive([tcpFrame(1, 2, 1000, 80)]);
    t.pump();
  };
  const handler = new Handler(t.ctx, 0);
  const sentToPort2 = () => {
    t.p2.pollTx();
    return t.p2.txFrames.length;
  };
  return { t, handler, updates, postUpdateThenPacket, sentToPort2, catchUps: () => catchUps };
}

Deno.test("handler pass: an update posted before the batch's packet was queued is in the batch's translation and reval_seq", async () => {
  const { t, handler, updates, postUpdateThenPacket, sentToPort2, catchUps } = setup();
  // The main thread acts while the handler enters its section, after any
  // read the handler made before its batch: the race the pass must close.
  let entries = 0;
  const fence = {
    enter: () => {
      if (entries++ === 0) postUpdateThenPacket();
    },
    leave: () => {},
  };
  assert.equal(await handlerPass(handler, t.ctx.shared, updates, fence), 1);
  assert.equal(catchUps(), 1);
  assert.equal(sentToPort2(), 0, "translated with the update: dropped, not output to port 2");
  const slot = t.ctx.ukeys.lookup(handler.batch[0].ufid, 0);
  assert.ok(slot >= 0);
  // A stale reval_seq would send the flow to a translation without side
  // effects at the next revalidation (learn's limit then answers otherwise).
  assert.equal(t.ctx.ukeys.revalSeq(slot), t.ctx.shared.revalSeq.read());
  t.destroy();
});

Deno.test("handler pass: with nothing to catch up the batch is handled in one section, and an empty queue reads nothing", async () => {
  const { t, handler, updates, sentToPort2, catchUps } = setup();
  const sections: string[] = [];
  const fence = { enter: () => sections.push("enter"), leave: () => sections.push("leave") };
  assert.equal(await handlerPass(handler, t.ctx.shared, updates, fence), 0);
  t.p1.receive([tcpFrame(1, 2, 1000, 80)]);
  t.pump();
  assert.equal(await handlerPass(handler, t.ctx.shared, updates, fence), 1);
  assert.deepEqual(sections, ["enter", "leave", "enter", "leave"]);
  assert.equal(catchUps(), 0);
  assert.equal(sentToPort2(), 1);
  const slot = t.ctx.ukeys.lookup(handler.batch[0].ufid, 0);
  assert.equal(t.ctx.ukeys.revalSeq(slot), t.ctx.shared.revalSeq.read());
  t.destroy();
});

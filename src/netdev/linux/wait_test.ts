import assert from "node:assert/strict";
import { closeFd, eventfdCreate, eventfdDrain, eventfdSignal, FdPoller } from "./wait.ts";

const ignore = Deno.build.os !== "linux";
/** Long enough never to pass on a busy machine; a broken wake fails the test instead of hanging it. */
const WAIT_MS = 30_000;

Deno.test({
  name: "a signalled eventfd wakes its poller; drained, it lets the poller sleep again",
  ignore,
  fn() {
    const fd = eventfdCreate();
    try {
      const poller = new FdPoller(2);
      assert.ok(poller.add(fd));
      assert.equal(poller.poll(0), 0, "nothing signalled yet");
      eventfdSignal(fd);
      eventfdSignal(fd);
      assert.equal(poller.poll(WAIT_MS), 1);
      assert.ok(poller.readable(0));
      eventfdDrain(fd);
      assert.equal(poller.poll(0), 0, "two signals drained by one read");
      assert.equal(poller.readable(0), false);
    } finally {
      closeFd(fd);
    }
  },
});

Deno.test({
  name: "a poller holds as many fds as it was made for",
  ignore,
  fn() {
    const poller = new FdPoller(1);
    assert.ok(poller.add(0));
    assert.equal(poller.add(1), false);
    poller.clear();
    assert.equal(poller.size, 0);
  },
});

Deno.test({
  name: "after a poll, only the fds that had something to report are ready",
  ignore,
  fn() {
    const quiet = eventfdCreate(), loud = eventfdCreate();
    try {
      const poller = new FdPoller(2);
      poller.add(quiet);
      poller.add(loud);
      eventfdSignal(loud);
      assert.equal(poller.poll(WAIT_MS), 1);
      assert.equal(poller.ready(0), false, "the quiet fd is not ready");
      assert.ok(poller.ready(1));
      eventfdDrain(loud);
      assert.equal(poller.poll(0), 0);
      assert.equal(poller.ready(1), false, "a poll clears the last one's verdicts");
    } finally {
      closeFd(quiet);
      closeFd(loud);
    }
  },
});

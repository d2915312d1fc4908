import assert from "node:assert/strict";
import { closeFd, eventfdCreate, FdPoller } from "../netdev/mod.ts";
import {
  createDatapathBuffers,
  DatapathShared,
  PC_DOORBELL,
  PC_SLEEPING,
  PC_WAKE_FD,
  SLEEP_DOORBELL,
  SLEEP_NONE,
  SLEEP_POLL,
} from "./_shared.ts";

const ignore = Deno.build.os !== "linux";

Deno.test({
  name:
    "ringing a PMD asleep in poll(2) writes its eventfd; an awake or doorbell-sleeping one is not",
  ignore,
  fn() {
    const sh = new DatapathShared(createDatapathBuffers(16, 4, 1 << 10)).pmds[0];
    const fd = eventfdCreate();
    try {
      Atomics.store(sh.ctl, PC_WAKE_FD, fd);
      const poller = new FdPoller(1);
      poller.add(fd);
      for (const state of [SLEEP_NONE, SLEEP_DOORBELL]) {
        Atomics.store(sh.ctl, PC_SLEEPING, state);
        sh.ring();
        assert.equal(poller.poll(0), 0, `state ${state} leaves the eventfd alone`);
      }
      const bell = Atomics.load(sh.ctl, PC_DOORBELL);
      Atomics.store(sh.ctl, PC_SLEEPING, SLEEP_POLL);
      sh.ring();
      assert.equal(Atomics.load(sh.ctl, PC_DOORBELL), bell + 1);
      assert.equal(poller.poll(30_000), 1, "the eventfd is readable");
    } finally {
      closeFd(fd);
    }
  },
});

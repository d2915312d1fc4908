import assert from "node:assert/strict";
import { FailOpen, type FailOpenHost, parseFailMode } from "./fail_open.ts";

/** A bridge whose controller has been unreachable for `down` seconds. */
function host() {
  const h = {
    controllers: true,
    down: 0,
    connected: false,
    flushed: 0,
    normal: false,
    hasControllers: () => h.controllers,
    failureDurationS: () => h.down,
    maxProbeIntervalS: () => 5,
    anyControllerConnected: () => h.connected,
    flushFlows: () => void h.flushed++,
    setNormalFlow: (present: boolean) => void (h.normal = present),
  };
  return h satisfies FailOpenHost;
}

Deno.test("fail-open after three probe intervals; recovery once a controller is back", () => {
  const h = host();
  const fo = new FailOpen(h);
  h.down = 14;
  fo.run();
  assert.equal(fo.active, false, "14 s < 3 x 5 s");
  h.down = 15;
  fo.run();
  assert.equal(fo.active, true);
  assert.equal(h.flushed, 1, "the flows are flushed");
  assert.equal(h.normal, true, "and the NORMAL rule added");
  h.down = 40;
  fo.run();
  assert.equal(h.flushed, 1, "once");
  h.connected = true;
  h.down = 0;
  fo.run();
  assert.equal(fo.active, false);
  assert.equal(h.normal, false, "the NORMAL rule goes");
});

Deno.test("no controllers: never fails open; fail modes parse", () => {
  const h = host();
  h.controllers = false;
  h.down = 1000;
  const fo = new FailOpen(h);
  fo.run();
  assert.equal(fo.active, false);
  assert.equal(parseFailMode("secure"), "secure");
  assert.equal(parseFailMode("standalone"), "standalone");
  assert.throws(() => parseFailMode("open"), /"open": fail mode must be standalone or secure/);
});

import assert from "node:assert/strict";
import { DpifNetdev } from "../dpif/mod.ts";
import { flowExtract } from "../flow/mod.ts";
import { CommandError, findCommand } from "../lib/mod.ts";
import {
  atoiUnsigned,
  registerUpcallCommands,
  revalidatorWait,
  setFlowLimit,
  setUfid,
  upcallShow,
  upcallShowJson,
} from "./commands.ts";
import { RuleXlate } from "../../tests/support/upcall/test_support.ts";
import { Udpif } from "./udpif.ts";

function udpif(): { u: Udpif; done: () => Promise<void> } {
  const dp = DpifNetdev.create("dummy", { extract: flowExtract, flowCapacity: 64 });
  const xlate = new RuleXlate();
  const u = new Udpif({ dp, xlateModule: "", xlateInit: null, mainXlate: xlate });
  return {
    u,
    done: async () => {
      await u.destroy();
      dp.destroy();
    },
  };
}

Deno.test("upcall/show prints OVS's layout for a fresh udpif", async () => {
  const { u, done } = udpif();
  assert.equal(
    upcallShow([u]),
    "dummy@ovs-dummy:\n" +
      "  flows         : (current 0) (avg 0) (max 0) (limit 10000)\n" +
      "  dump duration : 0ms\n" +
      "  ufid enabled : true\n" +
      "\n",
  );
  await done();
});

Deno.test("upcall/show also answers in JSON with the same figures", async () => {
  const { u, done } = udpif();
  assert.deepEqual(upcallShowJson([u]), [{
    name: "dummy@ovs-dummy",
    flows: { current: 0, avg: 0, max: 0, limit: 10000 },
    dump_duration_ms: 0,
    ufid_enabled: true,
    revalidators: [],
  }]);
  await done();
});

Deno.test("set-flow-limit parses its argument as C's atoi and prints it unsigned", async () => {
  const { u, done } = udpif();
  assert.equal(setFlowLimit([u], "5000"), "set flow_limit to 5000\n");
  assert.equal(u.shared.flowLimit, 5000);
  assert.match(upcallShow([u]), /\(limit 5000\)/);
  assert.equal(setFlowLimit([u], "abc"), "set flow_limit to 0\n");
  assert.equal(atoiUnsigned(" \t42abc"), 42);
  assert.equal(atoiUnsigned("+7"), 7);
  assert.equal(atoiUnsigned("-1"), 4294967295);
  assert.equal(atoiUnsigned("99999999999"), 1215752191);
  assert.equal(atoiUnsigned("99999999999999999999"), 4294967295);
  assert.equal(atoiUnsigned(""), 0);
  await done();
});

Deno.test("disabling UFIDs shows in upcall/show and both toggles answer in OVS's words", async () => {
  const { u, done } = udpif();
  assert.equal(setUfid([u], false), "Datapath dumping tersely using UFID disabled");
  assert.match(upcallShow([u]), /ufid enabled : false\n/);
  assert.equal(
    setUfid([u], true),
    "Datapath dumping tersely using UFID enabled for supported datapaths",
  );
  assert.match(upcallShow([u]), /ufid enabled : true\n/);
  await done();
});

Deno.test("revalidator/wait refuses to wait on no udpif or several", async () => {
  const a = udpif(), b = udpif();
  await assert.rejects(
    () => revalidatorWait([a.u, b.u]),
    (e) => e instanceof CommandError && e.message === "can't wait on multiple udpifs.",
  );
  await assert.rejects(() => revalidatorWait([]), CommandError);
  await a.done();
  await b.done();
});

Deno.test("the commands are registered with OVS's usages and argument counts (upcall/show adds --reasons)", () => {
  registerUpcallCommands(() => []);
  registerUpcallCommands(() => []);
  const limit = findCommand("upcall/set-flow-limit")!;
  assert.deepEqual([limit.usage, limit.minArgs, limit.maxArgs], ["flow-limit-number", 1, 1]);
  const show = findCommand("upcall/show")!;
  assert.deepEqual(
    [show.usage, show.minArgs, show.maxArgs],
    ["[--reasons]", 0, 1],
    "udpif's --reasons",
  );
  for (const n of ["upcall/disable-megaflows", "revalidator/wait"]) {
    const c = findCommand(n)!;
    assert.deepEqual([c.usage, c.minArgs, c.maxArgs], ["", 0, 0]);
  }
  assert.equal(findCommand("revalidator/pause")!.usage, undefined, "hidden");
  assert.equal(findCommand("revalidator/resume")!.usage, undefined, "hidden");
});

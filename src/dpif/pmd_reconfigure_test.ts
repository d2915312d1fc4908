import assert from "node:assert/strict";
import { planPmdChange } from "./pmd_reconfigure.ts";
import { PMD_TRANSITIONS, PmdStates } from "./_pmd_state.ts";
import { FLOW_WORDS } from "../flow/mod.ts";
import { DummyNetdev } from "../netdev/mod.ts";
import { flowExtract, udpFrame } from "../../tests/support/dpif/test_extract.ts";
import { DpifUpcall } from "./upcall.ts";
import { DpifNetdev } from "./dpif_netdev.ts";
import { NON_PMD_CORE_ID } from "./_shared.ts";
import { EINVAL, PUT_CREATE } from "./protocol.ts";

Deno.test("planPmdChange stops the PMDs of dropped cores and starts the new cores", () => {
  const current = new Map([[0, 0], [1, 3], [2, 5]]);
  assert.deepEqual(planPmdChange(current, [3, 7]), { remove: [0, 2], add: [7] });
  assert.deepEqual(planPmdChange(current, [0, 3, 5]), { remove: [], add: [] });
  assert.deepEqual(planPmdChange(new Map([[0, NON_PMD_CORE_ID]]), [0, 1]), {
    remove: [0],
    add: [0, 1],
  });
});

Deno.test("a PMD slot moves only along its transition table; other moves are refused", () => {
  const s = new PmdStates(2, 1);
  assert.equal(s.get(0), "starting");
  assert.equal(s.get(1), "free");
  assert.equal(s.move(1, "running"), false, "free -> running is refused");
  assert.equal(s.get(1), "free");
  assert.equal(s.move(0, "running"), true);
  assert.equal(s.move(0, "starting"), false, "running -> starting is refused");
  assert.equal(s.move(0, "stopping"), true);
  assert.equal(s.move(0, "free"), true);
  assert.deepEqual(s.inState("free"), [0, 1]);
  for (const [from, tos] of Object.entries(PMD_TRANSITIONS)) {
    assert.ok(!tos.includes(from as never), `${from} does not loop onto itself`);
  }
});

Deno.test("setPmdCores in process: a removed PMD's flows go, a new one polls with an empty table", async () => {
  const dp = DpifNetdev.create("dummy", {
    extract: flowExtract,
    flowCapacity: 1024,
    maskCapacity: 64,
    upcallQueueWords: 1 << 14,
    pmdCores: [0],
    pmdSlots: 2,
  });
  try {
    const p1 = new DummyNetdev("p1");
    p1.nRxq = 2;
    const no = dp.portAdd(p1);
    assert.deepEqual(dp.activePmds(), [0]);
    const key = new Uint32Array(FLOW_WORDS);
    key[0] = no;
    const mask = new Uint32Array(key.length).fill(0xffffffff);
    assert.equal(dp.flowPut({ key, mask, actions: [], flags: PUT_CREATE, pmd: 0 }).error ?? 0, 0);
    assert.equal(dp.getStats().flows, 1);

    assert.equal(await dp.pmdControl.setPmdCores([0, 1]), true);
    assert.deepEqual(dp.activePmds(), [0, 1]);
    assert.deepEqual(dp.activePmds().map((k) => dp.pmdCore(k)), [0, 1]);
    assert.deepEqual(dp.rxqList().map((q) => q.pmd), [0, 1], "one queue each");
    assert.equal(dp.getStats().flows, 1, "core 0's flow stays");

    assert.equal(await dp.pmdControl.setPmdCores([1]), true);
    assert.deepEqual(dp.activePmds(), [1]);
    assert.equal(dp.getStats().flows, 0, "core 0's flow went with its PMD");
    assert.deepEqual(dp.rxqList().map((q) => q.pmd), [1, 1]);
    assert.equal(dp.flowPut({ key, mask, actions: [], flags: PUT_CREATE, pmd: 0 }).error, EINVAL);
    assert.equal(dp.flowPut({ key, mask, actions: [], flags: PUT_CREATE, pmd: 1 }).error ?? 0, 0);
    assert.equal(dp.getStats().flows, 1);

    assert.equal(
      await dp.pmdControl.setPmdCores([0, 1, 2]),
      false,
      "three PMDs do not fit two slots",
    );
    assert.deepEqual(dp.activePmds(), [1]);

    // The mask removed: back to the single PMD standing for the main thread.
    assert.equal(await dp.pmdControl.setPmdCores([NON_PMD_CORE_ID]), true);
    assert.deepEqual(dp.activePmds().map((k) => dp.pmdCore(k)), [NON_PMD_CORE_ID]);
    assert.equal(dp.getStats().flows, 0);
    assert.ok(dp.rxqList().every((q) => q.pmd === dp.activePmds()[0]));
  } finally {
    dp.destroy();
  }
});

Deno.test("a removed PMD's upcall queue is written on by the PMD that takes it over", async () => {
  const dp = DpifNetdev.create("dummy", {
    extract: flowExtract,
    flowCapacity: 1024,
    upcallQueueWords: 1 << 14,
    pmdCores: [0, 1],
  });
  try {
    dp.handlersSet(2);
    const p1 = new DummyNetdev("p1");
    p1.nRxq = 2;
    dp.portAdd(p1);
    const up = new DpifUpcall();
    const drain = (h: number) => {
      const pmds: number[] = [];
      while (dp.recv(h, up)) pmds.push(up.pmd);
      return pmds;
    };
    // p1's queue 1 is PMD 1's, whose upcalls go to handler 1's queue.
    p1.receive(Array.from({ length: 5 }, (_, i) => udpFrame(1, 2, 1000 + i, 80)), 1);
    assert.deepEqual(drain(1), [1, 1, 1, 1, 1]);

    assert.equal(await dp.pmdControl.setPmdCores([0]), true);
    // PMD 0 now feeds both handlers' queues, by flow hash; queue 1 goes on
    // from where PMD 1 left it.
    p1.receive(Array.from({ length: 32 }, (_, i) => udpFrame(3, 4, 2000 + i, 80)), 1);
    const got = [...drain(0), ...drain(1)];
    assert.equal(got.length, 32);
    assert.ok(got.every((k) => k === 0));
    assert.equal(dp.getStats().lost, 0);
  } finally {
    dp.destroy();
  }
});

import assert from "node:assert/strict";
import { F, FLOW_WORDS } from "../flow/layout.ts";
import { exactField } from "../flow/key.ts";
import { DummyNetdev } from "../netdev/mod.ts";
import { DpifNetdev } from "./dpif_netdev.ts";
import { flowExtract, udpFrame } from "./_test_extract.ts";
import { PUT_CREATE } from "./protocol.ts";
import type { DpifOp } from "./provider.ts";
import { newDumpBatch } from "./flow_dump.ts";

const extractModule = new URL("./_test_extract.ts", import.meta.url).href;

function flow(i: number) {
  const f = udpFrame(i, 7, i & 0xffff, 80);
  const key = new Uint32Array(FLOW_WORDS);
  flowExtract(f, f.length, 1, key);
  const mask = new Uint32Array(FLOW_WORDS);
  exactField(new Uint8Array(mask.buffer), F.in_port);
  exactField(new Uint8Array(mask.buffer), F.dl_src);
  return { frame: f, key, mask };
}

Deno.test("a dump running during heavy traffic and flow churn neither loses nor repeats flows", async () => {
  const dp = DpifNetdev.create("dummy", { extractModule, flowCapacity: 16384 });
  await dp.ready();
  const p1 = new DummyNetdev("p1");
  dp.portAdd(p1);
  dp.portAdd(new DummyNetdev("p2"));
  const STABLE = 3000;
  const stable = new Set<string>();
  const ops: DpifOp[] = [];
  for (let i = 0; i < STABLE; i++) {
    const f = flow(i);
    ops.push({
      type: "put" as const,
      flags: PUT_CREATE,
      ...f,
      actions: [{ type: "output" as const, port: 2 }],
    });
  }
  dp.operate(ops);
  for (const op of ops) {
    assert.equal(op.error, 0);
    stable.add(op.flow!.ufid.join(","));
  }
  const frames = Array.from({ length: 256 }, (_, i) => flow(i * 11 % STABLE).frame);
  const dump = dp.flowDumpCreate();
  const threads = [dump.threadCreate(), dump.threadCreate()];
  const batch = newDumpBatch();
  const seen = new Map<string, number>();
  let churn = STABLE;
  let active = threads.length;
  while (active > 0) {
    p1.receive(frames);
    dp.flowPut({ flags: PUT_CREATE, ...flow(churn), actions: [] });
    if (churn > STABLE) dp.flowDel(undefined, flow(churn - 1).key);
    churn++;
    active = 0;
    for (const t of threads) {
      const n = t.next(batch);
      if (n > 0) active++;
      for (let i = 0; i < n; i++) {
        const id = batch[i].ufid.join(",");
        seen.set(id, (seen.get(id) ?? 0) + 1);
      }
    }
    await new Promise((r) => setTimeout(r, 0));
  }
  for (const id of stable) assert.equal(seen.get(id), 1, `stable flow ${id} seen once`);
  for (const [id, n] of seen) assert.equal(n, 1, `flow ${id} not repeated`);
  assert.ok(dp.getStats().hit > 0, "traffic flowed during the dump");
  dp.destroy();
});

Deno.test("a replaced PMD worker carries on with the flows in shared memory", async () => {
  const dp = DpifNetdev.create("dummy", { extractModule, flowCapacity: 1024 });
  await dp.ready();
  const p1 = new DummyNetdev("p1");
  const p2 = new DummyNetdev("p2", "dummy", { recordTx: true });
  dp.portAdd(p1);
  dp.portAdd(p2);
  const flows = [1, 2, 3].map(flow);
  for (const f of flows) {
    assert.equal(
      dp.flowPut({ flags: PUT_CREATE, ...f, actions: [{ type: "output", port: 2 }] }).error,
      0,
    );
  }
  await dp.restartPmd();
  await dp.ready();
  p1.receive(flows.map((f) => f.frame));
  while (dp.getStats().hit < 3) await new Promise((r) => setTimeout(r, 1));
  p2.pollTx();
  assert.equal(p2.txFrames.length, 3);
  // The new PMD knows the old flows: a duplicate is refused, a delete works.
  assert.equal(dp.flowPut({ flags: PUT_CREATE, ...flows[0], actions: [] }).error, 17);
  assert.equal(dp.flowDel(undefined, flows[1].key).flow!.packets, 1);
  assert.equal(dp.getStats().flows, 2);
  dp.destroy();
});

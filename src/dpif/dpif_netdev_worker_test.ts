import assert from "node:assert/strict";
import { exactField, F, FLOW_WORDS } from "../flow/mod.ts";
import { DummyNetdev } from "../netdev/mod.ts";
import { DpifNetdev } from "./dpif_netdev.ts";
import { flowExtract, udpFrame } from "../../tests/support/dpif/test_extract.ts";
import { PUT_CREATE } from "./protocol.ts";
import type { DpifOp } from "./provider.ts";
import { newDumpBatch } from "./flow_dump.ts";
import { DpifUpcall } from "./upcall.ts";
import { POLL_TIMEOUT_MS, pollUntil } from "../../tests/poll.ts";

const extractModule = new URL("../../tests/support/dpif/test_extract.ts", import.meta.url).href;

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
      wantFlow: true,
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
  await pollUntil(() => dp.getStats().hit >= 3, "3 hits");
  p2.pollTx();
  assert.equal(p2.txFrames.length, 3);
  // The new PMD knows the old flows: a duplicate is refused, a delete works.
  assert.equal(dp.flowPut({ flags: PUT_CREATE, ...flows[0], actions: [] }).error, 17);
  assert.equal(dp.flowDel(undefined, flows[1].key).flow!.packets, 1);
  assert.equal(dp.getStats().flows, 2);
  dp.destroy();
});

Deno.test("dump threads in two workers share one dump during traffic: each flow once", async () => {
  const dp = DpifNetdev.create("dummy", { extractModule, flowCapacity: 32768 });
  await dp.ready();
  const p1 = new DummyNetdev("p1");
  dp.portAdd(p1);
  dp.portAdd(new DummyNetdev("p2"));
  const STABLE = 20000;
  const ops: DpifOp[] = [];
  for (let i = 0; i < STABLE; i++) {
    ops.push({
      type: "put",
      flags: PUT_CREATE,
      wantFlow: true,
      ...flow(i),
      actions: [{ type: "output", port: 2 }],
    });
  }
  dp.operate(ops);
  const stable = new Set(ops.map((o) => o.flow!.ufid.join(",")));
  assert.equal(stable.size, STABLE);
  const dump = dp.flowDumpCreate();
  const url = new URL("../../tests/support/dpif/dump_test_worker.ts", import.meta.url).href;
  const results = [0, 1].map(() => {
    const w = new Worker(url, { type: "module" });
    const done = new Promise<Uint32Array>((resolve, reject) => {
      w.onmessage = (e) => resolve(e.data);
      w.onerror = (e) => reject(e);
    });
    w.postMessage({ table: dp.shared.pmds[0].table.sab, cursor: dump.shared });
    return done;
  });
  // Traffic and churn while the workers dump.
  let settled = false;
  Promise.all(results).finally(() => settled = true);
  const frames = Array.from({ length: 256 }, (_, i) => flow((i * 37) % STABLE).frame);
  const deadline = performance.now() + POLL_TIMEOUT_MS;
  for (let c = STABLE; !settled; c++) {
    if (performance.now() > deadline) throw new Error("the dump workers never finished");
    p1.receive(frames);
    dp.flowPut({ flags: PUT_CREATE, ...flow(c), actions: [] });
    if (c > STABLE) dp.flowDel(undefined, flow(c - 1).key);
    await new Promise((r) => setTimeout(r, 0));
  }
  const seen = new Map<string, number>();
  for (const r of await Promise.all(results)) {
    for (let i = 0; i < r.length; i += 4) {
      const id = [r[i], r[i + 1], r[i + 2], r[i + 3]].join(",");
      seen.set(id, (seen.get(id) ?? 0) + 1);
    }
  }
  for (const id of stable) assert.equal(seen.get(id), 1);
  for (const n of seen.values()) assert.equal(n, 1);
  dp.destroy();
});

Deno.test("other_config:vlan-limit reaches the PMD worker's flow_extract", async () => {
  const dp = DpifNetdev.create("dummy", { flowCapacity: 1024 });
  await dp.ready();
  const p1 = new DummyNetdev("p1");
  dp.portAdd(p1);
  // 802.1ad outer tag (VID 100), 802.1Q inner tag (VID 200), then IPv4.
  const qinq = (src: number) =>
    Uint8Array.from([
      ...[0x50, 0x54, 0, 0, 0, 7, 0x50, 0x54, 0, 0, 0, src],
      ...[0x88, 0xa8, 0x00, 0x64, 0x81, 0x00, 0x00, 0xc8, 0x08, 0x00],
      ...[0x45, 0, 0, 20, 0, 0, 0, 0, 64, 17, 0, 0, 10, 0, 0, 1, 10, 0, 0, 2],
    ]);
  const innerTci = () => {
    const up = new DpifUpcall();
    assert.ok(dp.recvWait(0, 10000) && dp.recv(0, up), "an upcall");
    return new DataView(up.key.buffer, up.key.byteOffset).getUint16(F.vlan1_tci.off);
  };
  p1.receive([qinq(5)]);
  assert.equal(innerTci(), 0, "OVS's default limit of 1 leaves the inner tag in the payload");
  dp.setVlanLimit(2);
  // A PMD reads the limit at the start of a round: a packet queued during
  // the round that saw the old one would still get it. A command's reply
  // (served at the end of a round) says the next round reads the new one.
  dp.flowGet(new Uint32Array(4));
  p1.receive([qinq(6)]);
  assert.equal(innerTci(), 0x10c8, "with 2 the inner tag is in the key (VID 200, present)");
  dp.destroy();
});

Deno.test("a dead thread's client and held upcalls are taken over by its successor", async () => {
  const dp = DpifNetdev.create("dummy", { extractModule, flowCapacity: 1024 });
  await dp.ready();
  const p1 = new DummyNetdev("p1");
  dp.portAdd(p1);
  dp.portAdd(new DummyNetdev("p2"));
  const dead = DpifNetdev.open("dummy", dp.buffers);
  const f = flow(1);
  const put: DpifOp = { type: "put", flags: PUT_CREATE, ...f, actions: [] };
  dead.operate([put]);
  assert.equal(put.error, 0);
  p1.receive([flow(2).frame, flow(3).frame]);
  const up = new DpifUpcall();
  assert.ok(dead.recvWait(0, 10000) && dead.recv(0, up, true), "a held upcall");
  // The successor gets the same rings and reads the held upcalls again.
  const next = DpifNetdev.open("dummy", dp.buffers, dead.client);
  assert.equal(next.client, dead.client);
  const got: string[] = [];
  while (got.length < 2) {
    if (next.recvWait(0, 10000) && next.recv(0, up)) got.push(up.key.join(","));
  }
  assert.deepEqual(got, [flow(2).key.join(","), flow(3).key.join(",")]);
  const del: DpifOp = { type: "del", key: f.key };
  next.operate([del]);
  assert.equal(del.error, 0, "its flow commands are answered on the dead thread's rings");
  assert.throws(() => DpifNetdev.open("dummy", dp.buffers, 31), /dpif client 31 was never opened/);
  dp.destroy();
});

import assert from "node:assert/strict";
import { hugePagesAdvised } from "../../tests/support/huge_pages.ts";
import { exactField, F, FLOW_WORDS } from "../flow/mod.ts";
import { DummyNetdev } from "../netdev/mod.ts";
import { DpifNetdev } from "./dpif_netdev.ts";
import { flowExtract, udpFrame } from "../../tests/support/dpif/test_extract.ts";
import { EEXIST, ENOENT, PUT_CREATE, PUT_MODIFY } from "./protocol.ts";
import { DpifUpcall, UPCALL_ACTION, UPCALL_MISS } from "./upcall.ts";
import { newDumpBatch } from "./flow_dump.ts";
import type { DpifOp } from "./provider.ts";
import { snapshotActions } from "./dpif_netdev.ts";

function keyOf(frame: Uint8Array, inPort: number): Uint32Array {
  const k = new Uint32Array(FLOW_WORDS);
  flowExtract(frame, frame.length, inPort, k);
  return k;
}

/** Mask: in_port and the fields named. */
function maskOf(...fields: (keyof typeof F)[]): Uint32Array {
  const m = new Uint32Array(FLOW_WORDS);
  const b = new Uint8Array(m.buffer);
  exactField(b, F.in_port);
  for (const f of fields) exactField(b, F[f]);
  return m;
}

function setup() {
  const dp = DpifNetdev.create("dummy", {
    extract: flowExtract,
    flowCapacity: 4096,
    upcallQueueWords: 1 << 15,
  });
  const p1 = new DummyNetdev("p1");
  const p2 = new DummyNetdev("p2", "dummy", { recordTx: true });
  const p3 = new DummyNetdev("p3", "dummy", { recordTx: true });
  dp.portAdd(p1);
  dp.portAdd(p2);
  dp.portAdd(p3);
  return { dp, p1, p2, p3 };
}

Deno.test("dummy datapath numbers ports as OVS does: local port 0, pN is N, brN is 100+N", () => {
  const { dp } = setup();
  dp.portAdd(new DummyNetdev("br0", "dummy-internal"));
  assert.equal(dp.name, "dummy@ovs-dummy");
  assert.deepEqual(dp.portList().map((p) => `${p.portNo}:${p.name}:${p.type}`), [
    "0:ovs-dummy:dummy-internal",
    "1:p1:dummy",
    "2:p2:dummy",
    "3:p3:dummy",
    "100:br0:dummy-internal",
  ]);
  dp.destroy();
});

Deno.test("the netdev datapath numbers ports in order and shows internal ports as tap", () => {
  const dp = DpifNetdev.create("netdev", { extract: flowExtract, flowCapacity: 64 });
  for (const n of ["p2", "p3", "p1"]) dp.portAdd(new DummyNetdev(n));
  dp.portAdd(new DummyNetdev("br0", "internal"));
  assert.equal(dp.name, "netdev@ovs-netdev");
  assert.deepEqual(dp.portList().map((p) => `${p.portNo}:${p.name}:${p.type}`), [
    "0:ovs-netdev:tap",
    "1:p2:dummy",
    "2:p3:dummy",
    "3:p1:dummy",
    "4:br0:tap",
  ]);
  dp.destroy();
});

Deno.test("packets hitting an installed flow leave through its port with the right counters", () => {
  const { dp, p1, p2, p3 } = setup();
  const frame = udpFrame(5, 7, 1000, 80);
  const put = dp.flowPut({
    flags: PUT_CREATE,
    key: keyOf(frame, 1),
    mask: maskOf("dl_dst"),
    actions: [{ type: "output", port: 2 }],
  });
  assert.equal(put.error, 0);
  p1.receive([frame, frame, udpFrame(9, 7, 1, 2, 100)]);
  p2.pollTx();
  p3.pollTx();
  assert.equal(p2.txFrames.length, 3);
  assert.deepEqual(p2.txFrames[0], frame);
  assert.equal(p3.txFrames.length, 0);
  const s = dp.getStats();
  assert.deepEqual([s.hit, s.missed, s.lost, s.flows, s.masks], [3, 0, 0, 1, 1]);
  const got = dp.flowGet(put.flow!.ufid);
  assert.equal(got.flow!.packets, 3);
  assert.equal(got.flow!.bytes, 64 + 64 + 100);
  assert.deepEqual(dp.portStats(1).slice(0, 2), [3, 228]);
  assert.deepEqual(dp.portStats(2).slice(2, 4), [3, 228]);
  dp.destroy();
});

Deno.test("a miss becomes a MISS upcall with the packet, its key and a v4 UFID", () => {
  const { dp, p1 } = setup();
  const frame = udpFrame(5, 7, 1000, 80);
  p1.receive([frame]);
  const up = new DpifUpcall();
  assert.equal(dp.recv(0, up), true);
  assert.equal(up.type, UPCALL_MISS);
  assert.equal(up.inPort, 1);
  assert.deepEqual(up.packet.subarray(0, up.packetLen), frame);
  assert.deepEqual(up.key, keyOf(frame, 1));
  assert.equal((up.ufid[1] >>> 12) & 0xf, 4);
  assert.equal(dp.recv(0, up), false);
  assert.equal(dp.getStats().missed, 1);
  dp.destroy();
});

Deno.test("a full upcall queue drops the packet and counts it as lost", () => {
  const { dp, p1 } = setup();
  let sent = 0;
  for (let i = 0; i < 2000; i++) {
    p1.receive([udpFrame(i, 7, i, 80)]);
    sent++;
  }
  const s = dp.getStats();
  assert.ok(s.lost > 0, "some upcalls lost");
  assert.equal(s.missed + s.lost, sent);
  const up = new DpifUpcall();
  let n = 0;
  while (dp.recv(0, up)) n++;
  assert.equal(n, s.missed);
  dp.destroy();
});

Deno.test("upcalls spread over handlers by flow hash", () => {
  const { dp, p1 } = setup();
  dp.handlersSet(4);
  for (let i = 0; i < 100; i++) p1.receive([udpFrame(i, 7, i, 80)]);
  const up = new DpifUpcall();
  const per = [0, 0, 0, 0];
  for (let h = 0; h < 4; h++) {
    while (dp.recv(h, up)) {
      assert.equal(up.hash % 4, h);
      per[h]++;
    }
  }
  assert.equal(per.reduce((a, b) => a + b), 100);
  assert.ok(per.every((n) => n > 0));
  dp.destroy();
});

Deno.test("a userspace action becomes an ACTION upcall carrying its userdata", () => {
  const { dp, p1 } = setup();
  const frame = udpFrame(5, 7, 1000, 80);
  const userdata = Uint8Array.of(1, 2, 3, 4, 5);
  dp.flowPut({
    flags: PUT_CREATE,
    key: keyOf(frame, 1),
    mask: maskOf("dl_dst"),
    actions: [{ type: "userspace", pid: 0, userdata }],
  });
  p1.receive([frame]);
  const up = new DpifUpcall();
  assert.equal(dp.recv(0, up), true);
  assert.equal(up.type, UPCALL_ACTION);
  assert.deepEqual(up.userdata.subarray(0, up.userdataLen), userdata);
  dp.destroy();
});

Deno.test("put refuses a duplicate, modify replaces the actions, del returns the final stats", () => {
  const { dp, p1, p3 } = setup();
  const frame = udpFrame(5, 7, 1000, 80);
  const flow = {
    key: keyOf(frame, 1),
    mask: maskOf("dl_dst"),
    actions: [{ type: "output" as const, port: 2 }],
  };
  assert.equal(dp.flowPut({ flags: PUT_CREATE, ...flow }).error, 0);
  assert.equal(dp.flowPut({ flags: PUT_CREATE, ...flow }).error, EEXIST);
  const mod = dp.flowPut({ ...flow, flags: PUT_MODIFY, actions: [{ type: "output", port: 3 }] });
  assert.equal(mod.error, 0);
  p1.receive([frame]);
  p3.pollTx();
  assert.equal(p3.txFrames.length, 1);
  const del = dp.flowDel(undefined, flow.key);
  assert.equal(del.error, 0);
  assert.equal(del.flow!.packets, 1);
  assert.deepEqual(snapshotActions(del.flow!), [{ type: "output", port: 3 }]);
  assert.equal(dp.flowDel(undefined, flow.key).error, ENOENT);
  assert.deepEqual([dp.getStats().flows, dp.getStats().masks], [0, 0]);
  dp.destroy();
});

Deno.test("one operate of hundreds of puts and deletes answers every op in order", () => {
  const { dp } = setup();
  const mask = maskOf("nw_src", "tp_src");
  const keys = Array.from(
    { length: 300 },
    (_, i) => keyOf(udpFrame(1 + (i >> 8), 2, 1 + i, 80), 1),
  );
  const put = (key: Uint32Array): DpifOp => ({
    type: "put",
    flags: PUT_CREATE,
    key,
    mask,
    actions: [],
  });
  const puts = keys.map(put);
  dp.operate(puts);
  assert.deepEqual(puts.map((o) => [o.error, o.flow]), keys.map(() => [0, undefined]));
  // Short replies (puts) and replies with a flow (deletes), interleaved.
  const mixed = keys.flatMap((key): DpifOp[] => [put(key), { type: "del", key }]);
  dp.operate(mixed);
  for (let i = 0; i < keys.length; i++) {
    assert.equal(mixed[2 * i].error, EEXIST);
    assert.equal(mixed[2 * i + 1].error, 0);
    assert.deepEqual(mixed[2 * i + 1].flow!.key, keys[i]);
  }
  assert.equal(dp.getStats().flows, 0);
  dp.destroy();
});

Deno.test("a put through operate answers with the flow only when it asks for it", () => {
  const { dp } = setup();
  const frame = udpFrame(5, 7, 1000, 80);
  const key = keyOf(frame, 1), mask = maskOf("dl_dst");
  const plain: DpifOp = { type: "put", flags: PUT_CREATE, key, mask, actions: [] };
  const asking: DpifOp = {
    type: "put",
    flags: PUT_MODIFY,
    key,
    mask,
    actions: [{ type: "output", port: 2 }],
    wantFlow: true,
  };
  dp.operate([plain, asking]);
  assert.deepEqual([plain.error, plain.flow], [0, undefined]);
  assert.equal(asking.error, 0);
  assert.deepEqual(snapshotActions(asking.flow!), [{ type: "output", port: 2 }]);
  dp.destroy();
});

Deno.test("dpcls finds flows across several subtables and EMC takes over when enabled", () => {
  const { dp, p1 } = setup();
  dp.setEmcInsertInvProb(1);
  const masks = [maskOf("dl_dst"), maskOf("dl_src"), maskOf("tp_dst"), maskOf("nw_src", "tp_src")];
  for (let i = 0; i < 4; i++) {
    const f = udpFrame(100 + i, 200 + i, 300 + i, 400 + i);
    assert.equal(
      dp.flowPut({ flags: PUT_CREATE, key: keyOf(f, 1), mask: masks[i], actions: [] }).error,
      0,
    );
  }
  assert.equal(dp.getStats().masks, 4);
  const frames = [0, 1, 2, 3].map((i) => udpFrame(100 + i, 200 + i, 300 + i, 400 + i));
  p1.receive(frames);
  assert.equal(dp.pmdStats().megaflowHits, 4);
  p1.receive(frames);
  assert.equal(dp.pmdStats().emcHits, 4);
  assert.equal(dp.getStats().hit, 8);
  dp.destroy();
});

Deno.test("a dump returns every flow once and reads the stats the PMD keeps", () => {
  const { dp, p1 } = setup();
  for (let i = 0; i < 300; i++) {
    const f = udpFrame(i, 7, i, 80);
    dp.flowPut({ flags: PUT_CREATE, key: keyOf(f, 1), mask: maskOf("dl_src"), actions: [] });
  }
  p1.receive([udpFrame(5, 7, 5, 80)]);
  const dump = dp.flowDumpCreate();
  const threads = [dump.threadCreate(), dump.threadCreate()];
  const batch = newDumpBatch();
  const seen = new Set<string>();
  let packets = 0;
  for (let done = 0; done < 2;) {
    done = 0;
    for (const t of threads) {
      const n = t.next(batch);
      if (n === 0) done++;
      assert.ok(n <= 50);
      for (let i = 0; i < n; i++) {
        const id = batch[i].ufid.join(",");
        assert.ok(!seen.has(id), "no flow twice");
        seen.add(id);
        packets += batch[i].packets;
      }
    }
  }
  assert.equal(seen.size, 300);
  assert.equal(packets, 1);
  dp.destroy();
});

Deno.test("a packet whose parsing throws is counted and the PMD carries on", () => {
  const picky = (p: Uint8Array, len: number, inPort: number, key: Uint32Array) => {
    if (p[0] === 0xee) throw new RangeError("unparsable");
    flowExtract(p, len, inPort, key);
  };
  const dp = DpifNetdev.create("dummy", { extract: picky, flowCapacity: 64 });
  const p1 = new DummyNetdev("p1");
  dp.portAdd(p1);
  const bad = new Uint8Array(64).fill(0xee);
  p1.receive([bad, udpFrame(1, 2, 3, 4), bad]);
  assert.equal(dp.pmdStats().errors, 2);
  assert.equal(dp.getStats().missed, 1);
  dp.destroy();
});

Deno.test("dpif-netdev: each PMD's flow table and each upcall queue are advised for huge pages", () => {
  const dp = DpifNetdev.create("dummy", { flowCapacity: 65536 });
  try {
    for (const pmd of dp.shared.pmds) assert.ok(hugePagesAdvised(pmd.table.sab), "flow table");
    for (const q of dp.shared.upcall) assert.ok(hugePagesAdvised(q.sab), "upcall queue");
  } finally {
    dp.destroy();
  }
});

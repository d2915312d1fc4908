import assert from "node:assert/strict";
import { MacLearning } from "./mac_learning.ts";
import { formatFdbShow } from "./fdb_show.ts";

/** `aa:bb:cc:dd:ee:ff` as the 6 bytes the table reads. */
const mac = (s: string) => Uint8Array.from(s.split(":").map((p) => parseInt(p, 16)));
const A = mac("50:54:00:00:00:05");
const B = mac("50:54:00:00:00:07");

Deno.test("a learned MAC is found on its port and VLAN only", () => {
  const ml = MacLearning.create();
  assert.equal(ml.update(A, 0, 0, 1, 0), true);
  assert.equal(ml.lookup(A, 0, 0, 0), 1);
  assert.equal(ml.lookup(A, 0, 10, 0), -1);
  assert.equal(ml.lookup(B, 0, 0, 0), -1);
});

Deno.test("relearning on the same port within a second changes nothing", () => {
  const ml = MacLearning.create();
  ml.update(A, 0, 0, 1, 0);
  const seq = ml.changeSeq;
  assert.equal(ml.update(A, 0, 0, 1, 500), false);
  assert.equal(ml.changeSeq, seq);
});

Deno.test("a MAC seen on another port moves and bumps the change sequence", () => {
  const ml = MacLearning.create();
  ml.update(A, 0, 0, 1, 0);
  const seq = ml.changeSeq;
  assert.equal(ml.update(A, 0, 0, 2, 2000), true);
  assert.equal(ml.lookup(A, 0, 0, 2000), 2);
  assert.ok(ml.changeSeq > seq);
});

Deno.test("held changes are in the table at once but move the change sequence only on release", () => {
  const ml = MacLearning.create();
  const handler = MacLearning.attach(ml.buffer);
  const seq = ml.changeSeq;
  handler.holdChanges();
  assert.equal(handler.update(A, 0, 0, 1, 0), true);
  assert.equal(handler.update(B, 0, 0, 2, 0), true);
  assert.equal(ml.lookup(A, 0, 0, 0), 1, "other threads see the entry before the release");
  assert.equal(ml.changeSeq, seq, "but not the change");
  handler.releaseChanges();
  assert.equal(ml.changeSeq, seq + 2);
  handler.update(A, 0, 0, 3, 2000);
  assert.equal(ml.changeSeq, seq + 3, "after the release, changes count at once again");
});

Deno.test("multicast sources are never learned and multicast destinations never found", () => {
  const ml = MacLearning.create();
  const m = mac("01:00:5e:00:00:01");
  assert.equal(ml.update(m, 0, 0, 1, 0), false);
  assert.equal(ml.lookup(m, 0, 0, 0), -1);
  assert.equal(ml.count, 0);
});

Deno.test("entries age out after 300 seconds", () => {
  const ml = MacLearning.create();
  ml.update(A, 0, 0, 1, 0);
  assert.equal(ml.lookup(A, 0, 0, 299_999), 1);
  assert.equal(ml.lookup(A, 0, 0, 300_000), -1);
  assert.equal(ml.run(300_000), 1);
  assert.equal(ml.count, 0);
});

Deno.test("a full table evicts the oldest entry of the busiest port", () => {
  const ml = MacLearning.create({ maxEntries: 4 });
  const m = (i: number) => Uint8Array.of(0x50, 0, 0, 0, 0, i);
  ml.update(m(1), 0, 0, 1, 0);
  ml.update(m(2), 0, 0, 1, 0);
  ml.update(m(3), 0, 0, 1, 0);
  ml.update(m(4), 0, 0, 2, 0);
  ml.update(m(5), 0, 0, 3, 0);
  assert.equal(ml.count, 4);
  assert.equal(ml.lookup(m(1), 0, 0, 0), -1);
  for (const i of [2, 3, 4, 5]) assert.notEqual(ml.lookup(m(i), 0, 0, 0), -1);
});

Deno.test("removing entries keeps colliding entries reachable", () => {
  const ml = MacLearning.create({ maxEntries: 8 });
  const macs = Array.from({ length: 8 }, (_, i) => Uint8Array.of(2, 0, 0, 0, 1, i));
  macs.forEach((m, i) => ml.update(m, 0, 0, 1 + (i % 2), i < 4 ? 0 : 100_000));
  assert.equal(ml.run(300_000), 4);
  macs.slice(4).forEach((m) => assert.notEqual(ml.lookup(m, 0, 0, 300_000), -1));
  macs.slice(0, 4).forEach((m) => assert.equal(ml.lookup(m, 0, 0, 300_000), -1));
});

Deno.test("another thread's view shares the same entries", () => {
  const ml = MacLearning.create();
  const other = MacLearning.attach(ml.buffer);
  other.update(A, 0, 5, 3, 0);
  assert.equal(ml.lookup(A, 0, 5, 0), 3);
});

Deno.test("fdb/show prints entries oldest first in OVS's columns", () => {
  const ml = MacLearning.create();
  ml.update(A, 0, 0, 1, 1000);
  ml.update(B, 0, 10, 0xfffe, 3000);
  assert.equal(
    formatFdbShow(ml, 5000),
    " port  VLAN  MAC                Age\n" +
      "    1     0  50:54:00:00:00:05    4\n" +
      "LOCAL    10  50:54:00:00:00:07    2\n",
  );
});

Deno.test("workers learning at the same time lose no entry", async () => {
  const ml = MacLearning.create({ maxEntries: 4096 });
  const moduleUrl = new URL("./mac_learning.ts", import.meta.url).href;
  const code = `
    import { MacLearning } from "${moduleUrl}";
    self.onmessage = (e) => {
      const ml = MacLearning.attach(e.data.sab);
      const mac = new Uint8Array(6);
      for (let i = 0; i < 1000; i++) {
        mac.set([2, e.data.id, 0, 0, i >> 8, i & 0xff]);
        ml.update(mac, 0, 0, e.data.id, 0);
      }
      self.postMessage("done");
    };`;
  const url = URL.createObjectURL(new Blob([code], { type: "text/javascript" }));
  const workers = [1, 2, 3].map(() => new Worker(url, { type: "module" }));
  await Promise.all(workers.map((w, i) =>
    new Promise<void>((resolve) => {
      w.onmessage = () => resolve();
      w.postMessage({ sab: ml.buffer, id: i + 1 });
    })
  ));
  workers.forEach((w) => w.terminate());
  URL.revokeObjectURL(url);
  assert.equal(ml.count, 3000);
  assert.equal(ml.lookup(Uint8Array.of(2, 3, 0, 0, 3, 0xe7), 0, 0, 0), 3);
});

Deno.test("a MAC moves at once, even right after a gratuitous ARP", () => {
  const ml = MacLearning.create();
  ml.update(A, 0, 0, 1, 0, true);
  assert.equal(ml.update(A, 0, 0, 2, 100), true);
  assert.equal(ml.lookup(A, 0, 0, 100), 2);
});

import assert from "node:assert/strict";
import { newRingBuffer, RingConsumer, RingView } from "../lib/mod.ts";
import { encodePcap, readPcap } from "../packet/mod.ts";
import { DummyNetdev } from "./dummy.ts";
import { PcapWriter, readPcapFrames, replayFrames } from "./pcap.ts";
import { pollUntil } from "../../tests/poll.ts";

Deno.test("replay delivers a capture larger than the rx ring whole and in order", async () => {
  const dev = new DummyNetdev("p1");
  const rx = new RingView(newRingBuffer(1 << 10));
  dev.attach({
    rx: [rx],
    tx: [new RingView(newRingBuffer(64))],
    wake: () => {},
    setRecordTx: () => {},
  });
  const frames = Array.from({ length: 500 }, (_, i) => new Uint8Array(60).fill(i & 255));
  const pmd = new RingConsumer(rx);
  const got: number[] = [];
  // The datapath side drains slowly, on timers, while the replay runs.
  const drain = setInterval(() => {
    for (let at = pmd.next(); at >= 0; at = pmd.next()) got.push(rx.u8[(at + 1) * 4]);
    pmd.release();
  }, 1);
  const n = await replayFrames(dev, frames);
  await pollUntil(() => got.length >= 500, "the 500 frames drained");
  clearInterval(drain);
  assert.equal(n, 500);
  assert.deepEqual(got, frames.map((f) => f[0]));
  assert.equal(dev.rxDropped, 0);
});

Deno.test("tx_pcap files read back as the frames written", async () => {
  const dir = Deno.makeTempDirSync();
  const w = await PcapWriter.create(`${dir}/tx.pcap`);
  w.write(Uint8Array.of(1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14), 1_700_000_000_123);
  w.write(new Uint8Array(64).fill(9), 1_700_000_000_456);
  w.close();
  const frames = await readPcapFrames(`${dir}/tx.pcap`);
  assert.deepEqual(frames.map((f) => f.length), [14, 64]);
  const again = readPcap(encodePcap(frames.map((data) => ({ data }))));
  assert.equal(again.packets.length, 2);
  await assert.rejects(() => readPcapFrames(`${dir}/missing.pcap`), /missing\.pcap/);
  Deno.removeSync(dir, { recursive: true });
});

Deno.test("a paced replay queues one frame at once and the rest over time", async () => {
  const dev = new DummyNetdev("p1");
  const rx = new RingView(newRingBuffer(1 << 10));
  dev.attach({
    rx: [rx],
    tx: [new RingView(newRingBuffer(64))],
    wake: () => {},
    setRecordTx: () => {},
  });
  const pmd = new RingConsumer(rx);
  const count = () => {
    let n = 0;
    for (let at = pmd.next(); at >= 0; at = pmd.next()) n++;
    pmd.release();
    return n;
  };
  const done = replayFrames(dev, Array.from({ length: 5 }, () => new Uint8Array(60)), {
    rate: 200,
  });
  assert.equal(count(), 1);
  assert.equal(await done, 5);
  assert.equal(count(), 4);
});

import assert from "node:assert/strict";
import { DummyNetdev } from "./dummy.ts";
import { DummyStream, streamPath } from "./stream.ts";
import { newRingBuffer, RingConsumer, RingProducer, RingView } from "../lib/mod.ts";
import { pollUntil } from "../../tests/poll.ts";

/** Attaches a netdev to bare rings; returns the datapath's ends of them. */
function attach(dev: DummyNetdev) {
  const rx = new RingView(newRingBuffer(1 << 12)), tx = new RingView(newRingBuffer(1 << 12));
  dev.attach({ rx, tx, wake: () => {}, setRecordTx: () => {} });
  return { rx: new RingConsumer(rx), tx: new RingProducer(tx) };
}

function framed(frames: Uint8Array[]): Uint8Array {
  const out = new Uint8Array(frames.reduce((n, f) => n + f.length + 2, 0));
  let o = 0;
  for (const f of frames) {
    out[o] = f.length >> 8, out[o + 1] = f.length & 255;
    out.set(f, o + 2);
    o += f.length + 2;
  }
  return out;
}

Deno.test("stream specs name unix socket paths", () => {
  assert.equal(streamPath("punix:/tmp/p1.sock", true), "/tmp/p1.sock");
  assert.throws(() => streamPath("tcp:1.2.3.4:5", false), /expected unix:PATH/);
});

Deno.test("frames read from a pstream connection reach the rx ring; tx frames go back on it", async () => {
  const dir = Deno.makeTempDirSync();
  const path = `${dir}/p1.sock`;
  const dev = new DummyNetdev("p1");
  const ends = attach(dev);
  const stream = new DummyStream(dev);
  await stream.listen(path);
  const conn = await Deno.connect({ transport: "unix", path });
  const frames = Array.from({ length: 50 }, (_, i) => new Uint8Array(60 + i).fill(i));
  const bytes = framed(frames);
  // Split the write mid-frame: the reader must reassemble.
  await conn.write(bytes.subarray(0, 101));
  await conn.write(bytes.subarray(101));
  const got: number[] = [];
  await pollUntil(() => {
    for (let at = ends.rx.next(); at >= 0; at = ends.rx.next()) got.push(ends.rx.view.u32[at]);
    ends.rx.release();
    return got.length >= 50;
  }, "the 50 frames");
  assert.deepEqual(got, frames.map((f) => f.length));
  const at = ends.tx.reserve(1 + 16);
  ends.tx.view.u32[at] = 64;
  ends.tx.view.u8.fill(7, (at + 1) * 4, (at + 1) * 4 + 64);
  ends.tx.publish();
  dev.pollTx();
  const back = new Uint8Array(66);
  let n = 0;
  while (n < 66) n += (await conn.read(back.subarray(n)))!;
  assert.deepEqual([back[0], back[1], back[2], back[65]], [0, 64, 7, 7]);
  conn.close();
  stream.close();
  dev.close();
  Deno.removeSync(dir, { recursive: true });
});

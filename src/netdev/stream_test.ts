import assert from "node:assert/strict";
import { DummyNetdev } from "./dummy.ts";
import { DummyStream, STREAM_TX_QUEUE_BYTES, streamPath } from "./stream.ts";
import { newRingBuffer, RingConsumer, RingProducer, RingView } from "../lib/mod.ts";
import { framed, FrameReader } from "../../tests/stream_peer.ts";
import { pollUntil } from "../../tests/poll.ts";

/** Attaches a netdev to bare rings; returns the datapath's ends of them. */
function attach(dev: DummyNetdev, wake = () => {}) {
  const rx = new RingView(newRingBuffer(1 << 12)), tx = new RingView(newRingBuffer(1 << 12));
  dev.attach({ rx: [rx], tx: [tx], wake, setRecordTx: () => {} });
  return { rx: new RingConsumer(rx), tx: new RingProducer(tx) };
}

/** Publishes one frame on the tx ring, as the PMD does when it outputs to the port. */
function transmit(tx: RingProducer, frame: Uint8Array): boolean {
  const at = tx.reserve(1 + ((frame.length + 3) >> 2));
  if (at < 0) return false;
  tx.view.u32[at] = frame.length;
  tx.view.u8.set(frame, (at + 1) * 4);
  tx.publish();
  return true;
}

/**
 * Attaches a netdev to a datapath that outputs every frame back to the
 * port the moment it is woken (an in-process PMD with one flow), counting
 * the frames the tx ring had no room for as the PMD does.
 */
function attachLoopback(dev: DummyNetdev) {
  const stats = { looped: 0, txDropped: 0 };
  const ends = attach(dev, () => {
    const { rx, tx } = ends;
    for (let at = rx.next(); at >= 0; at = rx.next()) {
      const len = rx.view.u32[at];
      if (transmit(tx, rx.view.u8.subarray((at + 1) * 4, (at + 1) * 4 + len))) stats.looped++;
      else stats.txDropped++;
    }
    rx.release();
  });
  return stats;
}

/** Frames whose bytes say which one they are. */
function numbered(n: number, len: number): Uint8Array[] {
  return Array.from({ length: n }, (_, i) => new Uint8Array(len).fill(i & 255).fill(i >> 8, 0, 1));
}

/**
 * Port p1 listening on a fresh socket, wired to the datapath by `wire`:
 * runs `body` and closes the stream, the port and the socket's folder even
 * when it fails.
 */
async function withStreamPort<W>(
  wire: (dev: DummyNetdev) => W,
  body: (port: { dev: DummyNetdev; stream: DummyStream; path: string; wired: W }) => Promise<void>,
) {
  const dir = Deno.makeTempDirSync();
  const path = `${dir}/p1.sock`;
  const dev = new DummyNetdev("p1");
  const wired = wire(dev);
  const stream = new DummyStream(dev);
  try {
    await stream.listen(path);
    await body({ dev, stream, path, wired });
  } finally {
    stream.close();
    dev.close();
    Deno.removeSync(dir, { recursive: true });
  }
}

Deno.test("stream specs name unix socket paths", () => {
  assert.equal(streamPath("punix:/tmp/p1.sock", true), "/tmp/p1.sock");
  assert.throws(() => streamPath("tcp:1.2.3.4:5", false), /expected unix:PATH/);
});

Deno.test("frames read from a pstream connection reach the rx ring; tx frames go back on it", async () => {
  await withStreamPort(attach, async ({ dev, path, wired: ends }) => {
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
    }, "50 frames on the rx ring");
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
  });
});

Deno.test("a looped-back burst larger than the tx ring goes back out whole, with no tx pump", async () => {
  await withStreamPort(attachLoopback, async ({ stream, path, wired: stats }) => {
    const conn = await Deno.connect({ transport: "unix", path });
    // 1000 frames of 64 bytes: 18 words each on a ring of 4096 words. The
    // stream must drain the tx ring between handing batches to the datapath.
    const frames = numbered(1000, 64);
    const reader = new FrameReader(conn, "peer");
    const reading = reader.read(frames.length);
    await conn.write(framed(frames));
    const got = await reading;
    assert.equal(got.findIndex((f, i) => f[0] !== frames[i][0] || f[1] !== frames[i][1]), -1);
    assert.deepEqual([stats.looped, stats.txDropped, stream.txDropped], [1000, 0, 0]);
    conn.close();
  });
});

Deno.test("a connection that never reads stalls neither the port nor another connection", async () => {
  await withStreamPort(attach, async ({ dev, stream, path, wired: ends }) => {
    const stuck = await Deno.connect({ transport: "unix", path });
    const conn = await Deno.connect({ transport: "unix", path });
    await pollUntil(() => stream.connections === 2, "both connections");
    // More than the stuck peer's socket buffer and output queue together.
    const frames = numbered(Math.ceil(2 * STREAM_TX_QUEUE_BYTES / 1500), 1500);
    const reader = new FrameReader(conn, "reading peer");
    for (let i = 0; i < frames.length; i += 8) {
      const batch = frames.slice(i, i + 8);
      for (const f of batch) assert.ok(transmit(ends.tx, f), "tx ring has room");
      dev.pollTx();
      const got = await reader.read(batch.length);
      assert.deepEqual(got.map((f) => f[0] * 256 + f[1]), batch.map((f) => f[0] * 256 + f[1]));
    }
    // The stuck peer's queue stopped growing at its bound; the rest was counted.
    assert.ok(stream.txDropped > 0, `frames dropped for the stuck peer: ${stream.txDropped}`);
    assert.equal(stream.connections, 2);
    stuck.close();
    conn.close();
  });
});

Deno.test("a peer that writes and closes without reading gets all its frames in", async () => {
  await withStreamPort(attachLoopback, async ({ stream, path, wired: stats }) => {
    const conn = await Deno.connect({ transport: "unix", path });
    await conn.write(framed(numbered(300, 200)));
    conn.close();
    // Writing the echoes back fails once the peer is gone; reading must go on.
    await pollUntil(() => stream.rxFrames === 300, "300 frames from the closed peer");
    assert.equal(stats.looped, 300);
  });
});

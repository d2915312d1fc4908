/**
 * The packet stream framing (`stream=`/`pstream=` ports: a 2-byte
 * big-endian length, then the frame), both ends: the port's reader
 * (src/netdev/stream.ts DummyStream) and the test peer's
 * (tests/stream_peer.ts FrameReader), fed arbitrary bytes in arbitrary
 * reads over an in-memory connection. Properties: each complete frame
 * arrives once, whole, in order, and nothing else does (a truncated
 * last frame is dropped when the peer closes; the port stops at a length
 * shorter than an Ethernet header and closes the connection, the peer's
 * reader takes any length); neither reader throws
 * anything but FrameReader's one-line "peer closed" or hangs.
 */
import assert from "node:assert/strict";
import { DummyNetdev, DummyStream } from "../../../src/netdev/mod.ts";
import { newRingBuffer, RingConsumer, RingView } from "../../../src/lib/mod.ts";
import { ETH_HEADER_LEN } from "../../../src/packet/mod.ts";
import { FrameReader } from "../../stream_peer.ts";
import { fnv1a, mutateBytes, Rng, type Target } from "../engine.ts";

/**
 * Complete frames of a framed byte stream, by the format's definition, up
 * to the first length below `minLen` (where the port closes the connection).
 */
function frames(stream: Uint8Array, minLen = 0): Uint8Array[] {
  const out: Uint8Array[] = [];
  for (let o = 0; o + 2 <= stream.length;) {
    const len = (stream[o] << 8) | stream[o + 1];
    if (len < minLen || o + 2 + len > stream.length) break;
    out.push(stream.subarray(o + 2, o + 2 + len));
    o += 2 + len;
  }
  return out;
}

/** A connection whose peer writes `stream` in the reads `rng` picks, then closes. */
function connection(stream: Uint8Array, rng: Rng, closed: () => void): Deno.Conn {
  let at = 0;
  const conn = {
    read(p: Uint8Array): Promise<number | null> {
      if (at >= stream.length) return Promise.resolve(null);
      const n = Math.min(p.length, 1 + rng.int(rng.chance(3) ? 3 : 200), stream.length - at);
      p.set(stream.subarray(at, at + n));
      at += n;
      return Promise.resolve(n);
    },
    write: (p: Uint8Array) => Promise.resolve(p.length),
    close: closed,
  };
  return conn as unknown as Deno.Conn;
}

let dev: DummyNetdev;
let stream: DummyStream;
const received: Uint8Array[] = [];

function setup(): void {
  dev = new DummyNetdev("fuzz0");
  const rx = new RingView(newRingBuffer(1 << 16));
  const consumer = new RingConsumer(rx);
  // The datapath end: takes every frame as soon as it is woken.
  dev.attach({
    rx: [rx],
    tx: [new RingView(newRingBuffer(1 << 10))],
    wake: () => {
      for (let at = consumer.next(); at >= 0; at = consumer.next()) {
        const len = rx.u32[at];
        received.push(rx.u8.slice((at + 1) * 4, (at + 1) * 4 + len));
      }
      consumer.release();
    },
    setRecordTx: () => {},
  });
  stream = new DummyStream(dev);
}

export async function checkStream(bytes: Uint8Array): Promise<void> {
  const want = frames(bytes, ETH_HEADER_LEN);
  const rng = new Rng(fnv1a(bytes));

  received.length = 0;
  const before = stream.rxFrames;
  await new Promise<void>((done) => {
    // DummyStream serves a connection until its peer closes it.
    (stream as unknown as { serve(c: Deno.Conn): void }).serve(connection(bytes, rng, done));
  });
  assert.equal(stream.rxFrames - before, want.length, "the port counted other frames");
  assert.equal(received.length, want.length, "the port delivered other frames");
  received.forEach((f, i) => assert.deepEqual(f, want[i], `a frame changed: ${i}`));

  const all = frames(bytes);
  const reader = new FrameReader(connection(bytes, rng, () => {}), "fuzz peer");
  const got = await reader.read(all.length);
  assert.equal(got.length, all.length);
  got.forEach((f, i) => assert.deepEqual(f, all[i], `a peer frame changed: ${i}`));
  await assert.rejects(reader.read(1), /^Error: fuzz peer: peer closed with 0 of 1 frames in/);
}

export const streamTarget: Target<Uint8Array> = {
  name: "stream",
  kind: "bytes",
  setup,
  teardown: () => stream.close(),
  mutate: (rng: Rng, corpus: readonly Uint8Array[]) => mutateBytes(rng, corpus, 4096),
  run: checkStream,
};

import assert from "node:assert/strict";
import { exactField, F, FLOW_WORDS } from "../flow/mod.ts";
import { DummyNetdev, DummyStream } from "../netdev/mod.ts";
import { framed, FrameReader } from "../../tests/stream_peer.ts";
import { pollUntil } from "../../tests/poll.ts";
import { udpFrame } from "../../tests/support/dpif/test_extract.ts";
import { DpifNetdev } from "./dpif_netdev.ts";
import { PUT_CREATE } from "./protocol.ts";

/** A flow on in_port only, sending everything to `out`. */
function catchAll(dp: DpifNetdev, inPort: number, out: number) {
  const key = new Uint32Array(FLOW_WORDS), mask = new Uint32Array(FLOW_WORDS);
  const kb = new Uint8Array(key.buffer);
  kb[F.in_port.off + 3] = inPort;
  exactField(new Uint8Array(mask.buffer), F.in_port);
  assert.equal(
    dp.flowPut({ flags: PUT_CREATE, key, mask, actions: [{ type: "output", port: out }] }).error,
    0,
  );
}

Deno.test(
  "a burst written to a pstream port goes through the PMD worker and back out every connection whole",
  async () => {
    const dir = Deno.makeTempDirSync();
    const path = `${dir}/p1.sock`;
    const dp = DpifNetdev.create("dummy", { flowCapacity: 1024 });
    await dp.ready();
    const p1 = new DummyNetdev("p1");
    dp.portAdd(p1);
    const stream = new DummyStream(p1);
    await stream.listen(path);
    p1.startTxPump();
    catchAll(dp, 1, 1);
    // The watcher only reads; the injector only writes, in one burst larger
    // than the port's tx ring, and never reads what comes back to it.
    const watcher = await Deno.connect({ transport: "unix", path });
    await pollUntil(() => stream.connections === 1, "the watcher's connection");
    const injector = await Deno.connect({ transport: "unix", path });
    await pollUntil(() => stream.connections === 2, "the injector's connection");
    const N = 5000;
    const frames = Array.from({ length: N }, (_, i) => udpFrame(i, 1000 + i, 1024 + i, 80));
    const bytes = framed(frames);
    for (let off = 0; off < bytes.length;) off += await injector.write(bytes.subarray(off));
    await pollUntil(() => dp.getStats().hit >= N, `${N} datapath hits`);
    const s = dp.getStats();
    assert.deepEqual([s.hit, s.missed, s.lost], [N, 0, 0]);
    // Every frame goes back out on every connection of the port, in order.
    const got = await new FrameReader(watcher, "watcher").read(N);
    assert.equal(got.findIndex((f, i) => !f.every((b, j) => b === frames[i][j])), -1);
    assert.deepEqual(dp.portStats(1), [N, N * 64, N, N * 64, 0, 0]);
    injector.close();
    watcher.close();
    p1.stopTxPump();
    stream.close();
    dp.destroy();
    Deno.removeSync(dir, { recursive: true });
  },
);

Deno.test(
  "a burst into one stream port comes out whole on another whose tx nobody pumps",
  async () => {
    const dir = Deno.makeTempDirSync();
    const dp = DpifNetdev.create("dummy", { flowCapacity: 1024 });
    await dp.ready();
    const [p1, p2] = [new DummyNetdev("p1"), new DummyNetdev("p2")];
    const [in1, out2] = [dp.portAdd(p1), dp.portAdd(p2)];
    const [s1, s2] = [new DummyStream(p1), new DummyStream(p2)];
    await s1.listen(`${dir}/p1.sock`);
    await s2.listen(`${dir}/p2.sock`);
    catchAll(dp, in1, out2);
    // Only p1's stream runs; it must drain p2's tx ring too, as the
    // daemon's 20 ms tx poll would come too late for a burst.
    const watcher = await Deno.connect({ transport: "unix", path: `${dir}/p2.sock` });
    await pollUntil(() => s2.connections === 1, "the watcher's connection");
    const injector = await Deno.connect({ transport: "unix", path: `${dir}/p1.sock` });
    const N = 5000;
    const frames = Array.from({ length: N }, (_, i) => udpFrame(i, 1000 + i, 1024 + i, 80));
    const bytes = framed(frames);
    for (let off = 0; off < bytes.length;) off += await injector.write(bytes.subarray(off));
    const got = await new FrameReader(watcher, "p2 watcher").read(N);
    assert.equal(got.findIndex((f, i) => !f.every((b, j) => b === frames[i][j])), -1);
    assert.deepEqual([dp.portStats(in1)[0], dp.portStats(out2)[2]], [N, N]);
    injector.close();
    watcher.close();
    s1.close();
    s2.close();
    dp.destroy();
    Deno.removeSync(dir, { recursive: true });
  },
);

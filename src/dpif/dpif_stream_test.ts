import assert from "node:assert/strict";
import { exactField, F, FLOW_WORDS } from "../flow/mod.ts";
import { DummyNetdev, DummyStream } from "../netdev/mod.ts";
import { DpifNetdev } from "./dpif_netdev.ts";
import { PUT_CREATE } from "./protocol.ts";
import { pollUntil } from "../../tests/poll.ts";

const INJECT = "/work/shared/oracle/perf/ovs_inject.py";
const haveInjector = (() => {
  try {
    return Deno.statSync(INJECT).isFile;
  } catch {
    return false;
  }
})();

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

function until(cond: () => boolean): Promise<void> {
  return pollUntil(cond, "the frames to arrive");
}

Deno.test(
  "frames from ovs_inject.py over a pstream port go through the PMD worker and back out the socket",
  {
    ignore: !haveInjector,
  },
  async () => {
    const dir = Deno.makeTempDirSync();
    const dp = DpifNetdev.create("dummy", { flowCapacity: 1024 });
    await dp.ready();
    const p1 = new DummyNetdev("p1");
    dp.portAdd(p1);
    const stream = new DummyStream(p1);
    await stream.listen(`${dir}/p1.sock`);
    p1.startTxPump();
    catchAll(dp, 1, 1);
    // A second client on the same socket sees what the port transmits.
    const watcher = await Deno.connect({ transport: "unix", path: `${dir}/p1.sock` });
    await until(() => stream.connections === 1);
    const N = 2000;
    const inj = await new Deno.Command("/usr/bin/python3", {
      args: [INJECT, "stream", "--sock", `${dir}/p1.sock`, String(N)],
      stdout: "null",
      stderr: "null",
    }).output();
    assert.equal(inj.code, 0);
    await until(() => dp.getStats().hit >= N);
    const s = dp.getStats();
    assert.deepEqual([s.hit, s.missed, s.lost], [N, 0, 0]);
    // Every frame goes back out on every connection of the port: read the watcher's copies.
    const buf = new Uint8Array(1 << 20);
    let have = 0, frames = 0, off = 0;
    while (frames < N) {
      const n = await watcher.read(buf.subarray(have));
      assert.ok(n !== null, "socket stays open");
      have += n;
      while (have - off >= 2 && have - off >= 2 + ((buf[off] << 8) | buf[off + 1])) {
        off += 2 + ((buf[off] << 8) | buf[off + 1]);
        frames++;
      }
    }
    assert.equal(frames, N);
    assert.deepEqual(dp.portStats(1), [N, dp.portStats(1)[1], N, dp.portStats(1)[1]]);
    watcher.close();
    p1.stopTxPump();
    stream.close();
    dp.destroy();
    Deno.removeSync(dir, { recursive: true });
  },
);

import assert from "node:assert/strict";
import { bytesOf, F, flowExtract, newKey, setField, setUint, setVlanLimit } from "../flow/mod.ts";
import { coverageTotal, setVlogFile } from "../lib/mod.ts";
import { DummyNetdev } from "../netdev/mod.ts";
import { Dpif } from "./dpif.ts";
import { DpifNetdev } from "./dpif_netdev.ts";
import { EINVAL } from "./protocol.ts";

const NAMES = ["dpif_flow_put", "dpif_flow_get", "dpif_flow_del", "dpif_execute"];

function counter(): () => number[] {
  const base = NAMES.map((n) => coverageTotal(n) ?? 0);
  return () => NAMES.map((n, i) => (coverageTotal(n) ?? 0) - base[i]);
}

/** An IPv4 key under `depth` 802.1Q headers of VID 1. */
function vlanKey(depth: number): Uint32Array {
  const key = newKey(), b = bytesOf(key);
  setField(b, F.dl_type, 0x0800);
  for (let i = 0; i < depth; i++) {
    setUint(b, F.vlan0_tpid.off + 4 * i, 2, 0x8100);
    setUint(b, F.vlan0_tci.off + 4 * i, 2, 0x1001);
  }
  return key;
}

function withDp(fn: (dpif: Dpif, dp: DpifNetdev) => void): void {
  const dp = DpifNetdev.create("dummy", { extract: flowExtract, flowCapacity: 64 });
  try {
    fn(new Dpif(dp), dp);
  } finally {
    setVlanLimit(1);
    dp.destroy();
  }
}

Deno.test("a probe the datapath accepts is put, read back and deleted, each counted once", () => {
  withDp((dpif, dp) => {
    const since = counter();
    assert.equal(dpif.probeFeature("VLAN", vlanKey(1), []), true);
    assert.deepEqual(since(), [1, 1, 1, 0]);
    assert.equal(dp.getStats().flows, 0);
  });
});

Deno.test("the datapath refuses a key with more VLAN headers than its VLAN limit", () => {
  withDp((dpif, dp) => {
    const since = counter();
    const file = Deno.makeTempFileSync({ suffix: ".log" });
    setVlogFile(file);
    try {
      assert.equal(dpif.probeFeature("VLAN", vlanKey(2), []), false);
    } finally {
      setVlogFile(undefined);
    }
    // A refused put is counted, and nothing is read back or deleted; the
    // refusal is the probe's answer, not worth the WARN a failed put gets.
    assert.deepEqual(since(), [1, 0, 0, 0]);
    assert.equal(Deno.readTextFileSync(file), "");
    Deno.removeSync(file);
    dp.setVlanLimit(2);
    assert.equal(dpif.probeFeature("VLAN", vlanKey(2), []), true);
    assert.equal(dp.getStats().flows, 0);
  });
});

Deno.test("a UFID probe finds its flow under the UFID it gave", () => {
  withDp((dpif) => {
    const ufid = Uint32Array.of(1, 2, 0x80000003, 4);
    assert.equal(dpif.probeFeature("UFID", vlanKey(0), [], ufid), true);
  });
});

Deno.test("a probe execute is checked and dropped: nothing is sent, a runt is refused", () => {
  withDp((dpif, dp) => {
    const p1 = new DummyNetdev("p1", "dummy", { recordTx: true });
    const port = dp.portAdd(p1);
    const frame = new Uint8Array(60);
    const since = counter();
    assert.equal(dpif.execute(frame, 0, [{ type: "output", port }], true), 0);
    assert.equal(dpif.execute(frame.subarray(0, 13), 0, [{ type: "output", port }], true), EINVAL);
    assert.deepEqual(dp.portStats(port).slice(2, 4), [0, 0], "a probe sends nothing");
    assert.equal(dpif.execute(frame, 0, [{ type: "output", port }]), 0);
    assert.deepEqual(dp.portStats(port).slice(2, 4), [1, 60], "a real execute does");
    assert.deepEqual(since(), [0, 0, 0, 3]);
  });
});

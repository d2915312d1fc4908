import assert from "node:assert/strict";
import { exactField, F, FLOW_WORDS, type OdpAction } from "../flow/mod.ts";
import { coverageTotal } from "../lib/mod.ts";
import { DummyNetdev } from "../netdev/mod.ts";
import { DpifNetdev } from "./dpif_netdev.ts";
import { flowExtract, udpFrame } from "../../tests/support/dpif/test_extract.ts";
import { PUT_CREATE } from "./protocol.ts";

const NAMES = ["netdev_received", "netdev_sent", "drop_action_of_pipeline", "flow_extract"];

/** The named counters' growth while `f` runs. */
function delta(f: () => void): Record<string, number> {
  const before = NAMES.map((n) => coverageTotal(n) ?? 0);
  f();
  return Object.fromEntries(NAMES.map((n, i) => [n, (coverageTotal(n) ?? 0) - before[i]]));
}

/** A datapath whose flow for frames to MAC ..:07 runs `actions`. */
function setup(actions: OdpAction[]) {
  const dp = DpifNetdev.create("dummy", { extract: flowExtract, flowCapacity: 64 });
  const p1 = new DummyNetdev("p1");
  dp.portAdd(p1);
  dp.portAdd(new DummyNetdev("p2"));
  dp.portAdd(new DummyNetdev("p3"));
  const frame = udpFrame(5, 7, 1000, 80);
  const key = new Uint32Array(FLOW_WORDS);
  flowExtract(frame, frame.length, 1, key);
  const mask = new Uint32Array(FLOW_WORDS);
  exactField(new Uint8Array(mask.buffer), F.in_port);
  exactField(new Uint8Array(mask.buffer), F.dl_dst);
  assert.equal(dp.flowPut({ flags: PUT_CREATE, key, mask, actions }).error, 0);
  return { dp, p1, frame };
}

Deno.test("a dummy port receives one packet per rx call, each sent once per output port", () => {
  const out2and3: OdpAction[] = [{ type: "output", port: 2 }, { type: "output", port: 3 }];
  const { dp, p1, frame } = setup(out2and3);
  assert.deepEqual(
    delta(() => p1.receive([frame, frame, frame])),
    { netdev_received: 3, netdev_sent: 6, drop_action_of_pipeline: 0, flow_extract: 0 },
  );
  assert.deepEqual(
    delta(() => p1.receive([frame])),
    { netdev_received: 1, netdev_sent: 2, drop_action_of_pipeline: 0, flow_extract: 0 },
  );
  dp.destroy();
});

Deno.test("each packet a client executes is a batch of its own: one send per port it leaves by", () => {
  const { dp, frame } = setup([]);
  const out2twice: OdpAction[] = [{ type: "output", port: 2 }, { type: "output", port: 2 }];
  assert.deepEqual(
    delta(() => {
      dp.execute(frame, 1, out2twice);
      dp.execute(frame, 1, out2twice);
    }),
    { netdev_received: 0, netdev_sent: 2, drop_action_of_pipeline: 0, flow_extract: 0 },
  );
  dp.destroy();
});

Deno.test("packets hitting a flow with no actions count as dropped by the pipeline, one each", () => {
  const { dp, p1, frame } = setup([]);
  assert.deepEqual(
    delta(() => p1.receive([frame, frame])),
    { netdev_received: 2, netdev_sent: 0, drop_action_of_pipeline: 2, flow_extract: 0 },
  );
  dp.destroy();
});

Deno.test("a packet reaching a userspace action is flow_extract'ed for its upcall", () => {
  const { dp, p1, frame } = setup([{ type: "userspace", pid: 0 }]);
  dp.recvSet(true);
  assert.deepEqual(
    delta(() => p1.receive([frame, frame])),
    { netdev_received: 2, netdev_sent: 0, drop_action_of_pipeline: 0, flow_extract: 2 },
  );
  dp.destroy();
});

Deno.test("output to a port the datapath does not have drops the packet as datapath_drop_invalid_port", () => {
  const { dp, p1, frame } = setup([{ type: "output", port: 9 }]);
  const before = coverageTotal("datapath_drop_invalid_port") ?? 0;
  p1.receive([frame, frame]);
  assert.equal((coverageTotal("datapath_drop_invalid_port") ?? 0) - before, 2);
  dp.destroy();
});

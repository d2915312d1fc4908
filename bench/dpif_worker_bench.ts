/**
 * Forwarding rate of a real PMD worker fed by this thread: 64-byte frames
 * over 1000 EMC-resident flows, counted by the datapath's hit counter over
 * two seconds of wall time. On a 2-core machine the feeder and the PMD
 * each take a core.
 */
import { exactField, F, FLOW_WORDS, flowExtract } from "../src/flow/mod.ts";
import { DummyNetdev } from "../src/netdev/mod.ts";
import { DpifNetdev, type DpifOp, PUT_CREATE } from "../src/dpif/mod.ts";
import { udpFrames } from "./_frames.ts";

const FLOWS = 1000;
const dp = DpifNetdev.create("dummy", { flowCapacity: 4096 });
await dp.ready();
dp.setEmcInsertInvProb(1);
const p1 = new DummyNetdev("p1");
dp.portAdd(p1);
dp.portAdd(new DummyNetdev("p2"));
const frames = udpFrames(FLOWS);
const mask = new Uint32Array(FLOW_WORDS);
exactField(new Uint8Array(mask.buffer), F.in_port);
exactField(new Uint8Array(mask.buffer), F.dl_src);
dp.operate(frames.map((f): DpifOp => {
  const key = new Uint32Array(FLOW_WORDS);
  flowExtract(f, f.length, 1, key);
  return { type: "put", flags: PUT_CREATE, key, mask, actions: [{ type: "output", port: 2 }] };
}));
let i = 0;
const feed = (ms: number) => {
  const end = performance.now() + ms;
  while (performance.now() < end) {
    for (let j = 0; j < 256; j++) if (p1.enqueueRx(frames[i % FLOWS])) i++;
    p1.flushRx();
  }
};
feed(300);
const h0 = dp.getStats().hit, t0 = performance.now();
feed(2000);
const h1 = dp.getStats().hit, t1 = performance.now();
console.log(
  `dpif_worker: PMD worker, 64B, ${FLOWS} flows, EMC hits: ${
    ((h1 - h0) / ((t1 - t0) / 1000) / 1e6).toFixed(2)
  } Mpps`,
);
dp.destroy();

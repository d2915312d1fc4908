/**
 * Memory per datapath flow, ukey included: the shared memory a flow slot
 * costs in the datapath's flow table and in the ukey table, plus the heap
 * a revalidator keeps per flow (its xlate cache entry), measured over
 * 100k flows adopted and revalidated in-process. Named figure:
 * `bytes_per_flow`, the total.
 */
import { exactField, F, FLOW_WORDS, flowExtract } from "../src/flow/mod.ts";
import { DpifNetdev, type DpifOp, PUT_CREATE } from "../src/dpif/mod.ts";
import { Barrier } from "../src/lib/barrier.ts";
import { DummyNetdev } from "../src/netdev/mod.ts";
import { DpifBinding, RevalidatorThread, UdpifShared, UkeyTable } from "../src/upcall/mod.ts";
import { RuleXlate, tcpFrame } from "../tests/support/upcall/test_support.ts";

const N = 100_000;
// The heap figure needs a collector we can trigger: re-run with it exposed.
if (!(globalThis as { gc?: () => void }).gc) {
  const self = new URL(import.meta.url).pathname;
  const { code } = await new Deno.Command(Deno.execPath(), {
    args: ["run", "-A", "--v8-flags=--expose-gc", self],
    stdout: "inherit",
    stderr: "inherit",
  }).output();
  Deno.exit(code);
}
const dp = DpifNetdev.create("dummy", { flowCapacity: N, extract: flowExtract });
dp.portAdd(new DummyNetdev("p1"));
dp.portAdd(new DummyNetdev("p2"));
const mask = new Uint32Array(FLOW_WORDS);
for (const s of [F.in_port, F.nw_src, F.tp_src]) exactField(new Uint8Array(mask.buffer), s);
const ops: DpifOp[] = [];
for (let i = 0; i < N; i++) {
  const key = new Uint32Array(FLOW_WORDS);
  const f = tcpFrame(1 + (i >> 15), 2, 1 + (i & 32767), 80);
  flowExtract(f, f.length, 1, key);
  ops.push({ type: "put", flags: PUT_CREATE, key, mask, actions: [{ type: "output", port: 2 }] });
  if (ops.length === 64 || i === N - 1) dp.operate(ops.splice(0));
}
const xlate = new RuleXlate();
xlate.add(100, { tp_src: 9999 }, []);
xlate.add(99, { nw_src: 0 }, [{ type: "output", port: 2 }]);
const shared = UdpifShared.create();
shared.nRevalidators = 1;
shared.flowLimit = 1_000_000;
const ukeys = UkeyTable.create(N);
const ctx = { shared, ukeys, dpif: new DpifBinding(dp, new SharedArrayBuffer(8)), xlate };
const reval = new RevalidatorThread(ctx, 0, Barrier.create(1), Barrier.create(1));
const gc = (globalThis as unknown as { gc: () => void }).gc;
gc();
const heap0 = Deno.memoryUsage().heapUsed;
await reval.cycle();
// Translations hand out the rule itself as the cache, so only the store's entries count.
gc();
const heap = (Deno.memoryUsage().heapUsed - heap0) / N;
if (ukeys.count() !== N) throw new Error(`${ukeys.count()} ukeys for ${N} flows`);
const dpBytes = dp.shared.pmds[0].table.sab.byteLength / N;
const ukeyBytes = ukeys.buffer.byteLength / N;
console.log(
  `upcall_memory: ${N / 1000}k flows, bytes per flow: datapath slot ${dpBytes.toFixed(0)}, ` +
    `ukey ${ukeyBytes.toFixed(0)}, revalidator heap ${heap.toFixed(0)}; ` +
    `total ${(dpBytes + ukeyBytes + heap).toFixed(0)}`,
);
console.log(`bytes_per_flow: ${(dpBytes + ukeyBytes + heap).toFixed(0)}`);
dp.destroy();

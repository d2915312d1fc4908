/**
 * Time to revalidate N datapath flows with 1 and 2 revalidator workers:
 * a stats-only pass (no OpenFlow change) and a full re-translation (after
 * a rule change that leaves the flows' actions as they are), as the
 * leader measures a dump (dump duration, ms). The flows are put straight
 * into the datapath and adopted as ukeys by the first dump.
 */
import { exactField, F, FLOW_WORDS, flowExtract } from "../src/flow/mod.ts";
import { DpifNetdev, type DpifOp, PUT_CREATE } from "../src/dpif/mod.ts";
import { clockWarp } from "../src/lib/clock.ts";
import { DummyNetdev } from "../src/netdev/mod.ts";
import { setFlowLimit, Udpif } from "../src/upcall/mod.ts";
import { RuleXlate, tcpFrame } from "../tests/support/upcall/test_support.ts";

async function run(n: number, revalidators: number): Promise<[number, number]> {
  const dp = DpifNetdev.create("dummy", {
    flowCapacity: Math.max(n + 1024, 4096),
    extractModule: new URL("../src/flow/mod.ts", import.meta.url).href,
  });
  await dp.ready();
  dp.portAdd(new DummyNetdev("p1"));
  dp.portAdd(new DummyNetdev("p2"));
  const mask = new Uint32Array(FLOW_WORDS);
  for (const s of [F.in_port, F.nw_src, F.tp_src, F.tp_dst]) {
    exactField(new Uint8Array(mask.buffer), s);
  }
  const ops: DpifOp[] = [];
  for (let i = 0; i < n; i++) {
    const key = new Uint32Array(FLOW_WORDS);
    const f = tcpFrame(1 + (i >> 15), 2, 1 + (i & 32767), 80);
    flowExtract(f, f.length, 1, key);
    ops.push({ type: "put", flags: PUT_CREATE, key, mask, actions: [{ type: "output", port: 2 }] });
    if (ops.length === 64 || i === n - 1) dp.operate(ops.splice(0));
  }
  const xlate = new RuleXlate();
  xlate.add(100, { tp_src: 9999 }, []);
  xlate.add(99, { nw_src: 0 }, []);
  xlate.add(10, { tp_dst: 80 }, [{ type: "output", port: 2 }]);
  const udpif = new Udpif({
    dp,
    xlateModule: new URL("../tests/support/upcall/test_support.ts", import.meta.url).href,
    xlateInit: xlate.init(),
    mainXlate: xlate,
  });
  // Cycles only when asked: a warp of one period (stats only) or a new
  // reval_seq (full); flows stay far from max-idle.
  // The dynamic limit goes up before the first dump, which would otherwise
  // find more than twice 10000 flows and delete them all.
  setFlowLimit([udpif], "1000000");
  await udpif.configure({
    flowLimit: 1_000_000,
    maxIdle: 1e9,
    maxRevalidator: 1e6,
    nHandlerThreads: 1,
    nRevalidatorThreads: revalidators,
  });
  const cycle = async (full: boolean) => {
    await udpif.shared.waitLeaderAsleep();
    const done = udpif.waitDump();
    if (full) {
      const rules = structuredClone(xlate.rules);
      rules.push({ priority: 50, match: { tp_dst: 22 }, actions: [], id: rules.length });
      udpif.postXlateUpdate(rules);
      udpif.revalidate();
    } else {
      clockWarp(1e6);
    }
    await done;
    return udpif.shared.dumpDuration;
  };
  await cycle(false);
  if (udpif.ukeys.count() !== n) throw new Error(`adopted ${udpif.ukeys.count()} of ${n}`);
  const stats = Math.min(await cycle(false), await cycle(false));
  const full = Math.min(await cycle(true), await cycle(true));
  if (dp.getStats().flows !== n) throw new Error(`${dp.getStats().flows} flows left of ${n}`);
  await udpif.destroy();
  dp.destroy();
  return [stats, full];
}

const parts: string[] = [];
for (const n of [10_000, 100_000, 200_000]) {
  for (const r of [1, 2]) {
    const [stats, full] = await run(n, r);
    parts.push(`${n / 1000}k/${r}r stats ${stats} ms full ${full} ms`);
  }
}
console.log(`upcall_revalidate: ${parts.join(", ")}`);

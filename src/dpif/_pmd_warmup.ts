/**
 * The PMD's start-up warm-up: before a PMD worker announces that it runs,
 * it pushes synthetic traffic through a scratch in-process datapath of
 * its own (its own buffers, flow table, EMC, SMC and dpcls, the same
 * `Pmd`, `FlowOps` and `DatapathFlowCache` classes as the real PMD), so
 * that V8 has compiled and optimized the flow setup path (poll, lookup,
 * miss upcall, the command ring's put and execute, create, subtable
 * growth, the EMC insert and hits) before the first real packet arrives.
 * OVS's C has no such step: it is there because a JIT compiles a path
 * only after it has run for a while, and a fresh daemon's first thousands
 * of flows would otherwise pay for that compilation (bench/README.md,
 * "Where the cold pass goes").
 *
 * It must never touch anything a user can see: it runs before the worker
 * attaches the daemon's coverage and log buffers (pmd_worker.ts drops the
 * counts it made), its datapath shares no buffer with the real one and is
 * destroyed before the worker starts polling, and it opens no device.
 */
import { exactField, F, FLOW_WORDS } from "../flow/mod.ts";
import { DummyNetdev } from "../netdev/mod.ts";
import { DpifNetdev } from "./dpif_netdev.ts";
import type { FlowExtractFn } from "./pmd.ts";
import { PUT_CREATE } from "./protocol.ts";
import type { DpifOp } from "./provider.ts";
import { DpifUpcall } from "./upcall.ts";

/**
 * Distinct flows set up per warm-up. V8 gives a function to Maglev after
 * a few hundred calls and to TurboFan after some thousands of loop
 * iterations; PMD_WARMUP_FLOWS was chosen on dpif_vs_ovs_bench's cold
 * pass against the start-up time it costs (bench/README.md).
 */
export const PMD_WARMUP_FLOWS = 2048;
/** Packets per burst, as a handler batch: upcalls, then their put+execute. */
const BURST = 64;
/** Masks the flows are spread over, so subtables are made and searched. */
const N_MASKS = 4;

const MASK_FIELDS = [
  [F.dl_dst],
  [F.dl_src, F.dl_dst],
  [F.dl_dst, F.nw_src],
  [F.dl_dst, F.nw_src, F.nw_dst, F.tp_dst],
] as const;

function megaflowMasks(): Uint32Array[] {
  return MASK_FIELDS.map((fields) => {
    const m = new Uint32Array(FLOW_WORDS);
    const b = new Uint8Array(m.buffer);
    for (const f of [F.recirc_id, F.in_port, F.packet_type, F.dl_type, ...fields]) {
      exactField(b, f);
    }
    return m;
  });
}

/** A 60-byte Ethernet/IPv4/UDP frame whose addresses and port depend on `n`. */
function syntheticFrame(n: number): Uint8Array {
  const f = new Uint8Array(60);
  f.set([0x02, 0, 0, (n >>> 16) & 0xff, (n >>> 8) & 0xff, n & 0xff], 0);
  f.set([0x02, 0xff, 0, 0, 0, n & 3], 6);
  f.set([0x08, 0x00, 0x45, 0, 0, 46, 0, 0, 0x40, 0, 64, 17, 0, 0], 12);
  f.set([10, 0, (n >>> 8) & 0xff, n & 0xff, 10, 1, 0, 1], 26);
  f.set([0x30, 0x39, 0, 80 + (n & 7), 0, 26, 0, 0], 34);
  return f;
}

/**
 * Sets up `flows` flows on a scratch datapath through `extract`, as a
 * fresh PMD would (miss, upcall, put, execute, then hits), and destroys
 * it. Returns how many packets hit installed flows (all of the second
 * pass's, when the path works).
 */
export function warmUpPmdSetupPath(extract: FlowExtractFn, flows = PMD_WARMUP_FLOWS): number {
  const dp = DpifNetdev.create("dummy", {
    extract,
    flowCapacity: Math.max(1024, flows * 2),
    maskCapacity: 16,
    upcallQueueWords: 1 << 16,
    ringWords: { port: 1 << 12, cmd: 1 << 13 },
  });
  try {
    const inPort = new DummyNetdev("warmup-in");
    dp.portAdd(inPort);
    const outPort = new DummyNetdev("warmup-out");
    dp.portAdd(outPort);
    const output = [{ type: "output" as const, port: dp.portList().at(-1)!.portNo }];
    const masks = megaflowMasks();
    const up = new DpifUpcall();
    let nPuts = 0;
    const frames: Uint8Array[] = [];
    for (let n = 0; n < flows; n++) frames.push(syntheticFrame(n));
    for (let at = 0; at < flows; at += BURST) {
      inPort.receive(frames.slice(at, at + BURST));
      dp.run();
      const ops: DpifOp[] = [];
      while (dp.recv(0, up)) {
        ops.push({
          type: "put",
          flags: PUT_CREATE,
          key: up.key.slice(),
          mask: masks[nPuts++ % N_MASKS],
          actions: output,
          ufid: up.ufid.slice(),
          pmd: up.pmd,
        }, {
          type: "execute",
          packet: up.packet.slice(0, up.packetLen),
          inPort: up.inPort,
          actions: output,
          md: up.key.slice(),
          pmd: up.pmd,
        });
      }
      if (ops.length) dp.operate(ops);
      outPort.pollTx();
    }
    const before = dp.getStats().hit;
    for (let at = 0; at < flows; at += BURST) {
      inPort.receive(frames.slice(at, at + BURST));
      dp.run();
      outPort.pollTx();
    }
    return dp.getStats().hit - before;
  } finally {
    dp.destroy();
  }
}

/**
 * The userspace connection tracker in one in-process PMD, 64-byte UDP
 * frames: connections set up per CPU-second (`ct_setups_per_s`: each
 * frame a new 5-tuple through `ct(commit),recirc(0x1)` then the
 * recirc_id(0x1) flow), established packets through the same two passes
 * (`ct_est_mpps`, 1000 connections), and the same frames forwarded by a
 * plain output flow (`noct_mpps`), all per CPU-second of the PMD thread
 * as dpif_forward_bench.ts measures.
 */
import {
  exactField,
  F,
  FLOW_WORDS,
  flowExtract,
  newCtAction,
  type OdpAction,
} from "../src/flow/mod.ts";
import { DummyNetdev } from "../src/netdev/mod.ts";
import { DpifNetdev, PUT_CREATE } from "../src/dpif/mod.ts";
import { csum } from "../src/packet/mod.ts";
import { ConnTable } from "../src/conntrack/mod.ts";
import { threadCpuMs } from "./_thread_cpu.ts";

function frame(i: number): Uint8Array {
  const f = new Uint8Array(64);
  f.set([0x50, 0x54, 0, 0, 0, 1, 0x50, 0x54, 0, 0, 0, 2, 0x08, 0x00], 0);
  // IPv4: 10.(i>>16).(i>>8).i -> 10.255.0.1, UDP (checksum 0: none), 30 bytes of it.
  f.set(
    [0x45, 0, 0, 50, 0, 1, 0, 0, 64, 17, 0, 0, 10, (i >> 16) & 255, (i >> 8) & 255, i & 255],
    14,
  );
  f.set([10, 255, 0, 1], 30);
  const c = csum(f, 14, 20);
  f[24] = c >> 8;
  f[25] = c & 255;
  f.set([(i >> 8) & 255, i & 255, 0, 53, 0, 30, 0, 0], 34);
  return f;
}

function mask(...fields: (keyof typeof F)[]): Uint32Array {
  const m = new Uint32Array(FLOW_WORDS);
  for (const f of fields) exactField(new Uint8Array(m.buffer), F[f]);
  return m;
}

function keyOf(f: Uint8Array, recircId = 0): Uint32Array {
  const key = new Uint32Array(FLOW_WORDS);
  flowExtract(f, f.length, 1, key);
  new DataView(key.buffer).setUint32(F.recirc_id.off, recircId);
  return key;
}

/** Frames per CPU-ms for `frames` sent `rounds` times, after `warm` untimed rounds. */
function run(
  withCt: boolean,
  frames: Uint8Array[],
  rounds: number,
  warm: number,
): { rate: number; conns: number } {
  const dp = DpifNetdev.create("dummy", { extract: flowExtract, flowCapacity: 4096 });
  const p1 = new DummyNetdev("p1");
  dp.portAdd(p1);
  dp.portAdd(new DummyNetdev("p2"));
  dp.setEmcInsertInvProb(1);
  const first: OdpAction[] = withCt
    ? [{ ...newCtAction(), commit: true }, { type: "recirc", id: 1 }]
    : [{ type: "output", port: 2 }];
  dp.operate([
    {
      type: "put",
      flags: PUT_CREATE,
      key: keyOf(frames[0]),
      mask: mask("in_port", "dl_type", "recirc_id"),
      actions: first,
    },
    {
      type: "put",
      flags: PUT_CREATE,
      key: keyOf(frames[0], 1),
      mask: mask("in_port", "dl_type", "recirc_id"),
      actions: [{ type: "output", port: 2 }],
    },
  ]);
  const BATCH = 1000;
  let next = 0;
  const fill = () => {
    for (let j = 0; j < BATCH; j++) p1.enqueueRx(frames[next++ % frames.length]);
    p1.publishRx();
  };
  for (let k = 0; k < warm; k++) fill(), dp.run();
  let cpu = 0;
  for (let k = 0; k < rounds; k++) {
    fill();
    const c0 = threadCpuMs();
    dp.run();
    cpu += threadCpuMs() - c0;
  }
  const s = dp.getStats();
  if (s.missed + s.lost > 0) throw new Error(`unexpected misses ${s.missed}/${s.lost}`);
  const conns = connCount(dp);
  dp.destroy();
  return { rate: (rounds * BATCH) / cpu, conns };
}

function connCount(dp: DpifNetdev): number {
  return new ConnTable(dp.shared.buffers.conntrack).nConns;
}

const SETUPS = 60_000;
const setupFrames = Array.from({ length: SETUPS }, (_, i) => frame(i));
const setup = run(true, setupFrames, SETUPS / 1000, 0);
if (setup.conns !== SETUPS) {
  throw new Error(`${setup.conns} connections for ${SETUPS} new 5-tuples`);
}
const estFrames = setupFrames.slice(0, 1000);
const est = run(true, estFrames, 1500, 100);
const noct = run(false, estFrames, 1500, 100);
console.log(
  `conntrack: 64B UDP, 1 PMD, per CPU-second: ${
    (setup.rate * 1e3).toFixed(0)
  } connection setups, ` +
    `${(est.rate / 1e3).toFixed(2)} Mpps established through ct(commit)+recirc, ` +
    `${(noct.rate / 1e3).toFixed(2)} Mpps without ct`,
);
console.log(`ct_setups_per_s: ${(setup.rate * 1e3).toFixed(0)}`);
console.log(`ct_est_mpps: ${(est.rate / 1e3).toFixed(2)}`);
console.log(`noct_mpps: ${(noct.rate / 1e3).toFixed(2)}`);

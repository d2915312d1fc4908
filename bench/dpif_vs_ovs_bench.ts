/**
 * Side by side with the real OVS: the same 10,000 distinct-flow frames
 * (ovs_inject.py stream) pushed through a pstream port of each, a miss
 * pass (every frame an upcall and a new megaflow) then a hit pass.
 * Reports udpif's time / OVS's time for each pass.
 *
 * udpif, two ways: (1) the whole daemon (`bin/udpif start` with the
 * oracle's flow table, handler and revalidator workers, xlate), timed
 * like measure.sh but with the miss pass ending when all N flows are
 * installed (udpif's upcalls are asynchronous, so lookups are counted
 * before the flows exist); (2) the datapath alone, its upcalls served by
 * a handler loop in this process that translates the oracle's two rules
 * to `eth(dst=X)` megaflows: the datapath's share of the cost.
 * OVS side: the oracle's run-perf.sh stream1 on a fresh ovs-vswitchd.
 * Named figure: `vs_ovs_miss_ratio`, the daemon's miss pass over OVS's.
 */
import { exactField, F, FLOW_WORDS } from "../src/flow/mod.ts";
import { DummyNetdev, DummyStream } from "../src/netdev/mod.ts";
import { DpifNetdev, type DpifOp, DpifUpcall, PUT_CREATE } from "../src/dpif/mod.ts";

const N = 10_000;
const PERF = "/work/shared/oracle/perf";

const mask = new Uint32Array(FLOW_WORDS);
for (const f of [F.recirc_id, F.in_port, F.packet_type, F.dl_dst, F.dl_type]) {
  exactField(new Uint8Array(mask.buffer), f);
}
const NORMAL_DST = [0x50, 0x54, 0, 0, 0, 7];

function translate(up: DpifUpcall): DpifOp[] {
  const k = new Uint8Array(up.key.buffer);
  let hit = true;
  for (let i = 0; i < 6; i++) if (k[F.dl_dst.off + i] !== NORMAL_DST[i]) hit = false;
  const actions = [{ type: "output" as const, port: hit ? 2 : 3 }];
  return [
    { type: "put", flags: PUT_CREATE, key: up.key.slice(), mask, actions, ufid: up.ufid.slice() },
    { type: "execute", packet: up.packet.slice(0, up.packetLen), inPort: up.inPort, actions },
  ];
}

async function udpifPasses(): Promise<number[]> {
  const dir = Deno.makeTempDirSync();
  // A queue deep enough for the whole burst: OVS handles these upcalls
  // synchronously, so it never drops one either.
  const dp = DpifNetdev.create("dummy", { flowCapacity: 65536, upcallQueueWords: 1 << 21 });
  await dp.ready();
  const p1 = new DummyNetdev("p1");
  dp.portAdd(p1);
  dp.portAdd(new DummyNetdev("p2"));
  dp.portAdd(new DummyNetdev("p3"));
  const stream = new DummyStream(p1);
  await stream.listen(`${dir}/p1.sock`);
  let running = true;
  const handler = (async () => {
    const up = new DpifUpcall();
    while (running) {
      const ops: DpifOp[] = [];
      while (ops.length < 128 && dp.recv(0, up)) ops.push(...translate(up));
      if (ops.length) {
        dp.operate(ops);
        continue;
      }
      const w = dp.recvWaitWord(0);
      const r = Atomics.waitAsync(w.array, w.index, w.value, 100);
      if (r.async) await r.value;
    }
  })();
  const times: number[] = [];
  for (let pass = 0; pass < 2; pass++) {
    const s0 = dp.getStats();
    const base = s0.hit + s0.missed + s0.lost;
    const inj = new Deno.Command("/usr/bin/python3", {
      args: [`${PERF}/ovs_inject.py`, "stream", "--sock", `${dir}/p1.sock`, String(N)],
      stderr: "piped",
      stdout: "null",
    }).spawn();
    const out = await inj.output();
    const t0 = Number(/t_start=([0-9.]+)/.exec(new TextDecoder().decode(out.stderr))![1]) * 1000;
    for (;;) {
      const s = dp.getStats();
      if (s.hit + s.missed + s.lost - base >= N) break;
      await new Promise((r) => setTimeout(r, 1));
    }
    times.push((Date.now() - t0) / 1000);
  }
  running = false;
  await handler;
  const s = dp.getStats();
  stream.close();
  dp.destroy();
  Deno.removeSync(dir, { recursive: true });
  if (s.lost) console.error(`udpif lost ${s.lost} upcalls`);
  return times;
}

const py = (args: string[]) =>
  new Deno.Command("/usr/bin/python3", {
    args: [`${PERF}/ovs_inject.py`, ...args],
    stderr: "piped",
    stdout: "null",
  })
    .output();

/** Seconds from the injector's start until `waitArgs` (wait-flows/wait-lookups) is satisfied. */
async function timedPass(sock: string, ctl: string, waitArgs: string[]): Promise<number> {
  const inj = await py(["stream", "--sock", sock, String(N)]);
  const t0 = Number(/t_start=([0-9.]+)/.exec(new TextDecoder().decode(inj.stderr))![1]) * 1000;
  const w = await py([
    ...waitArgs.slice(0, 1),
    "--ctl",
    ctl,
    "--timeout",
    "60",
    ...waitArgs.slice(1),
  ]);
  if (w.code !== 0) throw new Error(`${waitArgs[0]} failed`);
  return (Date.now() - t0) / 1000;
}

async function daemonPasses(): Promise<number[]> {
  const dir = Deno.makeTempDirSync();
  const udpif = new URL("../bin/udpif", import.meta.url).pathname;
  const ctl = `${dir}/udpif.ctl`, sock = `${dir}/p1.sock`;
  const start = await new Deno.Command(udpif, {
    args: [
      "start",
      "--detach",
      "--unixctl",
      ctl,
      "--pidfile",
      `${dir}/udpif.pid`,
      "--log-file",
      `${dir}/udpif.log`,
      "--datapath-type",
      "dummy",
      "--port",
      `p1,pstream=punix:${sock}`,
      "--port",
      "p2",
      "--port",
      "p3",
      "--flows",
      `${PERF}/flows.txt`,
      "--other-config",
      "max-idle=600000",
    ],
    env: { UDPIF_RUNDIR: dir },
  }).output();
  if (start.code !== 0) throw new Error(new TextDecoder().decode(start.stderr));
  try {
    const miss = await timedPass(sock, ctl, ["wait-flows", String(N)]);
    const hit = await timedPass(sock, ctl, ["wait-lookups", String(2 * N)]);
    return [miss, hit];
  } finally {
    await new Deno.Command(udpif, { args: ["appctl", "-t", ctl, "exit"] }).output();
    Deno.removeSync(dir, { recursive: true });
  }
}

async function ovsPasses(): Promise<number[] | null> {
  try {
    const out = await new Deno.Command("bash", {
      args: [`${PERF}/run-perf.sh`, "stream1", String(N)],
      stdout: "piped",
      stderr: "piped",
    }).output();
    const text = new TextDecoder().decode(out.stdout);
    const t = [
      ...text.matchAll(/(miss|hit) pass: .*processed \d+\/\d+ packets after ([0-9.]+) s/g),
    ];
    return t.length === 2 ? t.map((m) => Number(m[2])) : null;
  } catch {
    return null;
  }
}

const d = await daemonPasses();
const u = await udpifPasses();
const o = await ovsPasses();
const f = (x: number) => x.toFixed(3);
const ratio = (
  x: number[],
) => (o ? ` (udpif/OVS miss ${f(x[0] / o[0])}, hit ${f(x[1] / o[1])})` : "");
console.log(
  `dpif_vs_ovs: ${N} distinct-flow frames over a pstream port: udpif daemon miss ${f(d[0])} s, ` +
    `hit ${f(d[1])} s${ratio(d)}; datapath alone miss ${f(u[0])} s, hit ${f(u[1])} s${ratio(u)}; ` +
    (o ? `OVS miss ${f(o[0])} s, hit ${f(o[1])} s` : "OVS oracle not available"),
);
console.log(`vs_ovs_miss_ratio: ${o ? f(d[0] / o[0]) : "n/a (OVS oracle not available)"}`);

/**
 * Side by side with the real OVS: the same 10,000 distinct-flow frames
 * (ovs_inject.py stream) pushed through a pstream port of each, a miss
 * pass (every frame an upcall and a new megaflow) then a hit pass.
 * Reports udpif's time / OVS's time for each pass.
 *
 * udpif, two ways: (1) the whole daemon (`bin/udpif start` with the
 * oracle's flow table, handler and revalidator workers, xlate); (2) the
 * datapath alone, its upcalls served by a handler loop in this process
 * that translates the oracle's two rules to `eth(dst=X)` megaflows: the
 * datapath's share of the cost.
 * The daemon and OVS (a fresh ovs-vswitchd from the oracle's
 * ovs-oracle.sh, configured as run-perf.sh stream1 does) are timed by the
 * same code, _switch_passes.ts: from the injector's first frame until the
 * switch's `dpctl/show`, polled over one unixctl connection kept open,
 * has N more flows (cold and miss passes) or N more lookups (hit pass).
 * The cold pass, the first N flows into a switch just started, is what
 * the bench measured when issue 14 set its goal, so it stays the named
 * figure; udpif's JIT compiles its handlers during it (setups3 found
 * 65 536 flows before the setup path is compiled), and both switches
 * fault in their memory. The miss pass after it, N other new flows into
 * the warm switch, is printed beside it.
 * Named figures: `vs_ovs_miss_ratio`, the daemon's cold pass over OVS's;
 * `vs_ovs_warm_miss_ratio`, the same of the warm miss passes.
 */
import { exactField, F, FLOW_WORDS } from "../src/flow/mod.ts";
import { DummyNetdev, DummyStream } from "../src/netdev/mod.ts";
import { DpifNetdev, type DpifOp, DpifUpcall, PUT_CREATE } from "../src/dpif/mod.ts";
import { type Passes, switchPasses } from "./_switch_passes.ts";

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

async function daemonPasses(): Promise<Passes> {
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
    return await switchPasses(ctl, sock, N);
  } finally {
    await new Deno.Command(udpif, { args: ["appctl", "-t", ctl, "exit"] }).output();
    Deno.removeSync(dir, { recursive: true });
  }
}

/**
 * OVS's passes, timed by _switch_passes.ts inside a fresh ovs-vswitchd
 * (the oracle's ovs-oracle.sh, set up as run-perf.sh/measure.sh set it:
 * max-idle 600 s, p1 a pstream port; _switch_passes.ts sets the flow limit).
 */
async function ovsPasses(): Promise<Passes | null> {
  const pk = Deno.makeTempFileSync({ prefix: "vs-ovs-pk" });
  try {
    const passes = new URL("./_switch_passes.ts", import.meta.url).pathname;
    Deno.writeTextFileSync(
      pk,
      "! ovs-vsctl set Interface p1 options:pstream=punix:$OVS_RUNDIR/p1.sock && " +
        "for i in $(seq 50); do [ -S $OVS_RUNDIR/p1.sock ] && break; sleep 0.1; done && " +
        `${Deno.execPath()} run -A --no-check ${passes} ` +
        `$OVS_RUNDIR/ovs-vswitchd.$(cat $OVS_RUNDIR/ovs-vswitchd.pid).ctl $OVS_RUNDIR/p1.sock ${N}\n`,
    );
    const out = await new Deno.Command("bash", {
      args: [
        `${PERF}/../ovs-oracle.sh`,
        "--raw",
        "--no-final",
        "--no-coverage",
        "--waits",
        "0",
        "--vsctl",
        "set Open_vSwitch . other_config:max-idle=600000",
        `${PERF}/flows.txt`,
        pk,
      ],
      stdout: "piped",
      stderr: "piped",
    }).output();
    const m = /passes: cold ([0-9.]+) miss ([0-9.]+) hit ([0-9.]+) dump ([0-9.]+)/.exec(
      new TextDecoder().decode(out.stdout),
    );
    return m
      ? { cold: Number(m[1]), miss: Number(m[2]), hit: Number(m[3]), dump: Number(m[4]) }
      : null;
  } catch {
    return null;
  } finally {
    Deno.removeSync(pk);
  }
}

const d = await daemonPasses();
const u = await udpifPasses();
const o = await ovsPasses();
const f = (x: number) => x.toFixed(3);
const of = (udpif: number, ovs: number | undefined) => ovs ? ` (${f(udpif / ovs)} of OVS)` : "";
console.log(
  `dpif_vs_ovs: ${N} distinct-flow frames over a pstream port: udpif daemon cold ${f(d.cold)} s` +
    `${of(d.cold, o?.cold)}, miss ${f(d.miss)} s${of(d.miss, o?.miss)}, hit ${f(d.hit)} s` +
    `${of(d.hit, o?.hit)}; datapath alone (cold) miss ${f(u[0])} s${of(u[0], o?.cold)}, ` +
    `hit ${f(u[1])} s${of(u[1], o?.hit)}; ` +
    (o
      ? `OVS cold ${f(o.cold)} s, miss ${f(o.miss)} s, hit ${f(o.hit)} s`
      : "OVS oracle not available") +
    `; dpctl/dump-flows of ${2 * N} flows: udpif ${f(d.dump)} s${of(d.dump, o?.dump)}` +
    (o ? `, OVS ${f(o.dump)} s` : ""),
);
const na = "n/a (OVS oracle not available)";
console.log(`vs_ovs_miss_ratio: ${o ? f(d.cold / o.cold) : na}`);
console.log(`vs_ovs_warm_miss_ratio: ${o ? f(d.miss / o.miss) : na}`);

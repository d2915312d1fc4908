/**
 * Side by side with the real OVS on real interfaces: the topology of
 * tests/e2e/veth_test.ts (two network namespaces, veths whose other ends
 * are the switch's system ports, NORMAL) through Open vSwitch 3.1's
 * userspace datapath and through udpif. Measures iperf3 TCP throughput
 * (3 s) and ping RTT (20 echoes, 50 ms apart) for each, prints udpif/OVS
 * ratios, and udpif again with checksum offload, TSO and GSO on in the
 * hosts (OVS 3.1 fails TCP that way, so it has no such figure).
 *
 * One `NAME: VALUE` line per figure; a switch that cannot be measured gets
 * `NAME: failed (why)` and the bench exits non-zero. Without root or
 * network namespaces it prints one line saying why and exits 0.
 */
import {
  OvsSwitch,
  type SwitchUnderTest,
  UdpifSwitch,
} from "../tests/support/switch_under_test.ts";
import { spawnReady } from "../tests/support/traffic.ts";
import { ensureTestDeps, vethSkipReason, VethTopology } from "../tests/support/veth_topology.ts";

const IPERF_SECONDS = 3;
const IPERF_PORT = 5201;

interface Figures {
  gbit: number;
  rttMs: number;
}

/** Starts `iperf3 -s -1` in host 1 and resolves once it listens. */
function startIperfServer(topo: VethTopology): Promise<Deno.ChildProcess> {
  const argv = ["iperf3", "-s", "-1", "--forceflush", "-p", String(IPERF_PORT)];
  return spawnReady(topo, 1, argv, "Server listening");
}

async function measure(sw: SwitchUnderTest, topo: VethTopology): Promise<Figures> {
  await sw.start(topo.ports);
  await sw.addFlow("actions=NORMAL");
  // Learned MACs, resolved ARP and installed megaflows before timing.
  await topo.pingUntilReply(0);
  await topo.pingUntilReply(1);
  const ping = await topo.exec(0, [
    "ping",
    "-n",
    "-q",
    "-c",
    "20",
    "-i",
    "0.05",
    "-W",
    "1",
    topo.hosts[1].ip,
  ]);
  const rtt = /= [0-9.]+\/([0-9.]+)\//.exec(ping);
  if (!rtt) throw new Error(`no RTT in ping's summary: ${ping.trim()}`);
  await startIperfServer(topo);
  const out = await topo.exec(0, [
    "timeout",
    String(IPERF_SECONDS + 20),
    "iperf3",
    "-c",
    topo.hosts[1].ip,
    "-p",
    String(IPERF_PORT),
    "-t",
    String(IPERF_SECONDS),
    "-J",
  ]);
  const bps = JSON.parse(out).end?.sum_received?.bits_per_second;
  if (typeof bps !== "number") throw new Error(`no throughput in iperf3's report`);
  return { gbit: bps / 1e9, rttMs: Number(rtt[1]) };
}

/** Measures one switch on a fresh topology, which is removed whatever happens. */
async function run(
  makeSwitch: (topo: VethTopology) => SwitchUnderTest,
  offload: boolean,
): Promise<Figures | string> {
  // Both switches run in the topology's switch namespace: their netdev
  // datapaths make a br0 tap, which must not land in the host's.
  const topo = await VethTopology.create({ offload, switchNamespace: true });
  const sw = makeSwitch(topo);
  try {
    return await measure(sw, topo);
  } catch (e) {
    // A failed command's message repeats its whole command line; its own
    // words come after "exit N: ".
    const first = (e as Error).message.split("\n")[0];
    return first.replace(/^.*: exit \d+: /, "");
  } finally {
    try {
      await sw.stop();
    } finally {
      await topo.destroy();
    }
  }
}

const skip = vethSkipReason();
if (skip) {
  console.log(`veth_vs_ovs: skipped: ${skip}`);
  Deno.exit(0);
}
await ensureTestDeps();

const ovs = await run((topo) => new OvsSwitch(topo.switchNetns), false);
const udpif = await run((topo) => new UdpifSwitch(topo.switchNetns), false);
const udpifOffload = await run((topo) => new UdpifSwitch(topo.switchNetns), true);

let failed = false;
const told = new Set<string>();
/** Prints a figure, or a failure's reason the first time it comes up. */
function line(name: string, value: number | string): void {
  if (typeof value === "number") return console.log(`${name}: ${value.toFixed(3)}`);
  failed = true;
  console.log(`${name}: failed${told.has(value) ? "" : ` (${value})`}`);
  told.add(value);
}
const pick = (f: Figures | string, k: keyof Figures) => typeof f === "string" ? f : f[k];
const ratio = (a: Figures | string, b: Figures | string, k: keyof Figures) =>
  typeof a === "string" ? a : typeof b === "string" ? b : a[k] / b[k];

line("veth_tcp_gbit_ovs", pick(ovs, "gbit"));
line("veth_tcp_gbit_udpif", pick(udpif, "gbit"));
line("veth_tcp_ratio", ratio(udpif, ovs, "gbit"));
line("veth_rtt_ms_ovs", pick(ovs, "rttMs"));
line("veth_rtt_ms_udpif", pick(udpif, "rttMs"));
line("veth_rtt_ratio", ratio(udpif, ovs, "rttMs"));
line("veth_tcp_gbit_udpif_offload", pick(udpifOffload, "gbit"));
line("veth_rtt_ms_udpif_offload", pick(udpifOffload, "rttMs"));
Deno.exit(failed ? 1 : 0);

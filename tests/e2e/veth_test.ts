/**
 * udpif on real interfaces (issue 12): two network namespaces joined by
 * veths whose other ends are udpif's `type=system` ports in a switch
 * namespace, where udpif runs as a user starts it (`udpif start
 * --datapath-type netdev --port IF,type=system`), so its br0 tap stays out
 * of the host's namespace. The scenario (tests/support/veth_scenario.ts):
 * NORMAL forwarding (ping both ways, 20 MB over TCP with the same SHA-256
 * at both ends), a drop rule above NORMAL that overrides the megaflow
 * ICMP and TCP established once revalidated, its `del-flows --strict`
 * letting the port through again, and megaflows with packet counts in
 * `dpctl/dump-flows`; with the hosts' offloads off, then on.
 *
 * The same scenario against Open vSwitch 3.1 (offloads off: with them on,
 * OVS 3.1's AF_PACKET ports fail TCP) shows the scenario asks only what a
 * real switch does. Missing tools are installed by
 * scripts/install-test-deps.sh; without root or network namespaces the
 * tests are skipped with one line saying why.
 */
import { OvsSwitch, type SwitchUnderTest, UdpifSwitch } from "../support/switch_under_test.ts";
import { runVethScenario, withSwitch } from "../support/veth_scenario.ts";
import { ensureTestDeps, vethSkipReason, VethTopology } from "../support/veth_topology.ts";

const skip = vethSkipReason();
if (skip) console.log(`veth_test: skipped: ${skip}`);

async function scenario(
  makeSwitch: (topo: VethTopology) => SwitchUnderTest,
  offload: boolean,
): Promise<void> {
  await ensureTestDeps();
  const topo = await VethTopology.create({ offload, switchNamespace: true });
  const sw = makeSwitch(topo);
  await withSwitch(sw, topo, () => runVethScenario(sw, topo));
}

Deno.test({
  name: "udpif on veths: NORMAL, a drop rule above it and its strict deletion (offloads off)",
  ignore: skip !== undefined,
  fn: () => scenario((topo) => new UdpifSwitch(topo.switchNetns), false),
});

Deno.test({
  name: "udpif on veths: the same with checksum offload, TSO and GSO on in the hosts",
  ignore: skip !== undefined,
  fn: () => scenario((topo) => new UdpifSwitch(topo.switchNetns), true),
});

Deno.test({
  name: "OVS 3.1 on veths passes the same scenario (offloads off)",
  ignore: skip !== undefined,
  fn: () => scenario((topo) => new OvsSwitch(topo.switchNetns), false),
});

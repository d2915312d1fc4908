/**
 * The real-interface scenario of tests/e2e/veth_test.ts, for any switch
 * under test: two namespaces joined through the switch's two system
 * ports, NORMAL forwarding checked with ping both ways and a 20 MB TCP
 * transfer hashed at both ends, then an OpenFlow drop rule above NORMAL
 * that must override the megaflow earlier traffic established, and its
 * strict deletion that must let the port through again.
 */
import assert from "node:assert/strict";
import { type SwitchUnderTest } from "./switch_under_test.ts";
import { assertDelivered, startTcpServer, tcpSend } from "./traffic.ts";
import { type VethTopology } from "./veth_topology.ts";

/** The TCP port the drop rule blocks, and one it leaves alone. */
export const DROP_PORT = 7001;
export const OPEN_PORT = 7002;
export const DROP_MATCH = `priority=40000,tcp,tp_dst=${DROP_PORT}`;
const BIG = 20_000_000;
const SMALL = 65_536;
/** A connection through a working switch is made well within this, even on a loaded machine. */
const CONNECT_DEADLINE_MS = 20_000;
/** A connection the drop rule blocks must not be made within this (SYNs dropped, not refused). */
const BLOCKED_DEADLINE_MS = 3_000;

/** Sends `bytes` from host 0 to host 1's `port`; the server answers with its byte count and hash. */
function send(topo: VethTopology, port: number, bytes: number, deadlineMs: number) {
  return tcpSend(topo, 0, topo.hosts[1].ip, port, bytes, deadlineMs);
}

interface DpFlow {
  text: string;
  packets: number;
}

function parseDpFlows(dump: string): DpFlow[] {
  return dump.split("\n").filter((l) => l.includes("packets:")).map((text) => ({
    text,
    packets: Number(/packets:(\d+)/.exec(text)![1]),
  }));
}

/** Starts the switch on the topology's ports and runs the whole scenario. */
export async function runVethScenario(sw: SwitchUnderTest, topo: VethTopology): Promise<void> {
  await sw.start(topo.ports);
  // The bridge's local port is a tap the netdev datapath made: in the
  // switch's namespace, never in the host's, where runs would collide.
  const tap = await topo.run(topo.switchNetns!, ["ip", "link", "show", "br0"]);
  assert.equal(tap.code, 0, `no br0 tap in the switch namespace: ${tap.stderr.trim()}`);
  await sw.addFlow("actions=NORMAL");

  // (a) NORMAL: ping both ways (ICMP first, so the TCP below rides on an
  // IPv4 megaflow another protocol established), then 20 MB over TCP.
  await topo.pingUntilReply(0);
  await topo.pingUntilReply(1);
  await startTcpServer(topo, 1, [DROP_PORT, OPEN_PORT]);
  assertDelivered(await send(topo, OPEN_PORT, BIG, CONNECT_DEADLINE_MS), BIG, "20 MB transfer");
  const before = parseDpFlows(await sw.dumpDatapathFlows());
  // The megaflow that carried them matches IPv4 whatever the protocol, so
  // it would carry a TCP connection to DROP_PORT too until revalidated.
  assert.ok(
    before.some((f) =>
      f.text.includes("eth_type(0x0800),ipv4(") && !f.text.includes("tcp(") && f.packets > 0
    ),
    `no protocol-wide IPv4 megaflow with packets after ping and the transfer:\n` +
      before.map((f) => f.text).join("\n"),
  );

  // (b) A drop rule above NORMAL: once revalidated, the established
  // megaflow no longer carries new connections to DROP_PORT.
  await sw.addFlow(`${DROP_MATCH},actions=drop`);
  await sw.revalidatorWait();
  await sw.revalidatorWait();
  const blocked = await send(topo, DROP_PORT, SMALL, BLOCKED_DEADLINE_MS);
  assert.equal(blocked.code, 3, `connection to the dropped port ${DROP_PORT}: ${blocked.out}`);
  assertDelivered(
    await send(topo, OPEN_PORT, SMALL, CONNECT_DEADLINE_MS),
    SMALL,
    `port ${OPEN_PORT} while ${DROP_PORT} is dropped`,
  );
  const during = parseDpFlows(await sw.dumpDatapathFlows());
  const drops = during.filter((f) =>
    new RegExp(`tcp\\([^)]*dst=${DROP_PORT}[,)]`).test(f.text) && /actions:drop$/.test(f.text)
  );
  assert.ok(
    drops.some((f) => f.packets > 0),
    `no drop megaflow for tcp dst=${DROP_PORT} with packets:\n${
      during.map((f) => f.text).join("\n")
    }`,
  );
  assert.ok(
    during.some((f) => !f.text.endsWith("actions:drop") && f.packets > 0),
    `no forwarding megaflow with packets:\n${during.map((f) => f.text).join("\n")}`,
  );

  // del-flows --strict removes exactly that rule; no restart needed.
  await sw.delFlowsStrict(DROP_MATCH);
  await sw.revalidatorWait();
  await sw.revalidatorWait();
  assertDelivered(
    await send(topo, DROP_PORT, SMALL, CONNECT_DEADLINE_MS),
    SMALL,
    `port ${DROP_PORT} after del-flows --strict`,
  );
  await topo.pingUntilReply(1);
}

/** Runs the scenario, then stops the switch and removes the topology whatever happened. */
export async function withSwitch(
  sw: SwitchUnderTest,
  topo: VethTopology,
  body: () => Promise<void>,
): Promise<void> {
  try {
    await body();
  } catch (e) {
    const log = (await sw.log()).split("\n").slice(-40).join("\n");
    (e as Error).message += `\n--- ${sw.kind} log (last 40 lines) ---\n${log}`;
    throw e;
  } finally {
    try {
      await sw.stop();
    } finally {
      await topo.destroy();
    }
  }
}

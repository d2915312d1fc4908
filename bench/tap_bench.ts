/**
 * The bridge's tap local port carrying the host's TCP: the whole daemon
 * (`bin/udpif start`, netdev datapath, NORMAL) runs in a namespace of its
 * own whose tap is the host side; a veth system port leads to a peer
 * namespace. Times one TCP transfer host -> peer (peer.ts tcp-send into
 * tcp-serve, hashed at both ends) through tap -> PMD -> AF_PACKET -> veth, and a UDP
 * request/response exchange for the round trip the first packets take
 * (upcall, flow install). Needs root; prints one line either way.
 */
import { assertDelivered, startTcpServer, tcpSend, udpExchange } from "../tests/support/traffic.ts";
import { vethSkipReason, VethTopology } from "../tests/support/veth_topology.ts";
import { TestDaemon } from "../tests/cli/_run.ts";

const BYTES = 256 << 20;
const skip = vethSkipReason();
if (skip) {
  console.log(`tap_bench: skipped: ${skip}`);
  Deno.exit(0);
}
// The daemon runs in the switch namespace (the host side, with the tap);
// host 0 is the peer behind the veth system port.
const w = await VethTopology.create({ hosts: 1, switchNamespace: true, subnet: 84 });
const h = w.switchNetns!;
let d: TestDaemon | undefined;
try {
  d = await TestDaemon.start(["--bridge", w.bridge, "--port", `${w.ports[0]},type=system`], {
    netns: h,
  });
  await d.run(["ofctl", "add-flow", w.bridge, "actions=NORMAL"]);
  await w.switchAddress(w.bridge);
  const t0 = performance.now();
  await udpExchange(w, h, 0, w.hosts[0].ip, 7101);
  const firstMs = performance.now() - t0;
  await startTcpServer(w, 0, [7102]);
  const secs = assertDelivered(
    await tcpSend(w, h, w.hosts[0].ip, 7102, BYTES, 20_000),
    BYTES,
    "host -> peer transfer",
  );
  console.log(
    `tap_bench: host->ns TCP through tap+NORMAL+system port ${
      (BYTES * 8 / secs / 1e9).toFixed(2)
    } Gbit/s (${BYTES >> 20} MiB in ${secs.toFixed(2)} s); first UDP exchange ${
      firstMs.toFixed(0)
    } ms (incl. peer start-up)`,
  );
} finally {
  await d?.stop();
  await w.destroy();
}

/**
 * The bridge's tap local port carrying the host's TCP: the whole daemon
 * (`bin/udpif start`, netdev datapath, NORMAL) runs in a namespace of its
 * own whose tap is the host side; a veth system port leads to a peer
 * namespace. Times one TCP transfer host -> peer (peer.ts tcp-send into
 * tcp-sink) through tap -> PMD -> AF_PACKET -> veth, and a UDP
 * request/response exchange for the round trip the first packets take
 * (upcall, flow install). Needs root; prints one line either way.
 */
import { netnsSkipReason } from "../tests/support/netdev/netns.ts";
import { DaemonWiring } from "../tests/support/netdev/daemon_wiring.ts";
import { TestDaemon } from "../tests/cli/_run.ts";

const BYTES = 256 << 20;
const skip = netnsSkipReason();
if (skip) {
  console.log(`tap_bench: skipped: ${skip}`);
  Deno.exit(0);
}
const w = new DaemonWiring(84);
let d: TestDaemon | undefined;
try {
  await w.create();
  d = await TestDaemon.start(["--bridge", w.bridge, "--port", `${w.veth},type=system`], {
    netns: w.h,
  });
  await d.run(["ofctl", "add-flow", w.bridge, "actions=NORMAL"]);
  await w.tapUp();
  const t0 = performance.now();
  await w.udp(7101);
  const firstMs = performance.now() - t0;
  const sink = w.peer(w.p, "tcp-sink", 7102);
  const send = await w.peer(w.h, "tcp-send", 7102, [String(BYTES)]);
  const dec = new TextDecoder();
  if (!send.success || !(await sink).success) {
    throw new Error(`tcp transfer failed: ${dec.decode(send.stderr).trim()}`);
  }
  const [count, secs] = dec.decode(send.stdout).trim().split(" ").map(Number);
  if (count !== BYTES) throw new Error(`the sink got ${count} of ${BYTES} bytes`);
  console.log(
    `tap_bench: host->ns TCP through tap+NORMAL+system port ${
      (BYTES * 8 / secs / 1e9).toFixed(2)
    } Gbit/s (${BYTES >> 20} MiB in ${secs.toFixed(2)} s); first UDP exchange ${
      firstMs.toFixed(0)
    } ms (incl. peer start-up)`,
  );
} finally {
  await d?.stop();
  w.destroy();
}

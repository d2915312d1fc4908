/**
 * System ports at the datapath level: real veths in namespaces of the
 * test's own, a netdev datapath with its PMD worker, and flows put
 * directly (in_port(A) -> B, in_port(B) -> A), so frames cross the PMD's
 * sockets both ways without the upcall machinery. Needs root.
 */
import assert from "node:assert/strict";
import { exactField, F, FLOW_WORDS, flowExtract } from "../flow/mod.ts";
import {
  DummyNetdev,
  IFF_UP,
  interfaceFlags,
  interfaceMac,
  SystemNetdev,
  updateInterfaceFlags,
} from "../netdev/mod.ts";
import { DpifNetdev } from "./dpif_netdev.ts";
import { dpctlShow } from "./dpctl.ts";
import { DpifUpcall } from "./upcall.ts";
import { PUT_CREATE } from "./protocol.ts";
import { pollUntil } from "../../tests/poll.ts";
import {
  csumAdd,
  csumFinish,
  HDR_L4,
  HDR_L4_PROTO,
  IPPROTO_TCP,
  locateHeaders,
  newHeaderOffsets,
  pseudoHeaderSum,
} from "../packet/mod.ts";
import {
  mustRun,
  type TopologyOptions,
  vethSkipReason,
  VethTopology,
} from "../../tests/support/veth_topology.ts";
import {
  assertDelivered,
  rawSend,
  startTcpServer,
  tcpSend,
  udpExchange,
} from "../../tests/support/traffic.ts";

const skip = vethSkipReason();
const ignore = skip !== undefined;
if (skip) console.log(`dpif_system_test: skipped: ${skip}`);

/**
 * A datapath whose two system ports forward to each other (with
 * `flows`), or whose every frame is a miss upcall (without). With `tap`,
 * what A sends also goes to that dummy port.
 */
async function bridge(
  topo: VethTopology,
  offloads: { a?: boolean; b?: boolean } = {},
  flows = true,
  tap?: DummyNetdev,
) {
  const dp = DpifNetdev.create("netdev", { flowCapacity: 64 });
  await dp.ready();
  const a = SystemNetdev.open(topo.ports[0], { offloads: offloads.a ?? true });
  const b = SystemNetdev.open(topo.ports[1], { offloads: offloads.b ?? true });
  const pa = dp.portAdd(a), pb = dp.portAdd(b);
  const pt = tap ? dp.portAdd(tap) : -1;
  const frame = new Uint8Array(64);
  for (const [from, to] of flows ? [[pa, pb], [pb, pa]] : []) {
    const key = new Uint32Array(FLOW_WORDS);
    flowExtract(frame, frame.length, from, key);
    const mask = new Uint32Array(FLOW_WORDS);
    exactField(new Uint8Array(mask.buffer), F.in_port);
    const actions = [{ type: "output" as const, port: to }];
    if (tap && from === pa) actions.push({ type: "output", port: pt });
    dp.flowPut({ flags: PUT_CREATE, key, mask, actions });
  }
  return {
    dp,
    pa,
    pb,
    pt,
    close: () => {
      dp.destroy();
      a.close();
      b.close();
    },
  };
}

type Bridge = Awaited<ReturnType<typeof bridge>>;

/**
 * Runs `body` with a fresh topology and a `bridge` over it (made once
 * `setup` has run); both are closed and removed whatever happens.
 */
async function withBridge(
  topology: TopologyOptions,
  o: {
    offloads?: { a?: boolean; b?: boolean };
    flows?: boolean;
    tap?: DummyNetdev;
    setup?: (topo: VethTopology) => Promise<void>;
  },
  body: (topo: VethTopology, sw: Bridge) => Promise<void>,
): Promise<void> {
  const topo = await VethTopology.create(topology);
  let sw: Bridge | undefined;
  try {
    await o.setup?.(topo);
    sw = await bridge(topo, o.offloads, o.flows ?? true, o.tap);
    await body(topo, sw);
  } finally {
    sw?.close();
    await topo.destroy();
  }
}

/**
 * How many promiscuous holders the interface has (PACKET_MR_PROMISC
 * counts there; SIOCGIFFLAGS shows only IFF_PROMISC set by hand).
 */
async function promiscuity(ifname: string): Promise<number> {
  return JSON.parse(await mustRun(["ip", "-d", "-j", "link", "show", ifname]))[0].promiscuity;
}

/** A UDP exchange A -> B -> A; returns the reply A got. */
function udpRoundTrip(topo: VethTopology, port: number): Promise<string> {
  return udpExchange(topo, 0, 1, topo.hosts[1].ip, port);
}

/** A TCP transfer of `bytes` from A to B, delivered whole (same SHA-256 at both ends). */
async function tcpTransfer(topo: VethTopology, port: number, bytes: number): Promise<void> {
  await startTcpServer(topo, 1, [port]);
  const sent = await tcpSend(topo, 0, topo.hosts[1].ip, port, bytes, 20_000);
  assertDelivered(sent, bytes, `${bytes} bytes A -> B`);
}

Deno.test({
  name: "frames cross system ports both ways through the PMD, counted in the port stats",
  ignore,
  async fn() {
    await withBridge({ subnet: 81 }, {}, async (topo, sw) => {
      const reply = await udpRoundTrip(topo, 7001);
      assert.match(reply, /^hello \d+$/);
      // The request went A -> B and the reply B -> A (ARP both ways too).
      const [aRx, , aTx] = sw.dp.portStats(sw.pa);
      const [bRx, , bTx] = sw.dp.portStats(sw.pb);
      assert.ok(aRx >= 2 && bTx >= 2, `A rx ${aRx}, B tx ${bTx}`);
      assert.ok(bRx >= 2 && aTx >= 2, `B rx ${bRx}, A tx ${aTx}`);
      assert.equal(await promiscuity(topo.ports[0]), 1, "a system port is promiscuous");
      assert.match(
        dpctlShow(sw.dp, ["-s"]),
        // As OVS: no type for a system port, and the interface's own counters.
        new RegExp(`${topo.ports[1]}\n    RX packets:\\d+ errors:0 dropped:0 `),
      );
    });
  },
});

Deno.test({
  name: "the ioctl helpers read and change a veth's flags and read its MAC",
  ignore,
  async fn() {
    const topo = await VethTopology.create({ subnet: 85 });
    try {
      const host = topo.ports[0];
      const shown = JSON.parse(await mustRun(["ip", "-j", "link", "show", host]))[0].address;
      const mac = [...interfaceMac(host)].map((b) => b.toString(16).padStart(2, "0")).join(":");
      assert.equal(mac, shown);
      assert.ok(interfaceFlags(host) & IFF_UP);
      updateInterfaceFlags(host, 0, IFF_UP);
      assert.equal(interfaceFlags(host) & IFF_UP, 0);
      updateInterfaceFlags(host, IFF_UP, 0);
      assert.ok(interfaceFlags(host) & IFF_UP);
      // Closing the port's socket drops its promiscuous membership.
      const port = SystemNetdev.open(host);
      assert.equal(await promiscuity(host), 1);
      port.close();
      assert.equal(await promiscuity(host), 0);
    } finally {
      await topo.destroy();
    }
  },
});

Deno.test({
  name: "a VLAN tag the kernel strips on receive is put back before the PMD looks at the frame",
  ignore,
  async fn() {
    await withBridge({ subnet: 82 }, { flows: false }, async (topo, sw) => {
      // Broadcast, VLAN 10 priority 3, then an experimental ethertype.
      const frame = "ffffffffffff020000000001" + "8100600a" + "88b5" + "00".repeat(46);
      await rawSend(topo, 0, topo.hosts[0].ifname, frame);
      const up = new DpifUpcall();
      const dp = sw.dp;
      await pollUntil(
        () => dp.recv(0, up) && up.packet[12] === 0x81 && up.packet[16] === 0x88,
        "the tagged frame's miss upcall",
      );
      assert.equal(up.inPort, sw.pa);
      assert.equal(up.packetLen, 64);
      assert.deepEqual([...up.packet.subarray(12, 18)], [0x81, 0x00, 0x60, 0x0a, 0x88, 0xb5]);
    });
  },
});

Deno.test({
  name: "TCP with offloads on passes TSO super-frames whole between vnet-header ports",
  ignore,
  async fn() {
    await withBridge({ subnet: 83, offload: true }, {}, async (topo, sw) => {
      const bytes = 4 << 20;
      await tcpTransfer(topo, 7003, bytes);
      const [aRx, aRxBytes] = sw.dp.portStats(sw.pa);
      // A super-frame is one packet: far fewer packets than 1500-byte segments.
      assert.ok(aRxBytes / aRx > 3000, `A received ${aRx} packets of ${aRxBytes} bytes`);
      const [bRx, , , , rxDropped, txDropped] = sw.dp.portStats(sw.pb);
      assert.ok(bRx > 0);
      assert.equal(rxDropped + txDropped, 0);
    });
  },
});

Deno.test({
  name: "super-frames leave a port without vnet header as segments finished in software",
  ignore,
  async fn() {
    // A sends TSO super-frames; B's port has no offloads, so B must send
    // full checksums itself (its kernel cannot tell us they are partial).
    const setup = async (topo: VethTopology) => {
      await topo.ethtool(0, ["tx", "on", "tso", "on"]);
      await topo.ethtool(1, ["tx", "off"]);
    };
    await withBridge({ subnet: 84 }, { offloads: { b: false }, setup }, async (topo, sw) => {
      const bytes = 4 << 20;
      await tcpTransfer(topo, 7004, bytes);
      const [aRx] = sw.dp.portStats(sw.pa);
      const [, , bTx] = sw.dp.portStats(sw.pb);
      assert.ok(bTx > aRx, `B sent ${bTx} segments for A's ${aRx} frames`);
    });
  },
});

Deno.test({
  name: "super-frames copied to a dummy port arrive there as checksummed segments",
  ignore,
  async fn() {
    const tap = new DummyNetdev("tap0");
    let segments = 0, tcp = 0, bad = 0, longest = 0;
    const hdr = newHeaderOffsets();
    tap.onTx((f) => {
      segments++;
      longest = Math.max(longest, f.length);
      locateHeaders(f, f.length, hdr);
      if (hdr[HDR_L4_PROTO] !== IPPROTO_TCP) return;
      tcp++;
      const l4 = hdr[HDR_L4];
      const sum = csumAdd(pseudoHeaderSum(f, hdr, f.length - l4), f, l4, f.length - l4);
      if (csumFinish(sum) !== 0) bad++;
    });
    await withBridge({ subnet: 86, offload: true }, { tap }, async (topo, sw) => {
      const timer = setInterval(() => tap.pollTx(), 1);
      try {
        const bytes = 2 << 20;
        await tcpTransfer(topo, 7006, bytes);
        const [aRx, aRxBytes] = sw.dp.portStats(sw.pa);
        await pollUntil(() => {
          tap.pollTx();
          const [, , tapTx] = sw.dp.portStats(sw.pt);
          return tapTx > 0 && segments >= tapTx;
        }, "the dummy port's frames");
        assert.ok(aRxBytes / aRx > 3000, "A received super-frames");
        assert.ok(segments > aRx, `${segments} frames on the dummy port for A's ${aRx}`);
        assert.ok(longest <= 1514, `frames no longer than the MTU (${longest})`);
        assert.ok(tcp > 0);
        assert.equal(bad, 0, "every TCP segment's checksum verifies");
      } finally {
        clearInterval(timer);
      }
    });
  },
});

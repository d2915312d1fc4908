/**
 * The netdev a bridge port is made of, by port type, as OVS's netdev
 * classes are chosen by the Interface type: `system` ports are the Linux
 * interfaces of that name (netdev/system.ts); the bridge's own port is a
 * tap device of its name on the netdev datapath (netdev/tap.ts), as
 * ovs-vswitchd makes it, and a dummy netdev on the dummy datapath;
 * `dummy`/`pcap` ports are dummy netdevs with the files and sockets their
 * options name (port_io.ts).
 *
 * Thread-safety: main thread, which owns the netdevs.
 */
import { DummyNetdev, type Netdev, SystemNetdev, TapNetdev } from "../netdev/mod.ts";
import { PortIo } from "./port_io.ts";
import type { PortType } from "./port_spec.ts";

export interface PortNetdev {
  netdev: Netdev;
  /** What the port has open besides the datapath; `close` releases it. */
  io: PortIo;
}

/**
 * Opens port `name`'s netdev; throws a one-line error naming the port
 * (a missing interface, a bad pcap file) and leaves nothing open.
 */
export async function openPortNetdev(
  name: string,
  type: PortType | "internal",
  datapathType: string,
  options: Record<string, string>,
): Promise<PortNetdev> {
  if (type === "system") {
    const netdev = SystemNetdev.open(name, {
      offloads: options.offloads !== "false",
      nRxq: options.n_rxq ? Number(options.n_rxq) : 1,
    });
    return { netdev, io: PortIo.closing(() => netdev.close()) };
  }
  if (type === "internal" && datapathType === "netdev") {
    const netdev = TapNetdev.open(name, { offloads: options.offloads !== "false" });
    return { netdev, io: PortIo.closing(() => netdev.close()) };
  }
  const netdevType = type === "internal"
    ? (datapathType === "dummy" ? "dummy-internal" : "tap")
    : type;
  const netdev = new DummyNetdev(name, netdevType);
  if (options.n_rxq) netdev.nRxq = Number(options.n_rxq);
  return { netdev, io: await PortIo.open(netdev, options) };
}

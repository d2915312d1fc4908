/**
 * What the Linux-backed netdevs (`system` interfaces, `tap` internal
 * ports) report about their interface, as OVS's netdev-linux does on the
 * userspace datapath: the kernel's counters (netdev_linux_get_stats; a
 * tap's with receive and transmit swapped, since the kernel counts from
 * the host's side, plus the frames the datapath itself dropped, as
 * netdev_tap_get_stats), and the state ovs-vswitchd puts in the
 * Interface table (admin_state, link_state, mtu, mac_in_use, ifindex).
 *
 * Thread-safety: main thread (the netdevs' owner); each query is one
 * rtnetlink request in this thread's network namespace.
 */
import { IFF_RUNNING, IFF_UP, type LinkStats, LinuxError, queryLink } from "./linux/mod.ts";
import type { Netdev } from "./netdev.ts";
import { SystemNetdev } from "./system.ts";
import { TapNetdev } from "./tap.ts";

export type LinuxNetdev = SystemNetdev | TapNetdev;

/** The netdev as a Linux-backed one, or undefined (dummy, pcap, ...). */
export function asLinuxNetdev(n: Netdev | undefined): LinuxNetdev | undefined {
  return n instanceof SystemNetdev || n instanceof TapNetdev ? n : undefined;
}

/**
 * netdev_get_stats of a Linux netdev; `dpRxDropped`/`dpTxDropped` are the
 * datapath's own drops on the port (added for a tap). Throws a
 * LinuxError (ENODEV) when the interface is gone.
 */
export function linuxNetdevStats(
  n: LinuxNetdev,
  dpRxDropped: number,
  dpTxDropped: number,
): LinkStats {
  const s = queryLink(n.name).stats;
  if (n.type !== "tap") return s;
  return {
    rxPackets: s.txPackets,
    txPackets: s.rxPackets,
    rxBytes: s.txBytes,
    txBytes: s.rxBytes,
    rxErrors: s.txErrors,
    txErrors: s.rxErrors,
    rxDropped: s.txDropped + dpRxDropped,
    txDropped: s.rxDropped + dpTxDropped,
    multicast: s.multicast,
    collisions: s.collisions,
    rxOverErrors: 0,
    rxCrcErrors: 0,
    rxMissedErrors: 0,
    rxFrameErrors: 0,
    txAbortedErrors: 0,
    txCarrierErrors: 0,
  };
}

/** The Interface-table view of a Linux netdev's interface. */
export interface LinkStatus {
  adminState: "up" | "down";
  linkState: "up" | "down";
  /** Undefined when the interface is gone (OVS shows []). */
  mtu?: number;
  macInUse?: string;
  ifindex: number;
}

/** The interface's state now; a missing interface is down with no MTU or MAC, ifindex 0. */
export function linkStatus(n: LinuxNetdev): LinkStatus {
  try {
    const l = queryLink(n.name);
    return {
      adminState: l.flags & IFF_UP ? "up" : "down",
      linkState: l.flags & IFF_RUNNING ? "up" : "down",
      mtu: l.mtu,
      macInUse: l.mac,
      ifindex: l.ifindex,
    };
  } catch (e) {
    if (!(e instanceof LinuxError)) throw e;
    return { adminState: "down", linkState: "down", ifindex: 0 };
  }
}

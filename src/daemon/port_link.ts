/**
 * Watching the interfaces behind a bridge's Linux ports (`system`
 * interfaces, the `tap` local port), as ovs-vswitchd follows them
 * through netdev-linux's link notifications and its Interface table
 * (bridge.c's iface_refresh_netdev_status). The daemon calls `run` every
 * second, and `poll` often: it runs the check at once when the kernel
 * sent a link notification (RTMGRP_LINK). One RTM_GETLINK per port tells
 * whether the interface is still the one the port opened (same ifindex).
 *
 * When it is gone (or replaced under the same name) the port's fd is
 * taken back from the PMD and closed (`suspend`: the PMD stops using it
 * first), the port stays in the bridge and datapath, and a WARN line says
 * what OVS says of a device it cannot open ("could not open network
 * device va (No such device)"); that is also the port's `error` in
 * `port/show`. When an interface of that name exists again the port
 * opens it (`resume`, new ifindex) and the INFO line is OVS's "bridge
 * br0: added interface va on port 1". A deleted tap (the local port) is
 * created again on the next check, as the port's own device. Meanwhile the PMD only counts the
 * failing sends and receives (it never stops for them).
 *
 * Each check also reads the interface's carrier (IFF_RUNNING, as
 * netdev-linux's get_carrier; none while it is gone): when it changes,
 * the port's `carrier` changes, its bond member follows (bond_run) and
 * translations are redone (REV_PORT_TOGGLED), so that fast_failover
 * groups and bundle actions skip a port whose link is down, as OVS's
 * port_run makes may_enable follow the carrier.
 *
 * `port/show [PORT]` lists the ports as `ovs-vsctl list interface` does,
 * with the columns udpif has: name, ofport, type, admin_state,
 * link_state, mtu, mac_in_use, ifindex, error, statistics.
 *
 * Thread-safety: main thread.
 */
import { CommandError, coverageCounter, getLogger } from "../lib/mod.ts";
import { OFPPR_MODIFY } from "../openflow/mod.ts";
import {
  asLinuxNetdev,
  IFF_RUNNING,
  LinkNotifier,
  linkStatus,
  LinuxError,
  type LinuxNetdev,
  linuxNetdevStats,
  queryLink,
  strerror,
} from "../netdev/mod.ts";
import type { Bridge, BridgePort } from "./bridge.ts";
import type { PatchPort } from "./patch_port.ts";

const log = getLogger("bridge");
const covRevPortToggled = coverageCounter("rev_port_toggled");
const ENODEV = 19;

/** A watched port's interface: open and used by the PMD, or gone (fd closed). */
type LinkWatchState = "attached" | "gone";
const TRANSITIONS: Record<LinkWatchState, readonly LinkWatchState[]> = {
  attached: ["gone"],
  gone: ["attached"],
};

interface Watched {
  state: LinkWatchState;
  ifindex: number;
  /** The Interface table's error column: why the interface is not open. */
  error?: string;
}

export class PortLinkWatch {
  readonly #ports = new Map<string, Watched>();
  /** Link notifications; without them (netlink refused) the periodic check alone. */
  readonly #notifier?: LinkNotifier;

  constructor(private readonly bridge: Bridge) {
    if (!bridge.allPorts().some((p) => asLinuxNetdev(p.netdev))) return;
    try {
      this.#notifier = new LinkNotifier();
    } catch (e) {
      log.warn(
        `link notifications unavailable, checking ports every second: ${(e as Error).message}`,
      );
    }
  }

  /** Checks the ports at once if some interface changed since the last poll. */
  poll(): void {
    if (this.#notifier?.changed()) this.run();
  }

  close(): void {
    this.#notifier?.close();
  }

  #move(name: string, w: Watched, to: LinkWatchState): boolean {
    if (!TRANSITIONS[w.state].includes(to)) {
      log.warn(`${name}: refused link state change ${w.state} -> ${to}`);
      return false;
    }
    w.state = to;
    return true;
  }

  #watched(p: BridgePort, n: LinuxNetdev): Watched {
    let w = this.#ports.get(p.name);
    if (!w) {
      w = { state: n.open ? "attached" : "gone", ifindex: n.ifindex };
      this.#ports.set(p.name, w);
    }
    return w;
  }

  /** Checks every Linux port's interface; reports and handles any that went or came back. */
  run(): void {
    const ports = this.bridge.allPorts();
    for (const p of ports) {
      const n = asLinuxNetdev(p.netdev);
      if (n) this.#check(p, n, this.#watched(p, n));
    }
    // A port deleted at run time (port/del) is watched no more; one added
    // later under its name starts afresh.
    for (const name of this.#ports.keys()) {
      if (!ports.some((p) => p.name === name)) this.#ports.delete(name);
    }
  }

  #check(p: BridgePort, n: LinuxNetdev, w: Watched): void {
    let ifindex = 0, flags = 0, why = "";
    try {
      ({ ifindex, flags } = queryLink(n.name));
    } catch (e) {
      if (!(e instanceof LinuxError)) throw e;
      why = strerror(e.errno);
    }
    if (w.state === "attached" && ifindex !== w.ifindex) {
      if (!this.#move(p.name, w, "gone")) return;
      n.suspend();
      w.error = `could not open network device ${n.name} (${why || strerror(ENODEV)})`;
      log.warn(w.error);
    }
    // A system port waits for its interface; the tap is the port's own, made again.
    if (w.state === "gone" && (ifindex !== 0 || n.type === "tap")) {
      try {
        n.resume();
      } catch (e) {
        const why = e instanceof LinuxError ? strerror(e.errno) : (e as Error).message;
        const error = `could not open network device ${n.name} (${why})`;
        if (error !== w.error) log.warn(error);
        w.error = error;
        this.#carrier(p, false);
        return;
      }
      if (!this.#move(p.name, w, "attached")) return;
      w.ifindex = n.ifindex;
      w.error = undefined;
      log.info(`bridge ${this.bridge.name}: added interface ${p.name} on port ${p.ofport}`);
    }
    this.#carrier(p, w.state === "attached" && (flags & IFF_RUNNING) !== 0);
  }

  /** The port's carrier is now `carrier`: its bond member and the translations follow. */
  #carrier(p: BridgePort, carrier: boolean): void {
    if (p.carrier === carrier) return;
    p.carrier = carrier;
    this.bridge.bonds.run();
    this.bridge.portsChanged(covRevPortToggled);
    // A system port's link state is in its description (bridge_openflow.ts):
    // controllers hear of it.
    if (p.type === "system") this.bridge.onPortStatus(OFPPR_MODIFY, p.name);
  }

  /** Whether port `name` is this watch's bridge's. */
  hasPort(name: string): boolean {
    return this.bridge.portByName(name) !== undefined ||
      this.bridge.patchPorts.some((p) => p.name === name);
  }

  /**
   * Port `name`'s Interface-table columns, or every port's, patch ports
   * included (type patch, up: OVS's patch netdev has no link to lose);
   * throws for an unknown port.
   */
  records(name?: string): Array<[string, string]> {
    const patches = this.bridge.patchPorts.filter((p) => name === undefined || p.name === name);
    const ports = name === undefined
      ? this.bridge.allPorts()
      : patches.length
      ? []
      : [this.bridge.port(name)];
    const patchRecord = (p: PatchPort) =>
      formatColumns([
        ["name", p.name],
        ["ofport", String(p.ofport)],
        ["type", "patch"],
        ["admin_state", "up"],
        ["error", "[]"],
      ]);
    return [
      ...ports.map((p): [string, string] => [p.name, this.#record(p)]),
      ...patches.map((p): [string, string] => [p.name, patchRecord(p)]),
    ];
  }

  #record(p: BridgePort): string {
    const n = asLinuxNetdev(p.netdev);
    const cols: [string, string][] = [
      ["name", p.name],
      ["ofport", String(p.ofport)],
      ["type", p.type === "system" ? '""' : p.type],
    ];
    if (n) {
      const w = this.#watched(p, n);
      const st = linkStatus(n);
      cols.push(
        ["admin_state", st.adminState],
        ["link_state", st.linkState],
        ["mtu", st.mtu === undefined ? "[]" : String(st.mtu)],
        ["mac_in_use", st.macInUse === undefined ? "[]" : `"${st.macInUse}"`],
        ["ifindex", String(st.ifindex)],
        ["error", w.error === undefined ? "[]" : JSON.stringify(w.error)],
        ["statistics", this.#statistics(p, n)],
      );
    } else {
      cols.push(["admin_state", p.up ? "up" : "down"], ["error", "[]"]);
    }
    return formatColumns(cols);
  }

  #statistics(p: BridgePort, n: LinuxNetdev): string {
    const [, , , , rxDropped, txDropped] = this.bridge.dp.portStats(p.odpPort);
    let s;
    try {
      s = linuxNetdevStats(n, rxDropped, txDropped);
    } catch {
      return "{}";
    }
    const kv: [string, number][] = [
      ["collisions", s.collisions],
      ["rx_bytes", s.rxBytes],
      ["rx_crc_err", s.rxCrcErrors],
      ["rx_dropped", s.rxDropped],
      ["rx_errors", s.rxErrors],
      ["rx_frame_err", s.rxFrameErrors],
      ["rx_missed_errors", s.rxMissedErrors],
      ["rx_multicast_packets", s.multicast],
      ["rx_over_err", s.rxOverErrors],
      ["rx_packets", s.rxPackets],
      ["tx_bytes", s.txBytes],
      ["tx_dropped", s.txDropped],
      ["tx_errors", s.txErrors],
      ["tx_packets", s.txPackets],
    ];
    return `{${kv.map(([k, v]) => `${k}=${v}`).join(", ")}}`;
  }
}

/** An Interface record as `ovs-vsctl list` prints it: a column a line, names padded to 20. */
function formatColumns(cols: Array<[string, string]>): string {
  return cols.map(([k, v]) => `${k.padEnd(20)}: ${v}\n`).join("");
}

/** The command name `registerPortLinkCommands` adds (the daemon removes it when it stops). */
export const PORT_LINK_COMMANDS = ["port/show"];

/**
 * Registers `port/show [PORT]` over `watches` (one per bridge): the
 * ports' Interface-table columns, as `ovs-vsctl list interface`, every
 * bridge's ports by name, or the named port's from its bridge.
 */
export function registerPortLinkCommands(
  register: (c: {
    name: string;
    usage: string;
    minArgs: number;
    maxArgs: number;
    handler: (args: string[]) => string;
  }) => void,
  watches: readonly PortLinkWatch[],
): void {
  const show = (name?: string) => {
    const all = name === undefined
      ? watches.flatMap((w) => w.records())
      : (watches.find((w) => w.hasPort(name)) ?? watches[0]).records(name);
    return all.sort(([a], [b]) => a < b ? -1 : a > b ? 1 : 0).map(([, r]) => r).join("\n");
  };
  register({
    name: "port/show",
    usage: "[port]",
    minArgs: 0,
    maxArgs: 1,
    handler: (args) => {
      try {
        return show(args[0]);
      } catch (e) {
        if (e instanceof CommandError) throw e;
        throw new CommandError((e as Error).message);
      }
    },
  });
}

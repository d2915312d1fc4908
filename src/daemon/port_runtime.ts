/**
 * Ports added and removed while the daemon runs, as `ovs-vsctl add-port`
 * and `del-port` make bridge.c's bridge_reconfigure add or delete an
 * ofport and its datapath port (ofproto_port_add/ofproto_port_del):
 *
 *     udpif appctl port/add br0 'p3[:OFPORT][,type=...][,OPTION=...]'   (the --port syntax)
 *     udpif appctl port/del [br0] p3
 *
 * An added port's netdev is opened (with the pcap files and sockets its
 * options name), added to the datapath, which gives its rx queues to
 * the PMDs, and then to the bridge, whose translations get the new port
 * list and revalidate (rev_reconfigure). A deleted port leaves the bridge
 * first (its learned MACs forgotten, the flows through it revalidated
 * away: a flow coming in on it no longer translates), then the datapath;
 * then its netdev is closed. The log lines are OVS's ("bridge br0: added
 * interface p3 on port 3", "bridge br0: deleted interface p3 on port
 * 3"). Bonds and their members, patch ports and the bridge's own port
 * are made at start and stay.
 *
 * `openBridgePort` is also how a bridge opens its ports at start.
 *
 * Thread-safety: main thread.
 */
import { CommandError, getLogger, registerCommand } from "../lib/mod.ts";
import type { Backer } from "./backer.ts";
import type { Bridge, BridgePort } from "./bridge.ts";
import { openPortNetdev } from "./port_netdev.ts";
import { parseAddedPort, type PortSpec, PortSpecError } from "./port_spec.ts";

const log = getLogger("bridge");

/** Opens port `name`'s netdev and adds it to `backer`'s datapath; throws leaving nothing open. */
export async function openBridgePort(
  backer: Backer,
  name: string,
  ofport: number,
  type: BridgePort["type"],
  options: PortSpec["options"],
): Promise<BridgePort> {
  const { netdev, io } = await openPortNetdev(name, type, backer.datapathType, options);
  try {
    const odpPort = backer.dp.portAdd(netdev);
    return {
      name,
      ofport,
      odpPort,
      type,
      options,
      netdev,
      io,
      vlan: {},
      flood: true,
      up: true,
      carrier: true,
    };
  } catch (e) {
    io.close();
    throw e;
  }
}

/** Every port, patch port, bond and bridge name of the daemon's bridges. */
function namesTaken(bridges: readonly Bridge[]): Set<string> {
  const names = new Set<string>();
  for (const b of bridges) {
    names.add(b.name);
    for (const p of b.allPorts()) names.add(p.name);
    for (const p of b.patchPorts) names.add(p.name);
    for (const r of b.bonds.all()) names.add(r.bond.config.name);
  }
  return names;
}

/** `port/add BRIDGE SPEC`. */
export async function addPort(bridge: Bridge, text: string): Promise<void> {
  const bridges = bridge.backer.bridges;
  const ofports = new Set([
    ...bridge.allPorts().map((p) => p.ofport),
    ...bridge.patchPorts.map((p) => p.ofport),
  ]);
  let spec: PortSpec;
  try {
    spec = parseAddedPort(text, namesTaken(bridges), ofports);
  } catch (e) {
    if (e instanceof PortSpecError) {
      throw new CommandError(e.message.replace(/^--port /, "port/add "));
    }
    throw e;
  }
  let port: BridgePort;
  try {
    port = await openBridgePort(bridge.backer, spec.name, spec.ofport, spec.type, spec.options);
  } catch (e) {
    throw new CommandError(`port/add ${text}: ${e instanceof Error ? e.message : e}`);
  }
  // Another port/add may have taken the name or number while this one opened.
  if (
    namesTaken(bridges).has(spec.name) || bridge.allPorts().some((p) => p.ofport === spec.ofport)
  ) {
    bridge.dp.portDel(port.odpPort);
    port.io.close();
    throw new CommandError(`port/add ${text}: ${spec.name} or its number was taken meanwhile`);
  }
  bridge.attachPort(port);
  log.info(`bridge ${bridge.name}: added interface ${port.name} on port ${port.ofport}`);
}

/** `port/del [BRIDGE] PORT`; `bridge` is PORT's, or the one named. */
export function delPort(bridge: Bridge, name: string): void {
  if (bridge.patchPorts.some((p) => p.name === name)) {
    throw new CommandError(`${name}: patch ports are made at start and stay`);
  }
  const port = bridge.portByName(name);
  if (!port) throw new CommandError(`bridge ${bridge.name} does not have a port ${name}`);
  if (port.type === "internal") {
    throw new CommandError(`${name}: the bridge's own port goes with the bridge`);
  }
  const bond = bridge.bonds.bondOfMember(port.ofport);
  if (bond) throw new CommandError(`${name}: a member of bond ${bond}, made at start`);
  bridge.detachPort(port);
  bridge.dp.portDel(port.odpPort);
  port.io.close();
  log.info(`bridge ${bridge.name}: deleted interface ${port.name} on port ${port.ofport}`);
}

/**
 * Registers `port/add` and `port/del` over the bridges `bridges()` gives
 * when each runs; `named` finds a bridge by name (its error otherwise).
 */
export function registerPortRuntimeCommands(
  bridges: () => readonly Bridge[],
  named: (name: string) => Bridge,
): void {
  registerCommand({
    name: "port/add",
    usage: "bridge port[:ofport][,type=...][,option=...]",
    minArgs: 2,
    maxArgs: 2,
    handler: async ([br, spec]) => {
      await addPort(named(br), spec);
      return "";
    },
  });
  registerCommand({
    name: "port/del",
    usage: "[bridge] port",
    minArgs: 1,
    maxArgs: 2,
    handler: (args) => {
      const name = args[args.length - 1];
      const bridge = args.length === 2
        ? named(args[0])
        : bridges().find((b) => b.portByName(name) || b.patchPorts.some((p) => p.name === name));
      if (!bridge) throw new CommandError(`no port named ${name}`);
      delPort(bridge, name);
      return "";
    },
  });
}

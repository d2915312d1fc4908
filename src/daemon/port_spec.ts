/**
 * `--port NAME[:OFPORT][,type=dummy|pcap|system][,rx_pcap=FILE]
 * [,tx_pcap=FILE][,pstream=punix:PATH|stream=unix:PATH][,offloads=BOOL]`
 * as `udpif start` takes it, and the OpenFlow numbering rule: a port gets
 * the number it asks for, the others 1, 2, 3, ... in order, skipping
 * numbers already taken. A `system` port is the Linux interface NAME
 * (netdev/system.ts); its only option is `offloads` (default true:
 * checksum and TSO offloads through a virtio_net_hdr). A `type=bond` port
 * (bond_spec.ts) stands for its members, which become dummy ports
 * carrying the bond, or, when a member is also given as a `--port` of its
 * own (`--port a1,stream=unix:PATH`), that port.
 *
 * With several `--bridge`s, `bridge=BR` puts a port on bridge BR (the
 * first bridge without it), as `ovs-vsctl add-port BR NAME` does; port
 * names are unique in the daemon, OpenFlow numbers in each bridge.
 * `type=patch,peer=OTHER` is a patch port (Interface type patch,
 * options:peer): no netdev, no datapath port; patch_port.ts pairs it.
 */
import type { BondConfig } from "../ofproto/mod.ts";
import { type BondSpec, parseBondSpec } from "./bond_spec.ts";

export type PortType = "dummy" | "pcap" | "system" | "patch";
const PORT_TYPES: readonly string[] = ["dummy", "pcap", "system", "patch"];

export interface PortSpec {
  name: string;
  /** OpenFlow port number. */
  ofport: number;
  type: PortType;
  /** Netdev options (rx_pcap, tx_pcap, pstream, stream), as given. */
  options: Record<string, string>;
  /** The bond this port is a member of (the same object for every member). */
  bond?: BondConfig;
  /** The bridge named by `bridge=`, when given. */
  bridge?: string;
}

export class PortSpecError extends Error {
  override name = "PortSpecError";
}

/** OpenFlow's largest physical port number (OFPP_MAX - 1). */
const OFPORT_MAX = 0xfeff;
const OPTIONS = new Set(["rx_pcap", "tx_pcap", "pstream", "stream", "offloads", "n_rxq", "peer"]);
/**
 * options:n_rxq: rx queues of a dummy port (netdev-dummy allows up to
 * MAX_RXQ here) or of a system port (sockets of one PACKET_FANOUT group).
 */
const MAX_N_RXQ = 8;

interface ParsedPort {
  name: string;
  ofport: number | undefined;
  type: PortType;
  options: Record<string, string>;
  bond?: BondSpec;
  bridge?: string;
}

/** One `--port` value: a port, or a bond's members. */
function parseOneOrBond(text: string): ParsedPort[] {
  const [head, ...rest] = text.split(",");
  if (!rest.includes("type=bond")) return [parseOne(text)];
  if (head.includes(":")) {
    throw new PortSpecError(`--port ${text}: a bond has no OpenFlow port number (its members do)`);
  }
  if (!/^[A-Za-z0-9_.-]{1,64}$/.test(head)) {
    throw new PortSpecError(`--port ${text}: bad port name "${head}"`);
  }
  const bond = parseBondSpec(text, head, rest, OFPORT_MAX);
  return bond.members.map((m) => ({
    name: m.name,
    ofport: m.ofport,
    type: "dummy",
    options: {},
    bond,
  }));
}

function parseOne(text: string): ParsedPort {
  const [head, ...rest] = text.split(",");
  const colon = head.indexOf(":");
  const name = colon < 0 ? head : head.slice(0, colon);
  if (!/^[A-Za-z0-9_.-]{1,64}$/.test(name)) {
    throw new PortSpecError(`--port ${text}: bad port name "${name}"`);
  }
  let ofport: number | undefined;
  if (colon >= 0) {
    const n = head.slice(colon + 1);
    if (!/^[0-9]+$/.test(n) || Number(n) < 1 || Number(n) > OFPORT_MAX) {
      throw new PortSpecError(
        `--port ${text}: bad OpenFlow port number "${n}" (1 to ${OFPORT_MAX})`,
      );
    }
    ofport = Number(n);
  }
  let type: PortType = "dummy";
  let bridge: string | undefined;
  const options: Record<string, string> = {};
  for (const item of rest) {
    const eq = item.indexOf("=");
    const key = eq < 0 ? item : item.slice(0, eq);
    const value = eq < 0 ? "" : item.slice(eq + 1);
    if (key === "bridge") {
      if (value === "") throw new PortSpecError(`--port ${text}: bridge needs a value`);
      bridge = value;
    } else if (key === "type") {
      if (!PORT_TYPES.includes(value)) {
        throw new PortSpecError(
          `--port ${text}: bad type "${value}" (dummy, pcap, system or patch)`,
        );
      }
      type = value as PortType;
    } else if (OPTIONS.has(key)) {
      if (value === "") throw new PortSpecError(`--port ${text}: ${key} needs a value`);
      options[key] = value;
    } else {
      throw new PortSpecError(
        `--port ${text}: unknown option "${key}" (bridge, type, rx_pcap, tx_pcap, pstream, stream, offloads, n_rxq, peer)`,
      );
    }
  }
  if (
    options.n_rxq !== undefined &&
    (!/^[0-9]+$/.test(options.n_rxq) || +options.n_rxq < 1 || +options.n_rxq > MAX_N_RXQ)
  ) {
    throw new PortSpecError(
      `--port ${text}: n_rxq must be 1 to ${MAX_N_RXQ}, not "${options.n_rxq}"`,
    );
  }
  if (options.pstream && !options.pstream.startsWith("punix:")) {
    throw new PortSpecError(`--port ${text}: pstream must be punix:PATH`);
  }
  if (options.stream && !options.stream.startsWith("unix:")) {
    throw new PortSpecError(`--port ${text}: stream must be unix:PATH`);
  }
  if (options.pstream && options.stream) {
    throw new PortSpecError(`--port ${text}: give pstream or stream, not both`);
  }
  if (type === "system") {
    const other = Object.keys(options).find((k) => k !== "offloads" && k !== "n_rxq");
    if (other) throw new PortSpecError(`--port ${text}: type=system takes no ${other} option`);
    if (name.length > 15) {
      throw new PortSpecError(`--port ${text}: "${name}" is too long for an interface name`);
    }
  } else if ("offloads" in options) {
    throw new PortSpecError(`--port ${text}: offloads is an option of type=system ports`);
  }
  if ("offloads" in options && options.offloads !== "true" && options.offloads !== "false") {
    throw new PortSpecError(`--port ${text}: offloads must be true or false`);
  }
  if (type === "patch") {
    const other = Object.keys(options).find((k) => k !== "peer");
    if (other) throw new PortSpecError(`--port ${text}: type=patch takes no ${other} option`);
    if (!options.peer) throw new PortSpecError(`--port ${text}: type=patch needs peer=PORT`);
  } else if ("peer" in options) {
    throw new PortSpecError(`--port ${text}: peer is an option of type=patch ports`);
  }
  if (type === "pcap" && !options.rx_pcap && !options.tx_pcap) {
    throw new PortSpecError(`--port ${text}: type=pcap needs rx_pcap or tx_pcap`);
  }
  return { name, ofport, type, options, ...(bridge === undefined ? {} : { bridge }) };
}

/**
 * One port added at run time (`port/add BRIDGE SPEC`, as `ovs-vsctl
 * add-port`): the `--port` syntax of one port, not a bond nor a patch
 * port (those are made at start), named apart from `takenNames`, and
 * numbered apart from `takenOfports`: the number it asks for, else the
 * lowest free one, as OVS picks an ofport without ofport_request.
 */
export function parseAddedPort(
  text: string,
  takenNames: ReadonlySet<string>,
  takenOfports: ReadonlySet<number>,
): PortSpec {
  const parsed = parseOne(text);
  if (text.split(",").includes("type=bond") || parsed.type === "patch") {
    throw new PortSpecError(`--port ${text}: bonds and patch ports are made at start`);
  }
  if (parsed.bridge !== undefined) {
    throw new PortSpecError(`--port ${text}: the bridge is port/add's first argument`);
  }
  if (takenNames.has(parsed.name)) {
    throw new PortSpecError(`--port ${text}: a port or bridge is already named ${parsed.name}`);
  }
  if (parsed.ofport !== undefined && takenOfports.has(parsed.ofport)) {
    throw new PortSpecError(`--port ${text}: OpenFlow port ${parsed.ofport} is taken`);
  }
  let ofport = parsed.ofport ?? 1;
  while (parsed.ofport === undefined && takenOfports.has(ofport)) ofport++;
  return { name: parsed.name, ofport, type: parsed.type, options: parsed.options };
}

/** Parses every `--port` value and numbers the ports; throws on the first bad one. */
export function parsePortSpecs(texts: string[], bridge: string): PortSpec[] {
  return parseBridgePorts(texts, [bridge]).get(bridge)!;
}

/**
 * Parses every `--port` value of a daemon with `bridges` (in order; the
 * first takes the ports that name none) and numbers each bridge's ports;
 * throws on the first bad one. A bond's members all go on one bridge.
 */
export function parseBridgePorts(texts: string[], bridges: string[]): Map<string, PortSpec[]> {
  const names = new Set<string>();
  for (const b of bridges) {
    if (names.has(b)) throw new PortSpecError(`--bridge ${b}: bridge name used twice`);
    names.add(b);
  }
  const parsed = adoptMembers(texts.flatMap(parseOneOrBond));
  for (const b of new Set(parsed.map((p) => p.bond?.config.name))) if (b) names.add(b);
  const byBridge = new Map<string, ParsedPort[]>(bridges.map((b) => [b, []]));
  const bondBridge = new Map<BondSpec, string>();
  for (const p of parsed) {
    const bridge = p.bridge ?? bridges[0];
    const list = byBridge.get(bridge);
    if (!list) throw new PortSpecError(`--port ${p.name}: no bridge named ${p.bridge}`);
    if (p.bond) {
      if ((bondBridge.get(p.bond) ?? bridge) !== bridge) {
        throw new PortSpecError(`--port ${p.bond.config.name}: bond members on two bridges`);
      }
      bondBridge.set(p.bond, bridge);
    }
    list.push(p);
  }
  return new Map([...byBridge].map(([b, ports]) => [b, numberPorts(ports, names)]));
}

/** Numbers one bridge's ports; `names` (port and bridge names taken so far) gets theirs. */
function numberPorts(parsed: ParsedPort[], names: Set<string>): PortSpec[] {
  const taken = new Set<number>();
  for (const p of parsed) {
    if (names.has(p.name)) throw new PortSpecError(`--port ${p.name}: port name used twice`);
    names.add(p.name);
    if (p.ofport !== undefined) {
      if (taken.has(p.ofport)) {
        throw new PortSpecError(`--port ${p.name}: OpenFlow port ${p.ofport} used twice`);
      }
      taken.add(p.ofport);
    }
  }
  let next = 1;
  const ports: PortSpec[] = parsed.map((p) => {
    let ofport = p.ofport;
    if (ofport === undefined) {
      while (taken.has(next)) next++;
      ofport = next;
      taken.add(next);
    }
    const { name, type, options, bridge } = p;
    return { name, ofport, type, options, ...(bridge === undefined ? {} : { bridge }) };
  });
  return withBonds(parsed, ports);
}

/**
 * A bond member also given as a `--port` of its own (for its netdev
 * options, e.g. a stream socket) is that port, wherever the bond is given.
 */
function adoptMembers(parsed: ParsedPort[]): ParsedPort[] {
  const own = new Map(parsed.filter((p) => !p.bond).map((p) => [p.name, p]));
  return parsed.filter((p) => {
    const port = p.bond && own.get(p.name);
    if (!port) return true;
    if (port.bond) throw new PortSpecError(`--port ${p.name}: member of two bonds`);
    if (p.ofport !== undefined && port.ofport !== undefined && p.ofport !== port.ofport) {
      throw new PortSpecError(`--port ${p.name}: OpenFlow port ${p.ofport} or ${port.ofport}?`);
    }
    if (port.type === "pcap") {
      throw new PortSpecError(`--port ${p.name}: a bond member cannot be a pcap port`);
    }
    port.ofport ??= p.ofport;
    port.bond = p.bond;
    return false;
  });
}

/** Gives each bond's members one BondConfig naming their OpenFlow numbers. */
function withBonds(parsed: ParsedPort[], ports: PortSpec[]): PortSpec[] {
  const configs = new Map<BondSpec, BondConfig>();
  parsed.forEach((p, i) => {
    if (!p.bond) return;
    let config = configs.get(p.bond);
    if (!config) {
      const members = p.bond.members.map((m) => ({
        name: m.name,
        ofport: ports[parsed.findIndex((q) => q.name === m.name)].ofport,
      }));
      config = { ...p.bond.config, members };
      configs.set(p.bond, config);
    }
    ports[i].bond = config;
  });
  return ports;
}

/**
 * What translation needs to know about a bridge: its ports, their OpenFlow
 * and datapath numbers, and their VLAN configuration as OVS's bridge hands
 * it to ofproto (bridge.c port_configure, then ofproto-dpif bundle_set):
 *
 * - `tag` without `vlan_mode` means access, no tag means trunk;
 * - a native-tagged/native-untagged port always trunks its native VLAN and
 *   never VLAN 0;
 * - trunk mode with no `trunks` carries every VLAN, VLAN 0 included.
 */
import type { OdpAction } from "../flow/mod.ts";
import { Bond, type BondInit, OFPP_LOCAL } from "../ofproto/mod.ts";

export type VlanMode = "access" | "trunk" | "native-tagged" | "native-untagged";

/** A port as configured (the Port/Interface columns that matter here). */
export interface PortSpec {
  name: string;
  ofport: number;
  odpPort: number;
  tag?: number;
  trunks?: readonly number[];
  vlanMode?: VlanMode;
  /** OFPPC_NO_FLOOD: left out of FLOOD and NORMAL flooding. */
  noFlood?: boolean;
  /** OFPPC_NO_FWD: output to this port is dropped. */
  noForward?: boolean;
  /** Its link (carrier) is down: not live for fast_failover groups and bundle actions. */
  linkDown?: boolean;
  /** The bond this port is a member of (every member carries the same one). */
  bond?: BondInit;
  /** A patch port's peer (Interface options:peer): output goes on in the peer's bridge. */
  peer?: string;
  /** A patch port's slot in the backer's patch port counters (patch_counters.ts). */
  patchSlot?: number;
}

/** A port as translation uses it (OVS's xport + xbundle, one port per bundle). */
export interface XPort {
  readonly name: string;
  readonly ofport: number;
  readonly odpPort: number;
  readonly vlanMode: VlanMode;
  /** The access or native VLAN; 0 for trunk ports. */
  readonly vlan: number;
  /** VLANs carried tagged; null means all of them. */
  readonly trunks: ReadonlySet<number> | null;
  readonly noFlood: boolean;
  readonly noForward: boolean;
  readonly linkDown: boolean;
  /** The bond this port is a member of: NORMAL treats its members as one bundle. */
  readonly bond: Bond | null;
  /** The peer port's name when this is a patch port (it has no datapath port then). */
  readonly peer: string | null;
  /** A patch port's counter slot; -1 for other ports (or a patch port without counters). */
  readonly patchSlot: number;
  /**
   * The datapath action that outputs to it: one frozen object that every
   * translation's actions share, not one made per translated flow.
   */
  readonly output: OdpAction;
}

function effectivePort(spec: PortSpec, bonds: Map<string, Bond>): XPort {
  const tag = spec.tag !== undefined && spec.tag >= 0 && spec.tag <= 4095 ? spec.tag : -1;
  const mode: VlanMode = spec.vlanMode ?? (tag >= 0 ? "access" : "trunk");
  const vlan = mode === "trunk" ? 0 : Math.max(tag, 0);
  let trunks: Set<number> | null = spec.trunks?.length ? new Set(spec.trunks) : null;
  if (mode === "access") trunks = null;
  if ((mode === "native-tagged" || mode === "native-untagged") && vlan !== 0) {
    if (!trunks || !trunks.has(vlan) || trunks.has(0)) {
      const all = trunks ?? new Set(Array.from({ length: 4096 }, (_, i) => i));
      all.add(vlan);
      all.delete(0);
      trunks = all;
    }
  }
  return {
    name: spec.name,
    ofport: spec.ofport,
    odpPort: spec.odpPort,
    vlanMode: mode,
    vlan,
    trunks,
    noFlood: spec.noFlood ?? false,
    noForward: spec.noForward ?? false,
    linkDown: spec.linkDown ?? false,
    bond: spec.bond ? bondView(spec.bond, bonds) : null,
    peer: spec.peer ?? null,
    patchSlot: spec.patchSlot ?? -1,
    output: Object.freeze({ type: "output", port: spec.odpPort }),
  };
}

/** A bridge's ports, looked up by OpenFlow or datapath number. */
export class XBridge {
  readonly name: string;
  /** Ports in flooding order: by OpenFlow number, LOCAL last. */
  readonly ports: readonly XPort[];
  readonly #byOfport = new Map<number, XPort>();
  readonly #byOdp = new Map<number, XPort>();

  constructor(name: string, specs: readonly PortSpec[]) {
    this.name = name;
    const bonds = new Map<string, Bond>();
    const ports = specs.map((s) => effectivePort(s, bonds));
    ports.sort((a, b) => a.ofport - b.ofport);
    this.ports = ports;
    for (const p of ports) {
      if (this.#byOfport.has(p.ofport)) throw new Error(`${name}: duplicate ofport ${p.ofport}`);
      this.#byOfport.set(p.ofport, p);
      if (p.peer === null) this.#byOdp.set(p.odpPort, p);
    }
  }

  port(ofport: number): XPort | undefined {
    return this.#byOfport.get(ofport);
  }

  portByOdp(odpPort: number): XPort | undefined {
    return this.#byOdp.get(odpPort);
  }

  /** The datapath port of an OpenFlow port, or -1 if there is none. */
  odpPort(ofport: number): number {
    return this.#byOfport.get(ofport)?.odpPort ?? -1;
  }

  /** The OpenFlow port of a datapath port, or -1 if there is none. */
  ofport(odpPort: number): number {
    return this.#byOdp.get(odpPort)?.ofport ?? -1;
  }

  /** The port named `name` (`LOCAL` also names the bridge's own port). */
  portByName(name: string): XPort | undefined {
    if (name === "LOCAL") return this.#byOfport.get(OFPP_LOCAL);
    return this.ports.find((p) => p.name === name);
  }
}

/** One view per bond for all its members. */
function bondView(init: BondInit, bonds: Map<string, Bond>): Bond {
  let b = bonds.get(init.config.name);
  if (!b) bonds.set(init.config.name, b = new Bond(init));
  return b;
}

/** The OpenFlow port standing for `port`'s bundle: a bond's first member, else the port. */
export function bundlePort(port: XPort): number {
  return port.bond ? port.bond.bundlePort : port.ofport;
}

/** Whether `port` carries `vid` (xbundle_trunks_vlan). */
export function trunksVlan(port: XPort, vid: number): boolean {
  return port.vlanMode !== "access" && (port.trunks === null || port.trunks.has(vid));
}

/** Whether a packet in internal VLAN `vid` may leave through `port`. */
export function includesVlan(port: XPort, vid: number): boolean {
  return port.vlanMode === "access" ? vid === port.vlan : trunksVlan(port, vid);
}

/**
 * The datapath port number the userspace dummy datapath gives a port named
 * `name` (dpif-netdev choose_port): the first number in the name, plus 100
 * when the name starts with "br", if that number is free; otherwise the
 * lowest free number from 1.
 */
export function dummyOdpPort(name: string, used: ReadonlySet<number>): number {
  const m = /\d+/.exec(name);
  if (m) {
    const n = (name.startsWith("br") ? 100 : 0) + Number(m[0]);
    if (n > 0 && n < 0xffffffff && !used.has(n)) return n;
  }
  let n = 1;
  while (used.has(n)) n++;
  return n;
}

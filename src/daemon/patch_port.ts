/**
 * Patch ports: a pair of ports on two bridges (or one) of the same
 * datapath backer, each naming the other as its peer (OVS's Interface
 * type `patch` with options:peer, netdev-vport's patch class). Neither
 * has a netdev or a datapath port: translation follows output to one
 * into the peer's bridge (src/xlate/patch.ts), so a packet crosses
 * bridges in one datapath flow. `dpif/show` prints them as OVS does,
 * `NAME OFPORT/none: (patch: peer=PEER)`.
 *
 * Thread-safety: main thread (start-up and commands).
 */
import type { PatchBridge, PortSpec as XPortSpec, XlateTables } from "../xlate/mod.ts";
import type { Bridge } from "./bridge.ts";
import { type PortSpec, PortSpecError } from "./port_spec.ts";

/** A patch port of a bridge. */
export interface PatchPort {
  name: string;
  ofport: number;
  /** The peer port's name. */
  peer: string;
  /** Its slot in the backer's patch port counters (`Backer.patchCounters`). */
  patchSlot: number;
  /** False after `mod-port ... no-flood`: left out of flooding. */
  flood: boolean;
}

/** The patch port as translation sees it. */
export function patchPortSpec(p: PatchPort): XPortSpec {
  return {
    name: p.name,
    ofport: p.ofport,
    odpPort: -1,
    peer: p.peer,
    patchSlot: p.patchSlot,
    noFlood: !p.flood,
  };
}

/** A bridge's patch ports from its `--port` specs, each with its counter slot from `slotOf`. */
export function patchPortsOf(
  specs: readonly PortSpec[],
  slotOf: (name: string) => number,
): PatchPort[] {
  return specs.filter((p) => p.type === "patch").map((p) => ({
    name: p.name,
    ofport: p.ofport,
    peer: p.options.peer,
    patchSlot: slotOf(p.name),
    flood: true,
  }));
}

/**
 * `mod-port` on the patch port `name` (or numbered `name`) among `ports`,
 * if there is one: flood and no-flood as on any port, `changed` called
 * when the port changed; up and down change nothing, as in OVS, whose
 * patch netdev cannot be taken down (update_port_config then keeps the
 * port's config) and so keeps forwarding. Returns false when `name` is
 * no patch port of `ports`.
 */
export function modPatchPort(
  ports: readonly PatchPort[],
  name: string,
  action: "up" | "down" | "flood" | "no-flood",
  changed: () => void,
): boolean {
  const p = ports.find((p) => p.name === name || String(p.ofport) === name);
  if (!p) return false;
  const flood = action === "flood";
  if ((action === "flood" || action === "no-flood") && p.flood !== flood) {
    p.flood = flood;
    changed();
  }
  return true;
}

/**
 * Checks that each patch port's peer is a patch port that names it back
 * (ofport_update_peer pairs only such ports); throws naming the first
 * that is not.
 */
export function checkPatchPeers(byBridge: Map<string, PortSpec[]>): void {
  const patches = new Map<string, PortSpec>();
  for (const ports of byBridge.values()) {
    for (const p of ports) if (p.type === "patch") patches.set(p.name, p);
  }
  for (const p of patches.values()) {
    const peer = patches.get(p.options.peer);
    if (!peer || peer.options.peer !== p.name || peer === p) {
      throw new PortSpecError(
        `--port ${p.name}: peer ${p.options.peer} must be another type=patch port with peer=${p.name}`,
      );
    }
  }
}

/** `dpif/show`'s line for a patch port. */
export function formatPatchPort(p: PatchPort): string {
  return `    ${p.name} ${p.ofport}/none: (patch: peer=${p.peer})\n`;
}

/**
 * Bridge `b` as translations on the main thread (ofproto/trace,
 * packet-outs) go into it from another bridge: its ports as they are now,
 * its master tables and MAC table.
 */
function asPatchBridge(b: Bridge): PatchBridge {
  return {
    id: b.id,
    bridge: b.xbridge(),
    tables: b.tables as XlateTables,
    ml: b.ml,
    uuid: b.xlateInit.uuid,
    learnSink: b.learning.crossed,
  };
}

/** The bridge among `bridges` that has patch port `peer`. */
export function patchPeerOf(bridges: readonly Bridge[], peer: string): PatchBridge | undefined {
  const owner = bridges.find((b) => b.patchPorts.some((p) => p.name === peer));
  return owner && asPatchBridge(owner);
}

/** The bridge among `bridges` with id `id` (where a recirculation was frozen). */
export function bridgeByIdOf(bridges: readonly Bridge[], id: number): PatchBridge | undefined {
  const owner = bridges.find((b) => b.id === id);
  return owner && asPatchBridge(owner);
}

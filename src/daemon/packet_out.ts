/**
 * Packet-outs (ofproto_packet_out_start/finish and ofproto-dpif's
 * packet_execute): a packet, the port it is to have come in on and
 * actions, from an OpenFlow connection or `udpif ofctl packet-out`. The
 * main thread translates it through the actions (table lookups they lead
 * to included, with their side effects: MAC learning, learn actions
 * applied at once), credits the rules it went through with the packet, as
 * OVS's resubmit_stats do, and has the datapath execute the result.
 *
 *     udpif ofctl packet-out br0 "in_port=1 packet=5054000000075054... actions=output:2"
 *     udpif ofctl packet-out br0 1 "output:2" 5054000000075054... [PACKET...]
 *
 * Thread-safety: main thread.
 */
import { CommandError, coverageCounter, registerCommand, timeMsec } from "../lib/mod.ts";
import { flowExtract, newKey, ODPP_NONE } from "../flow/mod.ts";
import { xlate, xlateCachePushPatches, type XlateTables } from "../xlate/mod.ts";
import { Dpif } from "../dpif/mod.ts";
import {
  OfctlError,
  packetFromHex,
  packetOutPort,
  type PacketOutSpec,
  parseActions,
  parsePacketOut,
} from "../ofproto/mod.ts";
import type { Bridge } from "./bridge.ts";
import { patchPeerOf } from "./patch_port.ts";

const covPacketOut = coverageCounter("ofproto_packet_out");
const covFlowExtract = coverageCounter("flow_extract");

/** Runs one packet-out on `bridge`; a translation error drops it, as OVS does. */
export function executePacketOut(bridge: Bridge, po: PacketOutSpec): void {
  const flow = newKey();
  flowExtract(po.packet, po.packet.length, po.inPort, flow);
  const nowMs = timeMsec();
  const out = xlate({
    flow,
    tables: bridge.tables as XlateTables,
    bridge: bridge.xbridge(),
    ml: bridge.ml,
    nowMs,
    recircIds: bridge.recircIds,
    sideEffects: true,
    learnSink: bridge.learning.direct,
    ofpacts: po.actions,
    bridgeId: bridge.id,
    ofprotoUuid: bridge.xlateInit.uuid,
    patchPeer: (peer) => patchPeerOf(bridge.backer.bridges, peer),
  });
  covFlowExtract.inc();
  if (out.error) return;
  covPacketOut.inc();
  const bridges = bridge.backer.bridges;
  out.cache.forEachRule((id, b) => bridges[b]?.tables.creditStats(id, 1, po.packet.length, nowMs));
  xlateCachePushPatches(out.cache, bridge.backer.patchCounters, 1, po.packet.length);
  const port = bridge.allPorts().find((p) => p.ofport === po.inPort);
  new Dpif(bridge.dp).execute(po.packet, port ? port.odpPort : ODPP_NONE, out.actions);
}

function ofctlText<T>(parse: () => T): T {
  try {
    return parse();
  } catch (e) {
    if (e instanceof OfctlError) throw new CommandError(`ovs-ofctl: ${e.message}`);
    throw e;
  }
}

/**
 * `ofctl/packet-out BRIDGE [--ofp-version=V] TEXT`, or the older
 * `BRIDGE IN_PORT ACTIONS PACKET...` (one packet-out per packet), as
 * ovs-ofctl's ofctl_packet_out reads its arguments.
 */
export function registerPacketOutCommand(named: (name: string) => Bridge): void {
  registerCommand({
    name: "ofctl/packet-out",
    usage: undefined,
    minArgs: 2,
    maxArgs: Number.MAX_SAFE_INTEGER,
    handler: ([br, ...args]) => {
      const rest = /^--ofp-version=/.test(args[0] ?? "") ? args.slice(1) : args;
      const b = named(br);
      const names = new Map(b.allPorts().map((p) => [p.name, p.ofport]));
      const specs = ofctlText((): PacketOutSpec[] => {
        if (rest.length === 1) return [parsePacketOut(rest[0], names)];
        if (rest.length < 3) throw new OfctlError(`Too many arguments (${rest.length + 2})`);
        const inPort = packetOutPort(rest[0], names);
        const actions = parseActions(rest[1], names);
        return rest.slice(2).map((hex) => ({ inPort, actions, packet: packetFromHex(hex) }));
      });
      for (const po of specs) executePacketOut(b, po);
      return "";
    },
  });
}

/**
 * Packet-out (OVS's ofputil_decode_packet_out in lib/ofp-packet.c): a
 * packet the controller hands the switch, the port it is to have come in
 * on, and the actions to run on it. udpif keeps no packet buffers, so the
 * packet must travel in the message (buffer_id all-ones).
 */
import { type OfAction, OFPP_CONTROLLER, OFPP_LOCAL, OFPP_MAX, OFPP_NONE } from "../ofproto/mod.ts";
import { WireReader } from "./_buf.ts";
import { OfpError } from "./errors.ts";
import { pullActions } from "./actions.ts";
import { portFromOf11 } from "./port_number.ts";
import { OFP10_VERSION } from "./types.ts";

const NO_BUFFER = 0xffffffff;

export interface PacketOut {
  /** OpenFlow 1.0 numbering: a port, or LOCAL, CONTROLLER or NONE. */
  inPort: number;
  actions: OfAction[];
  packet: Uint8Array;
}

export function decodePacketOut(msg: Uint8Array, version: number): PacketOut {
  const r = new WireReader(msg, "OFPBRC_BAD_LEN", 8);
  const bufferId = r.u32();
  let inPort: number;
  let actionsLen: number;
  if (version === OFP10_VERSION) {
    inPort = r.u16();
    actionsLen = r.u16();
  } else {
    const port = r.u32();
    actionsLen = r.u16();
    r.skip(6);
    try {
      inPort = portFromOf11(port);
    } catch {
      throw new OfpError("OFPBRC_BAD_PORT");
    }
  }
  if (
    inPort >= OFPP_MAX && inPort !== OFPP_LOCAL && inPort !== OFPP_NONE &&
    inPort !== OFPP_CONTROLLER
  ) {
    throw new OfpError("OFPBRC_BAD_PORT");
  }
  const actions = pullActions(r, actionsLen, version);
  if (bufferId !== NO_BUFFER) throw new OfpError("OFPBRC_BUFFER_UNKNOWN");
  return { inPort, actions, packet: r.bytesOf(r.remaining).slice() };
}

/**
 * Packet-out (OVS's ofputil_decode_packet_out in lib/ofp-packet.c): a
 * packet the controller hands the switch, the port it is to have come in
 * on, and the actions to run on it. udpif keeps no packet buffers, so the
 * packet must travel in the message (buffer_id all-ones). OpenFlow 1.5
 * gives the in_port as a match.
 */
import {
  mfByName,
  mfGet,
  type OfAction,
  OFPP_CONTROLLER,
  OFPP_LOCAL,
  OFPP_MAX,
  OFPP_NONE,
} from "../ofproto/mod.ts";
import { WireReader } from "./_buf.ts";
import { OfpError } from "./errors.ts";
import { pullActions } from "./actions.ts";
import { portFromOf11 } from "./port_number.ts";
import { pullOxmMatch } from "./nx_match.ts";
import { OFP10_VERSION, OFP15_VERSION } from "./types.ts";

const NO_BUFFER = 0xffffffff;
const IN_PORT = mfByName("in_port")!;

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
  } else if (version >= OFP15_VERSION) {
    // OpenFlow 1.5: the in_port rides in an OXM match, which must name it.
    actionsLen = r.u16();
    r.skip(2);
    const { match } = pullOxmMatch(r);
    if (mfGet(IN_PORT, match.mask) === 0n) throw new OfpError("OFPBRC_BAD_PORT");
    inPort = Number(mfGet(IN_PORT, match.key));
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

/**
 * ovs-ofctl's packet-out text (lib/ofp-packet.c's
 * parse_ofp_packet_out_str, and ovs-ofctl.c's older form with separate
 * arguments): `in_port=PORT packet=HEX actions=ACTIONS`, with OVS's
 * errors worded as ovs-ofctl prints them. udpif translates the packet
 * with its in_port only, so the other pipeline fields OVS accepts here
 * (metadata, registers, tunnel fields) are refused by name rather than
 * ignored.
 */
import { ethFromHex } from "../packet/mod.ts";
import { parseActions } from "./action_parse.ts";
import { parsePort, type PortNames } from "./field_value.ts";
import { extractActions } from "./flow_mod.ts";
import { mfByName } from "./meta_flow.ts";
import { parseKeyValues } from "./key_value.ts";
import { type OfAction, OFPP_CONTROLLER, OFPP_LOCAL, OFPP_MAX, OFPP_NONE } from "./of_action.ts";
import { OfctlError } from "./ofctl_error.ts";

/** What a packet-out asks: the packet, the port it is to have come in on, the actions. */
export interface PacketOutSpec {
  inPort: number;
  packet: Uint8Array;
  actions: OfAction[];
}

/** Fields OVS's packet-out also takes (mf_is_pipeline_field) that udpif does not carry. */
const PIPELINE_FIELD = /^(metadata|reg[0-9]+|xreg[0-9]+|xxreg[0-9]+|tun_.*|tunnel_id|pkt_mark)$/;

/** A packet-out's packet (eth_from_hex), or OVS's error. */
export function packetFromHex(hex: string): Uint8Array {
  const packet = ethFromHex(hex);
  if (typeof packet === "string") throw new OfctlError(packet);
  return packet;
}

/** The in_port of a packet-out: a port, or LOCAL, NONE or CONTROLLER. */
export function packetOutPort(value: string, names?: PortNames): number {
  const port = parsePort(value, names);
  if (port === undefined) throw new OfctlError(`${value} is not a valid OpenFlow port`);
  if (port > OFPP_MAX && port !== OFPP_LOCAL && port !== OFPP_NONE && port !== OFPP_CONTROLLER) {
    throw new OfctlError(`${value} is not a valid OpenFlow port for PACKET_OUT`);
  }
  return port;
}

/** parse_ofp_packet_out_str: `in_port=.. packet=.. actions=..` (in_port CONTROLLER by default). */
export function parsePacketOut(text: string, names?: PortNames): PacketOutSpec {
  const [fields, actionText] = extractActions(text);
  let inPort = OFPP_CONTROLLER;
  let packet: Uint8Array | undefined;
  for (const { key, value } of parseKeyValues(fields)) {
    if (!value) throw new OfctlError(`field ${key} missing value`);
    if (key === "in_port") {
      inPort = packetOutPort(value, names);
    } else if (key === "packet") {
      try {
        packet = packetFromHex(value);
      } catch (e) {
        throw e instanceof OfctlError ? new OfctlError(`packet: ${e.message}`) : e;
      }
    } else if (key === "packet_type") {
      if (!/^(0x)?0+,\s*(0x)?0+$/.test(value)) {
        throw new OfctlError(`packet_type(${value}): udpif sends Ethernet packets only`);
      }
    } else if (!mfByName(key)) {
      throw new OfctlError(`unknown keyword ${key}`);
    } else if (PIPELINE_FIELD.test(key)) {
      throw new OfctlError(`${key}: udpif's packet-out takes no pipeline field but in_port`);
    } else {
      throw new OfctlError(`${key} is not a valid pipeline field for PACKET_OUT`);
    }
  }
  if (!packet) throw new OfctlError("must specify packet");
  return {
    inPort,
    packet,
    actions: actionText === undefined ? [] : parseActions(actionText, names),
  };
}

/**
 * Packet-in messages (ofputil_encode_packet_in_private in OVS's
 * lib/ofp-packet.c), in the three formats a connection may choose with
 * NXT_SET_PACKET_IN_FORMAT: "standard" (OFPT_PACKET_IN as its version
 * lays it out: 1.0's with a 16-bit in_port, 1.3's with table, cookie and
 * an OXM match), "nxt_packet_in" (Nicira's, with an NXM match) and
 * "nxt_packet_in2" (properties). The match is the packet's metadata as
 * flow_get_metadata gives it: in_port always, metadata and registers when
 * not zero. No buffering: buffer_id is always none and the packet goes
 * whole (OVS 3.1 ignores the action's max_len).
 */
import { type Match, matchSetField, mfByName, newMatch } from "../ofproto/mod.ts";
import { WireReader, WireWriter } from "./_buf.ts";
import { encodeHeader } from "./header.ts";
import { finishMessage, OfpError } from "./errors.ts";
import { putNxEntries, putOxmMatch } from "./nx_match.ts";
import {
  NX_VENDOR_ID,
  OFP10_VERSION,
  OFP13_VERSION,
  OFPT_PACKET_IN,
  OFPT_VENDOR,
} from "./types.ts";

export type PacketInFormat = "standard" | "nxt_packet_in" | "nxt_packet_in2";

/** NXT_SET_PACKET_IN_FORMAT's values (enum nx_packet_in_format), in order. */
const FORMATS: readonly PacketInFormat[] = ["standard", "nxt_packet_in", "nxt_packet_in2"];

export const NXT_PACKET_IN = 17;
export const NXT_PACKET_IN2 = 30;

/** ofp_packet_in_reason values, OVS's internal ones included. */
export const OFPR_NO_MATCH = 0;
export const OFPR_ACTION = 1;
export const OFPR_INVALID_TTL = 2;
export const OFPR_EXPLICIT_MISS = 6;
export const OFPR_IMPLICIT_MISS = 7;

const BUFFER_NONE = 0xffffffff;
const COOKIE_NONE = 0xffffffffffffffffn;

/** NXPINT_* property types of NXT_PACKET_IN2 (FULL_LEN is for truncated packets: never here). */
const NXPINT_PACKET = 0;
const NXPINT_TABLE_ID = 3;
const NXPINT_COOKIE = 4;
const NXPINT_REASON = 5;
const NXPINT_METADATA = 6;

/** What a packet-in says (struct ofputil_packet_in without continuation). */
export interface PacketInMessage {
  packet: Uint8Array;
  reason: number;
  tableId: number;
  cookie: bigint;
  /** OpenFlow port (16-bit numbering, e.g. 0xfffe for LOCAL). */
  inPort: number;
  metadata: bigint;
  /** reg0..reg15. */
  regs: Uint32Array;
}

/** The format NXT_SET_PACKET_IN_FORMAT's body asks for; OFPBRC_EPERM for an unknown one. */
export function decodePacketInFormat(msg: Uint8Array): PacketInFormat {
  const r = new WireReader(msg, "OFPBRC_BAD_LEN", 16);
  const f = FORMATS[r.u32()];
  if (!f) throw new OfpError("OFPBRC_EPERM");
  return f;
}

/** encode_packet_in_reason: OVS's internal reasons as each version knows them. */
export function wireReason(reason: number, version: number): number {
  if (reason === OFPR_EXPLICIT_MISS) return version < OFP13_VERSION ? OFPR_ACTION : OFPR_NO_MATCH;
  if (reason === OFPR_IMPLICIT_MISS) return OFPR_NO_MATCH;
  // action_set, group and packet_out are "action" before OpenFlow 1.4.
  if (reason > OFPR_INVALID_TTL) return OFPR_ACTION;
  return reason;
}

/** flow_get_metadata: in_port always, metadata and registers when set. */
function metadataMatch(pin: PacketInMessage): Match {
  const m = newMatch();
  matchSetField(m, mfByName("in_port")!, BigInt(pin.inPort), 0xffffn);
  if (pin.metadata !== 0n) {
    matchSetField(m, mfByName("metadata")!, pin.metadata, 0xffffffffffffffffn);
  }
  for (let i = 0; i < 16; i++) {
    if (pin.regs[i] !== 0) {
      matchSetField(m, mfByName(`reg${i}`)!, BigInt(pin.regs[i]), 0xffffffffn);
    }
  }
  return m;
}

/** The packet-in for a connection of `version` that chose `format`. */
export function encodePacketIn(
  pin: PacketInMessage,
  version: number,
  format: PacketInFormat,
): Uint8Array {
  const w = new WireWriter();
  const reason = wireReason(pin.reason, version);
  const len = pin.packet.length;
  if (format === "nxt_packet_in2") {
    encodeHeader(w, version, OFPT_VENDOR, 0);
    w.u32(NX_VENDOR_ID).u32(NXT_PACKET_IN2);
    prop(w, NXPINT_PACKET, () => w.bytes(pin.packet));
    prop(w, NXPINT_TABLE_ID, () => w.u8(pin.tableId));
    if (pin.cookie !== COOKIE_NONE) prop(w, NXPINT_COOKIE, () => w.zeros(4).u64(pin.cookie));
    prop(w, NXPINT_REASON, () => w.u8(reason));
    prop(w, NXPINT_METADATA, () => putNxEntries(w, metadataMatch(pin), true));
    return finishMessage(w);
  }
  if (format === "nxt_packet_in") {
    encodeHeader(w, version, OFPT_VENDOR, 0);
    w.u32(NX_VENDOR_ID).u32(NXT_PACKET_IN);
    w.u32(BUFFER_NONE).u16(len).u8(reason).u8(pin.tableId).u64(pin.cookie);
    const matchLenAt = w.length;
    w.u16(0).zeros(6);
    w.setU16(matchLenAt, putNxEntries(w, metadataMatch(pin), false));
    w.pad8();
  } else if (version === OFP10_VERSION) {
    encodeHeader(w, version, OFPT_PACKET_IN, 0);
    w.u32(BUFFER_NONE).u16(len).u16(pin.inPort).u8(reason).zeros(1);
    w.bytes(pin.packet);
    return finishMessage(w);
  } else {
    encodeHeader(w, version, OFPT_PACKET_IN, 0);
    w.u32(BUFFER_NONE).u16(len).u8(reason).u8(pin.tableId).u64(pin.cookie);
    putOxmMatch(w, metadataMatch(pin));
  }
  w.zeros(2).bytes(pin.packet);
  return finishMessage(w);
}

/** One property: type, length (header and body, unpadded), body, zeros to 8 bytes. */
function prop(w: WireWriter, type: number, body: () => unknown): void {
  const start = w.length;
  w.u16(type).u16(0);
  body();
  w.setU16(start + 2, w.length - start);
  w.pad8();
}

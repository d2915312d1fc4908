/**
 * What OVS checks of a message before any handler sees it: its version
 * against the connection's (lib/vconn.c vconn_recv) and its length
 * against its type's fixed size (lib/ofp-msgs.c ofpraw_pull: a body of
 * exactly the type's size, or of at least that size plus a multiple of
 * the type's unit). A message that fails gets the OFPT_ERROR OVS sends,
 * and the connection carries on.
 */
import { encodeEchoReply } from "./header.ts";
import { encodeError, OfpError } from "./errors.ts";
import {
  OFP10_VERSION,
  OFP14_VERSION,
  OFP15_VERSION,
  OFPST13_TABLE_FEATURES,
  OFPST_DESC,
  OFPST_PORT,
  OFPST_PORT_DESC,
  OFPST_QUEUE,
  OFPST_TABLE,
  OFPT10_BARRIER_REQUEST,
  OFPT10_PORT_MOD,
  OFPT10_STATS_REQUEST,
  OFPT11_BARRIER_REQUEST,
  OFPT11_PORT_MOD,
  OFPT11_STATS_REQUEST,
  OFPT12_ROLE_REQUEST,
  OFPT_ECHO_REPLY,
  OFPT_ECHO_REQUEST,
  OFPT_ERROR,
  OFPT_FEATURES_REQUEST,
  OFPT_FLOW_MOD,
  OFPT_GET_CONFIG_REQUEST,
  OFPT_HELLO,
  OFPT_PACKET_OUT,
  OFPT_SET_CONFIG,
} from "./types.ts";

/** A body size rule: exactly `min` bytes (unit 0), or `min` plus a multiple of `unit`. */
type Size = readonly [min: number, unit: number];

/** The fixed sizes (after the 8-byte header) of the requests udpif handles, per version family. */
function requestSize(type: number, version: number): Size | undefined {
  const of10 = version === OFP10_VERSION;
  switch (type) {
    case OFPT_FEATURES_REQUEST:
    case OFPT_GET_CONFIG_REQUEST:
      return [0, 0];
    case OFPT_SET_CONFIG:
      return [4, 0];
    case OFPT_ERROR:
      return [4, 1];
    case OFPT_PACKET_OUT:
      return of10 ? [8, 1] : [16, 1];
    case OFPT_FLOW_MOD:
      return of10 ? [64, 8] : [40, 8];
  }
  if (of10) {
    if (type === OFPT10_BARRIER_REQUEST) return [0, 0];
    if (type === OFPT10_PORT_MOD) return [24, 0];
    if (type === OFPT10_STATS_REQUEST) return [4, 1];
    return undefined;
  }
  switch (type) {
    case OFPT11_BARRIER_REQUEST:
      return [0, 0];
    case OFPT11_PORT_MOD:
      // From 1.4 on, properties replace the advertise field.
      return version >= OFP14_VERSION ? [24, 8] : [32, 0];
    case OFPT11_STATS_REQUEST:
      return [8, 1];
    case OFPT12_ROLE_REQUEST:
      return [16, 0];
  }
  return undefined;
}

/** The body sizes of the stats requests whose size is fixed (after the stats header). */
function statsSize(statsType: number, version: number): Size | undefined {
  switch (statsType) {
    case OFPST_PORT_DESC:
      // OpenFlow 1.5 asks for one port (or ANY).
      return version >= OFP15_VERSION ? [8, 0] : [0, 0];
    case OFPST_DESC:
    case OFPST_TABLE:
      return [0, 0];
    case OFPST_PORT:
    case OFPST_QUEUE:
      return [8, 0];
    case OFPST13_TABLE_FEATURES:
      return [0, 8];
  }
  return undefined;
}

function fits(len: number, [min, unit]: Size): boolean {
  return unit === 0 ? len === min : len >= min && (len - min) % unit === 0;
}

/**
 * ofpraw_pull's length check of a request in the connection's `version`:
 * throws OFPBRC_BAD_LEN when the message's size is not its type's.
 * Types without a fixed size are left to their decoders.
 */
export function checkRequestLength(msg: Uint8Array, version: number): void {
  const body = msg.length - 8;
  const size = requestSize(msg[1], version);
  if (size && !fits(body, size)) throw new OfpError("OFPBRC_BAD_LEN");
  const statsRequest = version === OFP10_VERSION ? OFPT10_STATS_REQUEST : OFPT11_STATS_REQUEST;
  if (msg[1] !== statsRequest) return;
  const statsHeader = version === OFP10_VERSION ? 4 : 8;
  const stats = statsSize((msg[8] << 8) | msg[9], version);
  if (stats && !fits(body - statsHeader, stats)) throw new OfpError("OFPBRC_BAD_LEN");
}

/**
 * vconn_recv on a message whose version is not the connection's: an
 * echo request is still answered (in its version), an echo reply taken;
 * a hello or an error reaches the handler, which has nothing to do with
 * either after the handshake (OFPBRC_BAD_TYPE); anything else gets
 * OFPBRC_BAD_VERSION. Each error is in the message's own version.
 */
export function answerOtherVersion(msg: Uint8Array): Uint8Array[] {
  switch (msg[1]) {
    case OFPT_ECHO_REQUEST:
      return [encodeEchoReply(msg)];
    case OFPT_ECHO_REPLY:
      return [];
    case OFPT_HELLO:
    case OFPT_ERROR:
      return [encodeError("OFPBRC_BAD_TYPE", msg[0], msg)];
  }
  return [encodeError("OFPBRC_BAD_VERSION", msg[0], msg)];
}

/**
 * Which asynchronous messages a connection receives (OVS's
 * ofconn_receives_async_msg with struct ofputil_async_cfg, and
 * ofputil_async_cfg_default / decode_async_mask of lib/ofp-connection.c):
 * per message type (packet-in, port-status, flow-removed) a mask of
 * reasons for the primary/equal role and one for the secondary role,
 * OVS's defaults for the connection's version until the controller sets
 * its own with OFPT_SET_ASYNC (1.3) or NXT_SET_ASYNC_CONFIG (1.0).
 *
 * Packet-in reasons use OVS's internal numbering (explicit and implicit
 * miss are bits 6 and 7): a controller enabling "no_match" on the wire
 * gets explicit misses, and before 1.3 implicit ones too.
 *
 * Thread-safety: main thread (owned by one Ofconn).
 */
import { getLogger } from "../lib/mod.ts";
import {
  encodeHeader,
  finishMessage,
  OFP13_VERSION,
  OFPR_EXPLICIT_MISS,
  OFPR_IMPLICIT_MISS,
  OFPR_INVALID_TTL,
  OFPR_NO_MATCH,
  WireReader,
  WireWriter,
} from "../openflow/mod.ts";

const log = getLogger("connmgr");

/** enum ofputil_async_msg_type, in the order the wire's masks come. */
export type AsyncMsgType = "packet_in" | "port_status" | "flow_removed";
const TYPES: readonly AsyncMsgType[] = ["packet_in", "port_status", "flow_removed"];

/** OFPR10_BITS, OFPPR_BITS, OFPRR10_BITS / OFPRR13_BITS: what a 1.0-1.3 mask may hold. */
const ALLOWED: Record<AsyncMsgType, number> = {
  packet_in: 0x7,
  port_status: 0x7,
  flow_removed: 0xf,
};
/** OFPR14_BITS: every "action" refinement of 1.4, which earlier versions send as action. */
const OFPR14_BITS = 0x3f;

export const OFPT13_GET_ASYNC_REQUEST = 26;
export const OFPT13_GET_ASYNC_REPLY = 27;
export const OFPT13_SET_ASYNC = 28;
export const NXT_SET_ASYNC_CONFIG = 19;

export class AsyncConfig {
  readonly primary: Record<AsyncMsgType, number>;
  readonly secondary: Record<AsyncMsgType, number>;

  /** ofputil_async_cfg_default(version). */
  constructor(version: number) {
    let pin = (OFPR14_BITS & ~(1 << OFPR_INVALID_TTL)) | (1 << OFPR_EXPLICIT_MISS);
    if (version < OFP13_VERSION) pin |= 1 << OFPR_IMPLICIT_MISS;
    this.primary = {
      packet_in: pin,
      port_status: 0x7,
      flow_removed: version >= OFP13_VERSION ? 0xf : 0x7,
    };
    this.secondary = { packet_in: 0, port_status: 0x7, flow_removed: 0 };
  }

  /** Whether a connection in `role` gets a `type` message for `reason`. */
  receives(type: AsyncMsgType, reason: number, secondary: boolean): boolean {
    return ((secondary ? this.secondary : this.primary)[type] & (1 << reason)) !== 0;
  }

  /**
   * Applies an ofp13_async_config / nx_async_config body (six masks:
   * packet-in, port-status, flow-removed, each primary then secondary)
   * starting at `offset` of `msg`. Bits a 1.0-1.3 mask cannot hold are
   * dropped with a warning (decode_async_mask's loose mode).
   */
  apply(msg: Uint8Array, offset: number, version: number, name: string): void {
    const r = new WireReader(msg, "OFPBRC_BAD_LEN", offset);
    for (const type of TYPES) {
      for (const masks of [this.primary, this.secondary]) {
        let mask = r.u32();
        if (mask & ~ALLOWED[type]) {
          log.warn(
            `${name}: bad value ${hex(mask)} for ${type} (allowed mask ${hex(ALLOWED[type])})`,
          );
          mask &= ALLOWED[type];
        }
        if (type === "packet_in" && mask & (1 << OFPR_NO_MATCH)) {
          mask |= 1 << OFPR_EXPLICIT_MISS;
          if (version < OFP13_VERSION) mask |= 1 << OFPR_IMPLICIT_MISS;
        }
        masks[type] = mask;
      }
    }
  }

  /** OFPT13_GET_ASYNC_REPLY: the masks as 1.3 can say them. */
  encodeReply(version: number, xid: number): Uint8Array {
    const w = new WireWriter();
    encodeHeader(w, version, OFPT13_GET_ASYNC_REPLY, xid);
    for (const type of TYPES) {
      for (const masks of [this.primary, this.secondary]) w.u32(masks[type] & ALLOWED[type]);
    }
    return finishMessage(w);
  }
}

function hex(n: number): string {
  return `0x${n.toString(16)}`;
}

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
 * `OfconnAsync` is a connection's whole asynchronous side: the messages
 * that configure it (OFPT_SET_ASYNC / GET_ASYNC, NXT_SET_ASYNC_CONFIG,
 * NXT_SET_PACKET_IN_FORMAT, NXT_SET_CONTROLLER_ID) and the packet-in or
 * flow-removed message the connection gets, if any, for an event.
 *
 * Thread-safety: main thread (owned by one Ofconn).
 */
import { getLogger } from "../lib/mod.ts";
import type { Rule, RuleRemovedReason } from "../ofproto/mod.ts";
import {
  decodePacketInFormat,
  encodeFlowRemoved,
  encodeHeader,
  encodePacketIn,
  encodePortStatus,
  finishMessage,
  NX_VENDOR_ID,
  NXT_SET_CONTROLLER_ID,
  NXT_SET_PACKET_IN_FORMAT,
  OFP10_VERSION,
  OFP13_VERSION,
  OFPR_EXPLICIT_MISS,
  OFPR_IMPLICIT_MISS,
  OFPR_INVALID_TTL,
  OFPR_NO_MATCH,
  type PacketInFormat,
  type PortDesc,
  WireReader,
  WireWriter,
} from "../openflow/mod.ts";
import type { PacketIn } from "./packet_in_queue.ts";

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

const REMOVED_REASONS: Record<RuleRemovedReason, number> = { idle: 0, hard: 1, delete: 2 };

/** What the asynchronous side needs to know of its connection. */
export interface AsyncPeer {
  readonly state: string;
  readonly kind: "primary" | "service";
  readonly version: number;
  readonly flowFormat: number;
  readonly role: string;
  readonly config: { missSendLen: number };
}

export class OfconnAsync {
  /** NXT_SET_PACKET_IN_FORMAT; OVS starts every connection on the standard format. */
  packetInFormat: PacketInFormat = "standard";
  /** NXT_SET_CONTROLLER_ID: which `controller(id=N)` actions' packet-ins come here. */
  controllerId = 0;
  /** OFPT_SET_ASYNC's masks; OVS's defaults for the version until set. */
  #config: AsyncConfig | undefined;

  #configFor(version: number): AsyncConfig {
    return (this.#config ??= new AsyncConfig(version));
  }

  /**
   * Handles `msg` if it is one of the messages that configure the
   * asynchronous side (Nicira `subtype` for vendor messages); returns the
   * replies, or undefined for any other message.
   */
  handle(peer: AsyncPeer, name: string, msg: Uint8Array, xid: number): Uint8Array[] | undefined {
    const v = peer.version;
    const type = msg[1];
    if (v !== OFP10_VERSION && type === OFPT13_GET_ASYNC_REQUEST) {
      return [this.#configFor(v).encodeReply(v, xid)];
    }
    if (v !== OFP10_VERSION && type === OFPT13_SET_ASYNC) {
      this.#configFor(v).apply(msg, 8, v, name);
      return [];
    }
    if (type !== 4 || msg.length < 16) return undefined;
    const r = new WireReader(msg, "OFPBRC_BAD_LEN", 8);
    if (r.u32() !== NX_VENDOR_ID) return undefined;
    switch (r.u32()) {
      case NXT_SET_PACKET_IN_FORMAT:
        this.packetInFormat = decodePacketInFormat(msg);
        return [];
      case NXT_SET_CONTROLLER_ID:
        r.skip(6);
        this.controllerId = r.u16();
        return [];
      case NXT_SET_ASYNC_CONFIG:
        this.#configFor(v).apply(msg, 16, v, name);
        return [];
    }
    return undefined;
  }

  /** ofconn_receives_async_msg. */
  #receives(peer: AsyncPeer, type: AsyncMsgType, reason: number): boolean {
    if (peer.state !== "active") return false;
    if (peer.kind === "service" && peer.config.missSendLen === 0) return false;
    return this.#configFor(peer.version).receives(type, reason, peer.role === "secondary");
  }

  /** The packet-in `peer` gets for `pin`, if any (connmgr_send_async_msg). */
  packetIn(peer: AsyncPeer, pin: PacketIn): Uint8Array | undefined {
    if (pin.controllerId !== this.controllerId) return undefined;
    if (!this.#receives(peer, "packet_in", pin.reason)) return undefined;
    return encodePacketIn(pin, peer.version, this.packetInFormat);
  }

  /** The flow-removed message `peer` gets for `rule`, if any. */
  flowRemoved(
    peer: AsyncPeer,
    rule: Rule,
    reason: RuleRemovedReason,
    nowMs: number,
  ): Uint8Array | undefined {
    if (!this.#receives(peer, "flow_removed", REMOVED_REASONS[reason])) return undefined;
    return encodeFlowRemoved(rule, reason, nowMs, peer.version, peer.flowFormat);
  }

  /** The port status `peer` gets for `port`, if any (connmgr_send_port_status). */
  portStatus(peer: AsyncPeer, reason: number, port: PortDesc): Uint8Array | undefined {
    if (!this.#receives(peer, "port_status", reason)) return undefined;
    return encodePortStatus(reason, port, peer.version);
  }

  /**
   * update_want_packet_in_on_miss: a controller connection with
   * controller id 0 that speaks OpenFlow before 1.3 (or has not said yet)
   * wants table misses. Service connections (br0.mgmt, ovs-ofctl's
   * one-shot commands) do not count here, unlike OVS, so that an
   * ovs-ofctl command never changes what a packet's miss does.
   */
  wantsMiss(peer: AsyncPeer): boolean {
    if (peer.kind !== "primary" || peer.state === "closed" || this.controllerId !== 0) return false;
    return peer.version === 0 || peer.version < OFP13_VERSION;
  }
}

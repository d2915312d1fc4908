/**
 * One OpenFlow connection's protocol (OVS's ofproto/connmgr.c ofconn and
 * the request handlers of ofproto.c's handle_openflow): version
 * negotiation by hello, then each request answered in order. What a
 * connection remembers: its version, the Nicira flow format and whether
 * the flow_mod_table_id extension is on, its switch config
 * (miss_send_len), packet-in format, controller id and asynchronous
 * message config (ofconn_async.ts). Requests reach the bridge only through `OfSwitch`, so
 * a rule added here is exactly one added by `udpif ofctl`. A bad request
 * gets the OFPT_ERROR OVS sends and the connection carries on; only a
 * failed hello, or a message before it, ends the connection.
 *
 * Thread-safety: main thread (it changes the master OpenFlow tables).
 */
import { coverageCounter, getLogger } from "../lib/mod.ts";
import { OfctlError, type Rule, type RuleRemovedReason } from "../ofproto/mod.ts";
import { RoleElection } from "./role_election.ts";
import { OfconnAsync } from "./ofconn_async.ts";
import type { PacketIn } from "./packet_in_queue.ts";
import { decodeGroupMod, decodeGroupMod15, NXT_GROUP_MOD } from "./ofconn_groups.ts";
import { answerStats } from "./ofconn_stats.ts";
import type { OfSwitch } from "./of_switch.ts";
import {
  answerOtherVersion,
  checkRequestLength,
  type ControllerRole,
  decodeFlowMod,
  decodeHeader,
  decodePacketOut,
  decodePortMod,
  decodeRoleRequest,
  decodeSetConfig,
  encodeBarrierReply,
  encodeEchoReply,
  encodeError,
  encodeFeaturesReply,
  encodeGetConfigReply,
  encodeHello,
  encodeRoleReply,
  helloVersions,
  negotiateVersion,
  NX_VENDOR_ID,
  NXFF_NXM,
  NXFF_OPENFLOW10,
  NXT_FLOW_MOD,
  NXT_FLOW_MOD_TABLE_ID,
  NXT_ROLE_REQUEST,
  NXT_SET_FLOW_FORMAT,
  OFP10_VERSION,
  OFP13_VERSION,
  OFP14_VERSION,
  OFP15_VERSION,
  OfpError,
  type OfpErrorName,
  OFPPR_MODIFY,
  OFPT10_BARRIER_REQUEST,
  OFPT10_PORT_MOD,
  OFPT10_STATS_REQUEST,
  OFPT11_BARRIER_REQUEST,
  OFPT11_GROUP_MOD,
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
  OFPT_VENDOR,
  type PortDesc,
  type SwitchConfig,
  WireReader,
} from "../openflow/mod.ts";

const log = getLogger("connmgr");
const covRecv = coverageCounter("ofconn_recv");
const covError = coverageCounter("ofconn_error");

/** The versions udpif offers in its hello. */
export const SUPPORTED_VERSIONS: ReadonlySet<number> = new Set([
  OFP10_VERSION,
  OFP13_VERSION,
  OFP14_VERSION,
  OFP15_VERSION,
]);

/** OVS's miss_send_len for controllers; service connections (br0.mgmt) get 0. */
export const OFP_DEFAULT_MISS_SEND_LEN = 128;

export type OfconnState = "hello-wait" | "active" | "closed";

const TRANSITIONS: Record<OfconnState, readonly OfconnState[]> = {
  "hello-wait": ["active", "closed"],
  active: ["closed"],
  closed: [],
};

/** Whether the connection is a controller's (primary) or a service one (br0.mgmt). */
export type OfconnKind = "primary" | "service";

export class Ofconn {
  state: OfconnState = "hello-wait";
  version = 0;
  /** True while this connection's own port-mod runs (portStatus). */
  #portModding = false;
  flowFormat = NXFF_OPENFLOW10;
  tableIdExtension = false;
  config: SwitchConfig;
  /** The controller role (OFPT_ROLE_REQUEST); equal until asked otherwise. */
  role: Exclude<ControllerRole, "nochange"> = "equal";
  /** Packet-in format, controller id, async config (ofconn_async.ts). */
  readonly async = new OfconnAsync();
  private xid = 1;

  constructor(
    readonly name: string,
    private readonly sw: OfSwitch,
    readonly kind: OfconnKind,
    private readonly election = new RoleElection(),
  ) {
    this.config = { flags: 0, missSendLen: kind === "primary" ? OFP_DEFAULT_MISS_SEND_LEN : 0 };
    election.members.add(this);
  }

  private setState(to: OfconnState): void {
    if (!TRANSITIONS[this.state].includes(to)) {
      log.warn(`${this.name}: refused ofconn transition ${this.state} -> ${to}`);
      return;
    }
    this.state = to;
  }

  /** The hello to send when the connection opens. */
  hello(): Uint8Array {
    return encodeHello(SUPPORTED_VERSIONS, this.xid++);
  }

  /** Answers one framed message; the connection ends when `state` is "closed" after. */
  receive(msg: Uint8Array): Uint8Array[] {
    covRecv.inc();
    const h = decodeHeader(msg);
    if (this.state === "hello-wait") {
      if (h.type !== OFPT_HELLO) {
        log.warn(`${this.name}: message type ${h.type} before hello, closing`);
        this.setState("closed");
        return [];
      }
      const version = negotiateVersion(SUPPORTED_VERSIONS, helloVersions(msg));
      if (version === undefined) {
        log.warn(`${this.name}: version negotiation failed (peer offers ${h.version})`);
        this.setState("closed");
        return [encodeError("OFPHFC_INCOMPATIBLE", h.version, msg)];
      }
      this.version = version;
      this.setState("active");
      log.info(
        `${this.name}: negotiated OpenFlow version 0x${version.toString(16).padStart(2, "0")}`,
      );
      return [];
    }
    if (h.version !== this.version) return answerOtherVersion(msg);
    try {
      checkRequestLength(msg, this.version);
      return this.dispatch(h.type, h.xid, msg);
    } catch (e) {
      if (e instanceof OfpError) return [this.error(e.errorName, msg)];
      if (e instanceof OfctlError) return [this.error(wireErrorOf(e), msg)];
      throw e;
    }
  }

  private error(name: OfpErrorName, msg: Uint8Array): Uint8Array {
    covError.inc();
    log.debug(`${this.name}: sending ${name}`);
    return encodeError(name, this.version, msg);
  }

  private dispatch(type: number, xid: number, msg: Uint8Array): Uint8Array[] {
    const v = this.version;
    const asyncReplies = this.async.handle(this, this.name, msg, xid);
    if (asyncReplies) return asyncReplies;
    switch (type) {
      case OFPT_ECHO_REPLY:
        return [];
      case OFPT_ERROR:
        log.info(`${this.name}: received an error from the peer`);
        // As OVS: after the handshake neither has a handler (OFPBRC_BAD_TYPE below).
        break;
      case OFPT_ECHO_REQUEST:
        return [encodeEchoReply(msg)];
      case OFPT_FEATURES_REQUEST:
        return [encodeFeaturesReply(this.sw.features(), v, xid)];
      case OFPT_GET_CONFIG_REQUEST:
        return [encodeGetConfigReply(this.config, v, xid)];
      case OFPT_SET_CONFIG: {
        const { flags, missSendLen } = decodeSetConfig(msg);
        // Fragment handling is the switch's: translation treats fragments
        // "normal"ly only, so other modes are refused with a warning, as
        // OVS's handle_set_config does for modes its datapath lacks.
        if (flags !== 0) log.warn(`${this.name}: unsupported fragment handling mode ${flags}`);
        this.config = { flags: 0, missSendLen };
        return [];
      }
      case OFPT_FLOW_MOD:
        this.changesSwitch();
        this.sw.flowMod(decodeFlowMod(msg, this.flowModContext()));
        return [];
      case OFPT_PACKET_OUT:
        this.changesSwitch();
        this.sw.packetOut(decodePacketOut(msg, v));
        return [];
      case OFPT_VENDOR:
        return this.vendor(msg);
    }
    if (v !== OFP10_VERSION && type === OFPT11_GROUP_MOD) {
      this.changesSwitch();
      this.sw.groupMod(decodeGroupMod(msg, v));
      return [];
    }
    if (v !== OFP10_VERSION && type === OFPT12_ROLE_REQUEST) {
      return this.roleRequest(xid, msg, false);
    }
    if (v === OFP10_VERSION ? type === OFPT10_PORT_MOD : type === OFPT11_PORT_MOD) {
      this.changesSwitch();
      this.#portModding = true;
      try {
        this.sw.portMod(decodePortMod(msg, v));
      } finally {
        this.#portModding = false;
      }
      return [];
    }
    if (v === OFP10_VERSION ? type === OFPT10_BARRIER_REQUEST : type === OFPT11_BARRIER_REQUEST) {
      return [encodeBarrierReply(v, xid)];
    }
    if (v === OFP10_VERSION ? type === OFPT10_STATS_REQUEST : type === OFPT11_STATS_REQUEST) {
      return answerStats(this.sw, v, xid, msg);
    }
    throw new OfpError("OFPBRC_BAD_TYPE");
  }

  private flowModContext() {
    return { version: this.version, tableIdExtension: this.tableIdExtension };
  }

  /** Nicira extension messages (vendor 0x2320). */
  private vendor(msg: Uint8Array): Uint8Array[] {
    const r = new WireReader(msg, "OFPBRC_BAD_LEN", 8);
    if (r.u32() !== NX_VENDOR_ID) throw new OfpError("OFPBRC_BAD_VENDOR");
    const subtype = r.u32();
    switch (subtype) {
      case NXT_SET_FLOW_FORMAT: {
        const format = r.u32();
        if (format !== NXFF_OPENFLOW10 && format !== NXFF_NXM) throw new OfpError("OFPBRC_EPERM");
        this.flowFormat = format;
        return [];
      }
      case NXT_FLOW_MOD_TABLE_ID:
        this.tableIdExtension = r.u8() !== 0;
        return [];
      case NXT_ROLE_REQUEST:
        if (this.version !== OFP10_VERSION) break;
        return this.roleRequest(decodeHeader(msg).xid, msg, true);
      case NXT_FLOW_MOD:
        if (this.version !== OFP10_VERSION) break;
        this.changesSwitch();
        this.sw.flowMod(decodeFlowMod(msg, this.flowModContext(), true));
        return [];
      case NXT_GROUP_MOD:
        if (this.version !== OFP10_VERSION) break;
        this.changesSwitch();
        this.sw.groupMod(decodeGroupMod15(msg, this.version));
        return [];
    }
    throw new OfpError("OFPBRC_BAD_SUBTYPE");
  }

  close(): void {
    if (this.state !== "closed") this.setState("closed");
    this.election.members.delete(this);
  }

  /**
   * The flow-removed message this connection gets for `rule`, if any
   * (ofconn_receives_async_msg): primary and equal controllers do by
   * default; a service connection (br0.mgmt) only after asking with a
   * nonzero miss_send_len, as `ovs-ofctl monitor` does.
   */
  flowRemoved(rule: Rule, reason: RuleRemovedReason, nowMs: number): Uint8Array | undefined {
    return this.async.flowRemoved(this, rule, reason, nowMs);
  }

  /**
   * The port status this connection gets, if any. Before OpenFlow 1.5 the
   * sender of a port-mod gets none for it, as OVS's connmgr_send_port_status
   * keeps a relic of the one-controller days.
   */
  portStatus(reason: number, port: PortDesc): Uint8Array | undefined {
    if (this.#portModding && reason === OFPPR_MODIFY && this.version < OFP15_VERSION) {
      return undefined;
    }
    return this.async.portStatus(this, reason, port);
  }

  packetIn(pin: PacketIn): Uint8Array | undefined {
    return this.async.packetIn(this, pin);
  }

  wantsMissPacketIns(): boolean {
    return this.async.wantsMiss(this);
  }

  /** reject_secondary_controller: a secondary may only read. */
  private changesSwitch(): void {
    if (this.role === "secondary") throw new OfpError("OFPBRC_IS_SLAVE");
  }

  /** handle_role_request: the role asked for (checked against the election id), then the reply. */
  private roleRequest(xid: number, msg: Uint8Array, nx: boolean): Uint8Array[] {
    const req = decodeRoleRequest(msg, nx);
    if (req.role !== "nochange") {
      if (req.generationId !== undefined && !this.election.setElectionId(req.generationId)) {
        throw new OfpError("OFPRRFC_STALE");
      }
      this.election.setRole(this, req.role);
    }
    return [encodeRoleReply(this.version, xid, this.role, this.election.electionId)];
  }
}

/** The OpenFlow error for a table change ofproto refused (named in its message). */
function wireErrorOf(e: OfctlError): OfpErrorName {
  const named = /\((OFP[A-Z_]+)\)|^(OFP[A-Z_]+)$/.exec(e.message);
  const name = named?.[1] ?? named?.[2];
  switch (name) {
    case "OFPFMFC_OVERLAP":
    case "OFPBAC_MATCH_INCONSISTENT":
    case "OFPBAC_BAD_OUT_PORT":
    case "OFPBAC_BAD_OUT_GROUP":
      return name;
  }
  return "OFPBRC_EPERM";
}

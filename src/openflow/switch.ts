/**
 * The switch's description of itself (OVS's lib/ofp-switch.c, ofp-port.c,
 * ofp-table.c): features reply, switch config (get/set), description
 * stats, port descriptions (in the OpenFlow 1.0 features reply and the
 * port-desc stats; from 1.4 on with an Ethernet property), port stats
 * (from 1.4 on with properties too), table stats for `ovs-ofctl
 * dump-tables`, and port status messages.
 */
import { WireReader, WireWriter } from "./_buf.ts";
import { encodeHeader } from "./header.ts";
import { finishMessage } from "./errors.ts";
import { portFromOf11, portToOf11 } from "./port_number.ts";
import { oxmFieldList } from "./nx_match.ts";
import type { StatsReplyBuilder } from "./flow_stats.ts";
import {
  OFP10_VERSION,
  OFP14_VERSION,
  OFPT_FEATURES_REPLY,
  OFPT_GET_CONFIG_REPLY,
  OFPT_PORT_STATUS,
} from "./types.ts";

export interface PortDesc {
  /** OpenFlow 1.0 numbering (LOCAL is 0xfffe). */
  portNo: number;
  name: string;
  hwAddr: bigint;
  /** OFPPC_* bits (port down: 1, no flood: 0x10 in OpenFlow 1.0). */
  config: number;
  /** OFPPS_LINK_DOWN (1) when down; OpenFlow 1.3 adds LIVE (4) when up. */
  linkDown: boolean;
}

export interface SwitchFeatures {
  datapathId: bigint;
  nTables: number;
  ports: readonly PortDesc[];
}

/** OFPC_FLOW_STATS, TABLE_STATS, PORT_STATS, QUEUE_STATS, ARP_MATCH_IP. */
const CAPABILITIES10 = 0xc7;
/** OFPC_FLOW_STATS, TABLE_STATS, PORT_STATS, GROUP_STATS, QUEUE_STATS. */
const CAPABILITIES13 = 0x4f;
/** Every OpenFlow 1.0 action from output to enqueue. */
const ACTIONS10 = 0xfff;
const OFPPS_LINK_DOWN = 1;
/** OpenFlow 1.4's port description and port stats property for Ethernet. */
const OFPPDPT14_ETHERNET = 0;
const OFPPS11_LIVE = 4;

function putPort10(w: WireWriter, p: PortDesc): void {
  w.u16(p.portNo).uint(p.hwAddr, 6).str(p.name, 16);
  w.u32(p.config).u32(p.linkDown ? OFPPS_LINK_DOWN : 0).zeros(16);
}

function putPort13(w: WireWriter, p: PortDesc): void {
  w.u32(portToOf11(p.portNo)).zeros(4).uint(p.hwAddr, 6).zeros(2).str(p.name, 16);
  w.u32(p.config).u32(p.linkDown ? OFPPS_LINK_DOWN : OFPPS11_LIVE).zeros(24);
}

/** ofp14_port: the 1.3 fields, a length, and the Ethernet property (all speeds 0, as OVS's dummies). */
function putPort14(w: WireWriter, p: PortDesc): void {
  w.u32(portToOf11(p.portNo)).u16(72).zeros(2).uint(p.hwAddr, 6).zeros(2).str(p.name, 16);
  w.u32(p.config).u32(p.linkDown ? OFPPS_LINK_DOWN : OFPPS11_LIVE);
  w.u16(OFPPDPT14_ETHERNET).u16(32).zeros(4).zeros(24);
}

export function encodeFeaturesReply(f: SwitchFeatures, version: number, xid: number): Uint8Array {
  const w = new WireWriter();
  encodeHeader(w, version, OFPT_FEATURES_REPLY, xid);
  w.u64(f.datapathId).u32(0).u8(f.nTables);
  if (version === OFP10_VERSION) {
    w.zeros(3).u32(CAPABILITIES10).u32(ACTIONS10);
    for (const p of f.ports) putPort10(w, p);
  } else {
    w.u8(0).zeros(2).u32(CAPABILITIES13).u32(0);
  }
  return finishMessage(w);
}

/** OFPPR_*: why a port status was sent. */
export const OFPPR_ADD = 0;
export const OFPPR_DELETE = 1;
export const OFPPR_MODIFY = 2;

/** OFPT_PORT_STATUS (ofputil_encode_port_status): the reason and the port as `version` describes it. */
export function encodePortStatus(reason: number, p: PortDesc, version: number): Uint8Array {
  const w = new WireWriter();
  encodeHeader(w, version, OFPT_PORT_STATUS, 0);
  w.u8(reason).zeros(7);
  if (version === OFP10_VERSION) putPort10(w, p);
  else if (version >= OFP14_VERSION) putPort14(w, p);
  else putPort13(w, p);
  return finishMessage(w);
}

/** Port descriptions for a port-desc stats reply. */
export function putPortDescs(b: StatsReplyBuilder, ports: readonly PortDesc[], version: number) {
  for (const p of ports) {
    b.add((w) =>
      version === OFP10_VERSION
        ? putPort10(w, p)
        : version >= OFP14_VERSION
        ? putPort14(w, p)
        : putPort13(w, p)
    );
  }
}

export interface SwitchConfig {
  /** OFPC_FRAG_* (0: normal). */
  flags: number;
  missSendLen: number;
}

export function encodeGetConfigReply(c: SwitchConfig, version: number, xid: number): Uint8Array {
  const w = new WireWriter();
  encodeHeader(w, version, OFPT_GET_CONFIG_REPLY, xid);
  w.u16(c.flags).u16(c.missSendLen);
  return finishMessage(w);
}

export function decodeSetConfig(msg: Uint8Array): SwitchConfig {
  const r = new WireReader(msg, "OFPBRC_BAD_LEN", 8);
  return { flags: r.u16() & 3, missSendLen: r.u16() };
}

export interface DescStats {
  manufacturer: string;
  hardware: string;
  software: string;
  serial: string;
  datapath: string;
}

export function putDescStats(w: WireWriter, d: DescStats): void {
  w.str(d.manufacturer, 256).str(d.hardware, 256).str(d.software, 256).str(d.serial, 32);
  w.str(d.datapath, 256);
}

export interface TableStats {
  tableId: number;
  activeCount: number;
  lookupCount: bigint;
  matchedCount: bigint;
}

/** OFPFW10_ALL: the OpenFlow 1.0 fields every table can wildcard. */
const WILDCARDS10 = 0x3fffff;
/** OVS's default (and udpif's) table size limit, reported as max_entries. */
const MAX_ENTRIES = 1_000_000;

export function putTableStats(w: WireWriter, t: TableStats, version: number): void {
  if (version === OFP10_VERSION) {
    w.u8(t.tableId).zeros(3).zeros(32).u32(WILDCARDS10).u32(MAX_ENTRIES);
    w.u32(t.activeCount).u64(t.lookupCount).u64(t.matchedCount);
  } else {
    w.u8(t.tableId).zeros(3).u32(t.activeCount).u64(t.lookupCount).u64(t.matchedCount);
  }
}

/** Table-features property types (OFPTFPT13_*) OVS requires in a reply. */
const TFPT_INSTRUCTIONS = 0;
const TFPT_NEXT_TABLES = 2;
const TFPT_WRITE_ACTIONS = 4;
const TFPT_APPLY_ACTIONS = 6;
const TFPT_MATCH = 8;
const TFPT_WILDCARDS = 10;
const TFPT_WRITE_SETFIELD = 12;
const TFPT_APPLY_SETFIELD = 14;
/** The instructions udpif runs: GOTO_TABLE, WRITE_METADATA, APPLY_ACTIONS. */
const INSTRUCTIONS = [1, 2, 4];
/** The OpenFlow 1.3 actions actions.ts decodes (Nicira ones are not listed, as in OVS). */
const APPLY_ACTIONS = [0, 17, 18, 21, 23, 24, 25];

function property(w: WireWriter, type: number, put: (w: WireWriter) => void): void {
  const start = w.length;
  w.u16(type).u16(0);
  put(w);
  w.setU16(start + 2, w.length - start);
  w.pad8();
}

/**
 * A table's features (ofputil_append_table_features): its number, no
 * name, every metadata bit matchable and writable, the table size, and
 * the eight properties ovs-ofctl requires: the instructions and apply
 * actions udpif runs, the tables after this one, the OXM fields it
 * matches (all maskable ones as wildcards) and can set. udpif has no
 * write-actions instruction, so those two lists are empty.
 */
export function putTableFeatures(w: WireWriter, tableId: number, nTables: number): void {
  const start = w.length;
  w.u16(0).u8(tableId).zeros(5).zeros(32);
  w.u64((1n << 64n) - 1n).u64((1n << 64n) - 1n).u32(0).u32(MAX_ENTRIES);
  const fields = oxmFieldList();
  property(w, TFPT_INSTRUCTIONS, (p) => INSTRUCTIONS.forEach((t) => p.u16(t).u16(4)));
  property(w, TFPT_NEXT_TABLES, (p) => {
    for (let t = tableId + 1; t < nTables; t++) p.u8(t);
  });
  property(w, TFPT_WRITE_ACTIONS, () => {});
  property(w, TFPT_APPLY_ACTIONS, (p) => APPLY_ACTIONS.forEach((t) => p.u16(t).u16(4)));
  property(w, TFPT_MATCH, (p) => fields.forEach((f) => p.u32(f.header)));
  property(w, TFPT_WILDCARDS, (p) => fields.forEach((f) => f.maskable && p.u32(f.header)));
  property(w, TFPT_WRITE_SETFIELD, () => {});
  property(w, TFPT_APPLY_SETFIELD, (p) => fields.forEach((f) => f.writable && p.u32(f.header)));
  w.setU16(start, w.length - start);
}

/** OFPPC_PORT_DOWN, and OpenFlow 1.0's OFPPC_NO_FLOOD (gone from 1.1 on). */
export const OFPPC_PORT_DOWN = 0x1;
export const OFPPC10_NO_FLOOD = 0x10;

export interface PortMod {
  portNo: number;
  hwAddr: bigint;
  /** The OFPPC_* bits to set, among those in `mask`. */
  config: number;
  mask: number;
}

/** OFPT_PORT_MOD (ofputil_decode_port_mod): the port, its address, config bits to change. */
export function decodePortMod(msg: Uint8Array, version: number): PortMod {
  const r = new WireReader(msg, "OFPBRC_BAD_LEN", 8);
  let portNo: number;
  if (version === OFP10_VERSION) portNo = r.u16();
  else {
    portNo = portFromOf11(r.u32());
    r.skip(4);
  }
  const hwAddr = r.uint(6);
  if (version !== OFP10_VERSION) r.skip(2);
  const config = r.u32();
  const mask = r.u32();
  // Before 1.4 an advertise field follows; from 1.4 on, properties (the
  // Ethernet advertise one), which udpif's ports have nothing to do with.
  if (version < OFP14_VERSION) r.skip(8);
  // Bits a version does not define are ignored, as OVS does.
  const known = OFPPC_PORT_DOWN | (version === OFP10_VERSION ? OFPPC10_NO_FLOOD : 0);
  return { portNo, hwAddr, config: config & mask & known, mask: mask & known };
}

/** A port's counters; those udpif does not keep are sent as all-ones ("?"), as OVS does. */
export interface PortStats {
  portNo: number;
  rxPackets: number;
  rxBytes: number;
  txPackets: number;
  txBytes: number;
  /** Since the port was created (OpenFlow 1.3 only). */
  durationMs: number;
}

const UNKNOWN64 = (1n << 64n) - 1n;

/** The port a port-stats request names; undefined for all of them (NONE in 1.0, ANY in 1.3). */
export function decodePortStatsRequest(msg: Uint8Array, version: number): number | undefined {
  const r = new WireReader(msg, "OFPBRC_BAD_LEN", version === OFP10_VERSION ? 12 : 16);
  if (version === OFP10_VERSION) {
    const port = r.u16();
    return port === 0xffff ? undefined : port;
  }
  const port = r.u32();
  return port === 0xffffffff ? undefined : portFromOf11(port);
}

/** One ofp_port_stats entry (ofputil_append_port_stat). */
export function putPortStats(w: WireWriter, s: PortStats, version: number): void {
  if (version >= OFP14_VERSION) {
    // ofp14_port_stats: length, port, duration, the counters, then the
    // Ethernet property with its four error counters unknown.
    w.u16(120).zeros(2).u32(portToOf11(s.portNo));
    w.u32(Math.floor(s.durationMs / 1000)).u32((s.durationMs % 1000) * 1_000_000);
    w.u64(BigInt(s.rxPackets)).u64(BigInt(s.txPackets));
    w.u64(BigInt(s.rxBytes)).u64(BigInt(s.txBytes));
    for (let i = 0; i < 4; i++) w.u64(UNKNOWN64);
    w.u16(OFPPDPT14_ETHERNET).u16(40).zeros(4);
    for (let i = 0; i < 4; i++) w.u64(UNKNOWN64);
    return;
  }
  if (version === OFP10_VERSION) w.u16(s.portNo).zeros(6);
  else w.u32(portToOf11(s.portNo)).zeros(4);
  w.u64(BigInt(s.rxPackets)).u64(BigInt(s.txPackets)).u64(BigInt(s.rxBytes)).u64(BigInt(s.txBytes));
  for (let i = 0; i < 8; i++) w.u64(UNKNOWN64);
  if (version !== OFP10_VERSION) {
    w.u32(Math.floor(s.durationMs / 1000)).u32((s.durationMs % 1000) * 1_000_000);
  }
}

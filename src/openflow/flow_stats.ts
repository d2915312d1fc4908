/**
 * Flow statistics (OVS's lib/ofp-flow.c): the requests, as OpenFlow 1.0
 * connections send them through Nicira's NXST_FLOW and NXST_AGGREGATE
 * (NXM match, out_port, table) and as OpenFlow 1.3 sends OFPMP_FLOW and
 * OFPMP_AGGREGATE (cookie and mask, OXM match), decoded into the loose
 * filter ofproto selects rules with (OpenFlow 1.4 and 1.5 ask as 1.3
 * does); and the replies, one entry per rule with ages, timeouts,
 * counters, match and actions (in OpenFlow 1.5 an ofp15_flow_desc with
 * the counters as OXS stats), split over several messages (the "more"
 * flag) when they outgrow one.
 */
import { type FlowMod, newMatch, OFPP_NONE, type Rule } from "../ofproto/mod.ts";
import { WireReader, WireWriter } from "./_buf.ts";
import { pullNxEntries, pullOxmMatch, putNxEntries, putOxmMatch } from "./nx_match.ts";
import { putActions10, putInstructions } from "./actions.ts";
import { portFromOf11 } from "./port_number.ts";
import { encodeHeader } from "./header.ts";
import { OfpError } from "./errors.ts";
import { putOxsStats } from "./oxs.ts";
import {
  NX_VENDOR_ID,
  OFP10_VERSION,
  OFP15_VERSION,
  OFPP11_ANY,
  OFPST_VENDOR,
  OFPT10_STATS_REPLY,
  OFPT11_STATS_REPLY,
  OFPTT_ALL,
} from "./types.ts";

/** Bytes of the stats header before the body: OF1.0 vendor stats, OF1.3 multipart. */
export const NX_STATS_HEADER_LEN = 24;
export const OF13_STATS_HEADER_LEN = 16;
const MAX_MESSAGE = 0xffff;
const OFPSF_REPLY_MORE = 1;

function filter(
  tableId: number,
  outPort: number | undefined,
  match: FlowMod["match"],
  cookie: bigint,
  cookieMask: bigint,
): FlowMod {
  return {
    command: "delete",
    strict: false,
    match,
    priority: 0,
    tableId: tableId === OFPTT_ALL ? undefined : tableId,
    cookie,
    cookieMask,
    newCookie: undefined,
    idleTimeout: 0,
    hardTimeout: 0,
    actions: undefined,
    outPort,
    flags: 0,
  };
}

/**
 * The body of a flow or aggregate stats request (NXST over OpenFlow 1.0,
 * multipart over 1.3): the rule filter it names.
 */
export function decodeFlowStatsRequest(msg: Uint8Array, version: number): FlowMod {
  if (version === OFP10_VERSION) {
    const r = new WireReader(msg, "OFPBRC_BAD_LEN", NX_STATS_HEADER_LEN);
    const outPort = r.u16();
    const matchLen = r.u16();
    const tableId = r.u8();
    r.skip(3);
    const m = pullNxEntries(r, matchLen);
    return filter(
      tableId,
      outPort === OFPP_NONE ? undefined : outPort,
      m.match,
      m.cookie,
      m.cookieMask,
    );
  }
  const r = new WireReader(msg, "OFPBRC_BAD_LEN", OF13_STATS_HEADER_LEN);
  const tableId = r.u8();
  r.skip(3);
  const outPort = r.u32();
  r.skip(8);
  const cookie = r.u64();
  const cookieMask = r.u64();
  const m = pullOxmMatch(r);
  return filter(
    tableId,
    outPort === OFPP11_ANY ? undefined : portFromOf11(outPort),
    m.match ?? newMatch(),
    cookie,
    cookieMask,
  );
}

/** Builds stats replies, starting a new message when one would overflow. */
export class StatsReplyBuilder {
  private readonly done: Uint8Array[] = [];
  private cur: WireWriter;

  constructor(
    private readonly version: number,
    private readonly xid: number,
    private readonly statsType: number,
    /** For OpenFlow 1.0 Nicira stats: the NXST subtype. */
    private readonly nxSubtype?: number,
  ) {
    this.cur = this.start();
  }

  private start(): WireWriter {
    const w = new WireWriter();
    if (this.version === OFP10_VERSION) {
      encodeHeader(w, this.version, OFPT10_STATS_REPLY, this.xid);
      if (this.nxSubtype !== undefined) {
        w.u16(OFPST_VENDOR).u16(0).u32(NX_VENDOR_ID).u32(this.nxSubtype).zeros(4);
      } else w.u16(this.statsType).u16(0);
    } else {
      encodeHeader(w, this.version, OFPT11_STATS_REPLY, this.xid);
      w.u16(this.statsType).u16(0).zeros(4);
    }
    return w;
  }

  /** Adds one entry written by `put` into a scratch writer. */
  add(put: (w: WireWriter) => void): void {
    const entry = new WireWriter();
    put(entry);
    if (this.cur.length + entry.length > MAX_MESSAGE) {
      if (entry.length + NX_STATS_HEADER_LEN > MAX_MESSAGE) throw new OfpError("OFPBRC_BAD_LEN");
      this.cur.setU16(10, OFPSF_REPLY_MORE);
      this.cur.setU16(2, this.cur.length);
      this.done.push(this.cur.finish());
      this.cur = this.start();
    }
    this.cur.bytes(entry.finish());
  }

  finish(): Uint8Array[] {
    this.cur.setU16(2, this.cur.length);
    return [...this.done, this.cur.finish()];
  }
}

/** Seconds for an age field: OVS's age_secs, capped to 16 bits by the caller. */
const ageSecs = (ms: number) => Math.max(0, Math.floor(ms / 1000));
const age16 = (ms: number) => Math.min(0xffff, ageSecs(ms) + 1);

/** One flow stats entry for `rule` in the connection's version. */
export function putFlowStats(w: WireWriter, rule: Rule, version: number, nowMs: number): void {
  const start = w.length;
  const durationMs = Math.max(0, Math.floor(nowMs - rule.createdMs));
  if (version >= OFP15_VERSION) {
    // ofp15_flow_desc: no counters in the fixed part; they follow the match as OXS.
    w.u16(0).zeros(2).u8(rule.tableId).u8(0);
    w.u16(rule.priority).u16(rule.idleTimeout).u16(rule.hardTimeout);
    w.u16(rule.flags & 0x1f).u16(0).u64(rule.cookie);
    putOxmMatch(w, rule.match);
    putOxsStats(w, {
      durationMs,
      idleSecs: ageSecs(nowMs - rule.usedMs),
      packets: BigInt(rule.nPackets),
      bytes: BigInt(rule.nBytes),
    });
    putInstructions(w, rule.actions, version, rule.match);
    w.setU16(start, w.length - start);
    return;
  }
  w.u16(0).u8(rule.tableId).u8(0);
  w.u32(Math.floor(durationMs / 1000)).u32((durationMs % 1000) * 1_000_000);
  w.u16(rule.priority).u16(rule.idleTimeout).u16(rule.hardTimeout);
  if (version === OFP10_VERSION) {
    const matchLenAt = w.length;
    w.u16(0);
    w.u16(age16(nowMs - rule.usedMs)).u16(age16(nowMs - rule.modifiedMs));
    w.u64(rule.cookie).u64(BigInt(rule.nPackets)).u64(BigInt(rule.nBytes));
    w.setU16(matchLenAt, putNxEntries(w, rule.match, false));
    w.pad8();
    putActions10(w, rule.actions, rule.match);
  } else {
    w.u16(rule.flags & 0x1f).zeros(4);
    w.u64(rule.cookie).u64(BigInt(rule.nPackets)).u64(BigInt(rule.nBytes));
    putOxmMatch(w, rule.match);
    putInstructions(w, rule.actions, version, rule.match);
  }
  w.setU16(start, w.length - start);
}

/** The aggregate reply body: packets, bytes and flows of the selected rules. */
export function putAggregate(w: WireWriter, rules: readonly Rule[], version: number): void {
  let packets = 0n, bytes = 0n;
  for (const r of rules) {
    packets += BigInt(r.nPackets);
    bytes += BigInt(r.nBytes);
  }
  if (version >= OFP15_VERSION) putOxsStats(w, { packets, bytes, flows: rules.length });
  else w.u64(packets).u64(bytes).u32(rules.length).zeros(4);
}

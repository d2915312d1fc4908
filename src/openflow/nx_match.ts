/**
 * NXM and OXM matches (OVS's lib/nx-match.c): a match as a sequence of
 * type-length-value entries, each a 32-bit header (class, field, has-mask,
 * length), the value and, when masked, the mask. NXM is what OpenFlow 1.0
 * connections use through Nicira's extensions (NXT_FLOW_MOD, NXST_FLOW);
 * OXM is the same encoding standardised in OpenFlow 1.2+, wrapped in an
 * ofp_match (type OFPMT_OXM, length, entries, padding to 8 bytes).
 *
 * Decoding (nx_pull_raw) accepts every header of either family that
 * names a field udpif keeps, refuses unknown or duplicated fields with
 * OVS's errors, and leaves the match as ovs-ofctl's parser builds it
 * (ICMP type/code in all 16 bits of tp_src/tp_dst, VLAN PCP with the
 * present bit). Encoding (nx_put_raw) writes the fields the match
 * constrains whose prerequisites hold, in NXM or OXM spelling.
 */
import { bytesOf, F, getUint } from "../flow/mod.ts";
import {
  ctFieldLackingPrereq,
  type Match,
  matchSetField,
  matchSetIpv6Label,
  mfByName,
  type MfField,
  mfGet,
  newMatch,
  normalizeMatch,
  prereqOk,
} from "../ofproto/mod.ts";
import { OfpError } from "./errors.ts";
import { WireReader, WireWriter } from "./_buf.ts";
import { portFromOf11, portToOf11 } from "./port_number.ts";

const NXM0 = 0x0000;
const NXM1 = 0x0001;
const OXM = 0x8000;

/** One wire field: its header's class and field number, value length, udpif field. */
interface WireField {
  cls: number;
  field: number;
  len: number;
  mf: string;
}

const wf = (cls: number, field: number, len: number, mf: string): WireField => ({
  cls,
  field,
  len,
  mf,
});

/** Connection tracking fields, NXM in both families, after pkt_mark. */
const CT_FIELDS: WireField[] = [
  wf(NXM1, 105, 4, "ct_state"),
  wf(NXM1, 106, 2, "ct_zone"),
  wf(NXM1, 107, 4, "ct_mark"),
  wf(NXM1, 108, 16, "ct_label"),
  wf(NXM1, 120, 4, "ct_nw_src"),
  wf(NXM1, 122, 16, "ct_ipv6_src"),
  wf(NXM1, 121, 4, "ct_nw_dst"),
  wf(NXM1, 123, 16, "ct_ipv6_dst"),
  wf(NXM1, 119, 1, "ct_nw_proto"),
  wf(NXM1, 124, 2, "ct_tp_src"),
  wf(NXM1, 125, 2, "ct_tp_dst"),
];

/** NXM fields in the order nx_put_raw writes them over OpenFlow 1.0. */
const NXM_FIELDS: WireField[] = [
  wf(NXM0, 0, 2, "in_port"),
  wf(NXM0, 1, 6, "eth_dst"),
  wf(NXM0, 2, 6, "eth_src"),
  wf(NXM0, 3, 2, "eth_type"),
  wf(NXM0, 4, 2, "vlan_tci"),
  wf(NXM0, 5, 1, "nw_tos"),
  wf(NXM1, 28, 1, "nw_ecn"),
  wf(NXM1, 29, 1, "nw_ttl"),
  wf(NXM1, 26, 1, "ip_frag"),
  wf(NXM0, 6, 1, "nw_proto"),
  wf(NXM0, 7, 4, "ip_src"),
  wf(NXM0, 8, 4, "ip_dst"),
  wf(NXM1, 19, 16, "ipv6_src"),
  wf(NXM1, 20, 16, "ipv6_dst"),
  wf(NXM1, 27, 4, "ipv6_label"),
  wf(NXM0, 9, 2, "tcp_src"),
  wf(NXM0, 10, 2, "tcp_dst"),
  wf(NXM1, 34, 2, "tcp_flags"),
  wf(NXM0, 11, 2, "udp_src"),
  wf(NXM0, 12, 2, "udp_dst"),
  wf(OXM, 17, 2, "sctp_src"),
  wf(OXM, 18, 2, "sctp_dst"),
  wf(NXM0, 13, 1, "icmp_type"),
  wf(NXM0, 14, 1, "icmp_code"),
  wf(NXM1, 21, 1, "icmpv6_type"),
  wf(NXM1, 22, 1, "icmpv6_code"),
  wf(NXM1, 23, 16, "nd_target"),
  wf(NXM1, 24, 6, "nd_sll"),
  wf(NXM1, 25, 6, "nd_tll"),
  wf(NXM0, 15, 2, "arp_op"),
  wf(NXM0, 16, 4, "arp_spa"),
  wf(NXM0, 17, 4, "arp_tpa"),
  wf(NXM1, 17, 6, "arp_sha"),
  wf(NXM1, 18, 6, "arp_tha"),
  ...Array.from({ length: 16 }, (_, i) => wf(NXM1, i, 4, `reg${i}`)),
  wf(NXM1, 33, 4, "pkt_mark"),
  ...CT_FIELDS,
  wf(OXM, 2, 8, "metadata"),
];

/** OXM fields (OpenFlow 1.2+), NXM where OpenFlow has no OXM for the field. */
const OXM_FIELDS: WireField[] = [
  wf(OXM, 0, 4, "in_port"),
  wf(OXM, 3, 6, "eth_dst"),
  wf(OXM, 4, 6, "eth_src"),
  wf(OXM, 5, 2, "eth_type"),
  wf(OXM, 6, 2, "vlan_vid"),
  wf(OXM, 7, 1, "vlan_pcp"),
  wf(OXM, 8, 1, "ip_dscp"),
  wf(OXM, 9, 1, "nw_ecn"),
  wf(NXM1, 29, 1, "nw_ttl"),
  wf(NXM1, 26, 1, "ip_frag"),
  wf(OXM, 10, 1, "nw_proto"),
  wf(OXM, 11, 4, "ip_src"),
  wf(OXM, 12, 4, "ip_dst"),
  wf(OXM, 26, 16, "ipv6_src"),
  wf(OXM, 27, 16, "ipv6_dst"),
  wf(OXM, 28, 4, "ipv6_label"),
  wf(OXM, 13, 2, "tcp_src"),
  wf(OXM, 14, 2, "tcp_dst"),
  wf(NXM1, 34, 2, "tcp_flags"),
  wf(OXM, 15, 2, "udp_src"),
  wf(OXM, 16, 2, "udp_dst"),
  wf(OXM, 17, 2, "sctp_src"),
  wf(OXM, 18, 2, "sctp_dst"),
  wf(OXM, 19, 1, "icmp_type"),
  wf(OXM, 20, 1, "icmp_code"),
  wf(OXM, 29, 1, "icmpv6_type"),
  wf(OXM, 30, 1, "icmpv6_code"),
  wf(OXM, 31, 16, "nd_target"),
  wf(OXM, 32, 6, "nd_sll"),
  wf(OXM, 33, 6, "nd_tll"),
  wf(OXM, 21, 2, "arp_op"),
  wf(OXM, 22, 4, "arp_spa"),
  wf(OXM, 23, 4, "arp_tpa"),
  wf(OXM, 24, 6, "arp_sha"),
  wf(OXM, 25, 6, "arp_tha"),
  ...Array.from({ length: 16 }, (_, i) => wf(NXM1, i, 4, `reg${i}`)),
  wf(NXM1, 33, 4, "pkt_mark"),
  ...CT_FIELDS,
  // Last, as nx_put_raw puts it (after registers and marks), in OXM as in NXM.
  wf(OXM, 2, 8, "metadata"),
];

/** OXM_OF_PACKET_TYPE: only Ethernet (0) exists in udpif. */
const PACKET_TYPE = wf(OXM, 44, 4, "packet_type");
/** NXM_NX_COOKIE: the cookie and mask of an NXT_FLOW_MOD or NXST request. */
const COOKIE = wf(NXM1, 30, 8, "cookie");

const headerKey = (cls: number, field: number) => cls * 128 + field;
const byHeader = new Map<number, WireField>();
for (const f of [...NXM_FIELDS, ...OXM_FIELDS, PACKET_TYPE, COOKIE]) {
  byHeader.set(headerKey(f.cls, f.field), f);
}
const byMf = (list: WireField[]) => new Map(list.map((f) => [f.mf, f]));
const NXM_BY_MF = byMf(NXM_FIELDS);
const OXM_BY_MF = byMf(OXM_FIELDS);

/** The 32-bit header naming `mf` (as load, move and set_field carry it). */
export function fieldHeader(mf: string, oxm: boolean): number | undefined {
  const f = (oxm ? OXM_BY_MF : NXM_BY_MF).get(mf) ?? NXM_BY_MF.get(mf) ?? OXM_BY_MF.get(mf);
  return f ? ((f.cls << 16) | (f.field << 9) | f.len) >>> 0 : undefined;
}

/** The udpif field a 32-bit header names (for load, move, set_field). */
export function fieldOfHeader(header: number): { mf: MfField; len: number } | undefined {
  const f = byHeader.get(headerKey(header >>> 16, (header >>> 9) & 0x7f));
  const mf = f ? mfByName(f.mf) : undefined;
  return f && mf && (header & 0xff) === f.len * ((header >>> 8) & 1 ? 2 : 1)
    ? { mf, len: f.len }
    : undefined;
}

/** Every OXM field udpif matches on: its header, and whether it takes a mask and a set_field. */
export function oxmFieldList(): { header: number; maskable: boolean; writable: boolean }[] {
  return OXM_FIELDS.map((f) => {
    const mf = mfByName(f.mf)!;
    return {
      header: ((f.cls << 16) | (f.field << 9) | f.len) >>> 0,
      maskable: mf.maskable,
      writable: mf.writable,
    };
  });
}

const TP_SRC = mfByName("tcp_src")!;
const TP_DST = mfByName("tcp_dst")!;
const VLAN_TCI = mfByName("vlan_tci")!;

/** Stores one decoded entry the way ovs-ofctl's parser would have. */
function setEntry(m: Match, f: WireField, value: bigint, mask: bigint): void {
  const fl = mfByName(f.mf)!;
  const full = (1n << BigInt(fl.nBits)) - 1n;
  // A value wider than the field (a VLAN PCP of 9) is refused; in_port's
  // OXM form is 32 bits and converted below.
  if (f.mf !== "in_port" && (value & ~full) !== 0n) throw new OfpError("OFPBMC_BAD_VALUE");
  switch (f.mf) {
    case "in_port": {
      const port = f.cls === OXM ? portFromOf11(Number(value)) : Number(value);
      matchSetField(m, fl, BigInt(port), full);
      return;
    }
    case "icmp_type":
    case "icmpv6_type":
      matchSetField(m, TP_SRC, value, 0xffffn);
      return;
    case "icmp_code":
    case "icmpv6_code":
      matchSetField(m, TP_DST, value, 0xffffn);
      return;
    case "vlan_pcp":
      matchSetField(m, VLAN_TCI, (value << 13n) | 0x1000n, 0xf000n, 0xf000n);
      return;
    case "nw_tos":
      matchSetField(m, fl, value & 0xfcn, mask & 0xfcn);
      return;
    case "ipv6_label":
      matchSetIpv6Label(m, value, mask);
      return;
  }
  matchSetField(m, fl, value, mask & full);
}

export interface PulledMatch {
  match: Match;
  cookie: bigint;
  cookieMask: bigint;
}

/** nx_pull_raw: `len` bytes of NXM/OXM entries from `r`. */
export function pullNxEntries(r: WireReader, len: number): PulledMatch {
  // A match longer than what is left of the message is the match's error.
  if (len > r.remaining) throw new OfpError("OFPBMC_BAD_LEN");
  const body = r.sub(len, "OFPBMC_BAD_LEN");
  const out: PulledMatch = { match: newMatch(), cookie: 0n, cookieMask: 0n };
  const seen = new Set<WireField>();
  while (body.remaining > 0) {
    const header = body.u32();
    const cls = header >>> 16;
    const hasMask = ((header >>> 8) & 1) === 1;
    const payload = header & 0xff;
    const f = byHeader.get(headerKey(cls, (header >>> 9) & 0x7f));
    if (!f) throw new OfpError("OFPBMC_BAD_FIELD");
    if (payload !== f.len * (hasMask ? 2 : 1)) throw new OfpError("OFPBMC_BAD_LEN");
    const value = body.uint(f.len);
    const full = (1n << BigInt(8 * f.len)) - 1n;
    const mask = hasMask ? body.uint(f.len) : full;
    if (seen.has(f)) throw new OfpError("OFPBMC_DUP_FIELD");
    seen.add(f);
    if (f === COOKIE) {
      out.cookie = value;
      out.cookieMask = mask;
    } else if (f === PACKET_TYPE) {
      if (value !== 0n) throw new OfpError("OFPBMC_BAD_VALUE");
    } else {
      setEntry(out.match, f, value, mask);
    }
  }
  normalizeMatch(out.match);
  if (ctFieldLackingPrereq(out.match)) throw new OfpError("OFPBMC_BAD_PREREQ");
  return out;
}

/** An OpenFlow 1.1+ ofp_match of type OXM (ofputil_pull_ofp11_match). */
export function pullOxmMatch(r: WireReader): PulledMatch {
  const type = r.u16();
  const len = r.u16();
  if (type !== 1) throw new OfpError("OFPBMC_BAD_TYPE");
  if (len < 4) throw new OfpError("OFPBMC_BAD_LEN");
  const m = pullNxEntries(r, len - 4);
  r.skip((8 - (len % 8)) % 8);
  return m;
}

function putEntry(w: WireWriter, f: WireField, value: bigint, mask: bigint): void {
  const full = (1n << BigInt(8 * f.len)) - 1n;
  const masked = (mask & full) !== full;
  w.u32(
    ((f.cls << 16) | (f.field << 9) | ((masked ? 1 : 0) << 8) | (f.len * (masked ? 2 : 1))) >>> 0,
  );
  w.uint(value & mask & full, f.len);
  if (masked) w.uint(mask, f.len);
}

/**
 * nx_put_raw: the match's constrained fields as NXM (`oxm` false) or OXM
 * entries, plus the cookie entry when `cookieMask` is not 0. Returns the
 * number of bytes written.
 */
export function putNxEntries(
  w: WireWriter,
  m: Match,
  oxm: boolean,
  cookie = 0n,
  cookieMask = 0n,
): number {
  const start = w.length;
  const k = bytesOf(m.key);
  for (const f of oxm ? OXM_FIELDS : NXM_FIELDS) {
    const fl = mfByName(f.mf)!;
    if (!prereqOk(fl.prereq, k)) continue;
    let mask = mfGet(fl, m.mask);
    let value = mfGet(fl, m.key);
    if (mask === 0n) continue;
    const full = (1n << BigInt(fl.nBits)) - 1n;
    switch (f.mf) {
      case "in_port":
        if (f.cls === OXM) value = BigInt(portToOf11(Number(value)));
        mask = (1n << BigInt(8 * f.len)) - 1n;
        break;
      case "nw_tos":
        mask &= 0xfcn;
        value &= 0xfcn;
        if (!mask) continue;
        mask = 0xffn;
        break;
      case "vlan_vid":
        mask &= 0x1fffn;
        if (!mask) continue;
        break;
      case "vlan_pcp":
        if (!(getUint(k, F.vlan0_tci.off, 2) & 0x1000)) continue;
        break;
      case "ipv6_label":
        // All 32 bits of OVS's label field: a wide mask goes out as stored.
        mask = BigInt(getUint(bytesOf(m.mask), F.ipv6_label.off, 4));
        value = BigInt(getUint(k, F.ipv6_label.off, 4));
        break;
      case "icmp_type":
      case "icmp_code":
      case "icmpv6_type":
      case "icmpv6_code":
      case "eth_type":
      case "nw_proto":
      case "ip_dscp":
        mask = (1n << BigInt(8 * f.len)) - 1n;
        break;
      default:
        if (mask === full) mask = (1n << BigInt(8 * f.len)) - 1n;
    }
    putEntry(w, f, value, mask);
  }
  if (cookieMask) putEntry(w, COOKIE, cookie, cookieMask);
  return w.length - start;
}

/** An OXM ofp_match: type 1, length, entries, zeros to 8 bytes. */
export function putOxmMatch(w: WireWriter, m: Match): void {
  const start = w.length;
  w.u16(1).u16(0);
  const n = putNxEntries(w, m, true);
  w.setU16(start + 2, 4 + n);
  w.pad8();
}

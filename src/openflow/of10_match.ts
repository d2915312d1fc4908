/**
 * The OpenFlow 1.0 ofp_match (ofputil_match_from_ofp10_match and back,
 * ofputil_match_to_ofp10_match): 40 bytes,
 * a wildcards word, then fixed fields; IPv4 addresses wildcard by CIDR
 * bit counts. The switch normalises it (fields without their
 * prerequisites dropped), as OVS does for OFPT_FLOW_MOD.
 */
import type { FlowKey } from "../flow/mod.ts";
import {
  type Match,
  matchSetField,
  mfByName,
  mfGet,
  newMatch,
  normalizeMatch,
} from "../ofproto/mod.ts";
import type { WireReader, WireWriter } from "./_buf.ts";

const FW_IN_PORT = 1 << 0;
const FW_DL_VLAN = 1 << 1;
const FW_DL_SRC = 1 << 2;
const FW_DL_DST = 1 << 3;
const FW_DL_TYPE = 1 << 4;
const FW_NW_PROTO = 1 << 5;
const FW_TP_SRC = 1 << 6;
const FW_TP_DST = 1 << 7;
const FW_NW_SRC_SHIFT = 8;
const FW_NW_DST_SHIFT = 14;
const FW_DL_VLAN_PCP = 1 << 20;
const FW_NW_TOS = 1 << 21;
/** Every wildcard bit: a match with none of them set is an exact match. */
export const OFPFW10_ALL = (1 << 22) - 1;
const OFP_VLAN_NONE = 0xffff;

const mf = (name: string) => mfByName(name)!;

function cidrMask(wildcards: number, shift: number): bigint {
  const n = (wildcards >>> shift) & 0x3f;
  return n >= 32 ? 0n : (0xffffffffn << BigInt(n)) & 0xffffffffn;
}

export interface Of10Match {
  match: Match;
  wildcards: number;
}

export function pullOf10Match(r: WireReader): Of10Match {
  const w = r.u32();
  const inPort = r.u16();
  const dlSrc = r.uint(6);
  const dlDst = r.uint(6);
  const vid = r.u16();
  const pcp = r.u8();
  r.skip(1);
  const dlType = r.u16();
  const tos = r.u8();
  const proto = r.u8();
  r.skip(2);
  const nwSrc = r.uint(4);
  const nwDst = r.uint(4);
  const tpSrc = r.uint(2);
  const tpDst = r.uint(2);
  const m = newMatch();
  const exact = (name: string, value: bigint) => {
    const fl = mf(name);
    matchSetField(m, fl, value, (1n << BigInt(fl.nBits)) - 1n);
  };
  if (!(w & FW_IN_PORT)) exact("in_port", BigInt(inPort));
  if (!(w & FW_DL_SRC)) exact("eth_src", dlSrc);
  if (!(w & FW_DL_DST)) exact("eth_dst", dlDst);
  if (!(w & FW_DL_TYPE)) exact("eth_type", BigInt(dlType));
  const tci = mf("vlan_tci");
  if (!(w & FW_DL_VLAN)) {
    if (vid === OFP_VLAN_NONE) matchSetField(m, tci, 0n, 0xffffn);
    else {
      matchSetField(m, tci, BigInt((vid & 0xfff) | 0x1000), 0x1fffn);
      if (!(w & FW_DL_VLAN_PCP)) matchSetField(m, tci, BigInt((pcp & 7) << 13), 0xe000n);
    }
  } else if (!(w & FW_DL_VLAN_PCP)) {
    matchSetField(m, tci, BigInt(((pcp & 7) << 13) | 0x1000), 0xf000n);
  }
  if (!(w & FW_NW_TOS)) matchSetField(m, mf("nw_tos"), BigInt(tos & 0xfc), 0xfcn);
  if (!(w & FW_NW_PROTO)) exact("nw_proto", BigInt(proto));
  const srcMask = cidrMask(w, FW_NW_SRC_SHIFT);
  if (srcMask) matchSetField(m, mf("ip_src"), nwSrc, srcMask);
  const dstMask = cidrMask(w, FW_NW_DST_SHIFT);
  if (dstMask) matchSetField(m, mf("ip_dst"), nwDst, dstMask);
  if (!(w & FW_TP_SRC)) exact("tcp_src", tpSrc);
  if (!(w & FW_TP_DST)) exact("tcp_dst", tpDst);
  normalizeMatch(m);
  return { match: m, wildcards: w };
}

/** A prefix mask's CIDR wildcard count (32: fully wildcarded). */
function cidrBits(mask: bigint): number {
  let n = 0;
  while (n < 32 && !((mask >> BigInt(n)) & 1n)) n++;
  return n;
}

/**
 * ofputil_match_to_ofp10_match: the match as an ofp_match. Only what
 * OpenFlow 1.0 can express is written (a rule added over NXM may match
 * more; OVS drops the rest the same way).
 */
export function putOf10Match(w: WireWriter, m: Match): void {
  const get = (name: string, key: FlowKey) => mfGet(mf(name), key);
  const exact = (name: string) => {
    const fl = mf(name);
    return get(name, m.mask) === (1n << BigInt(fl.nBits)) - 1n;
  };
  let wc = OFPFW10_ALL & ~((0x3f << FW_NW_SRC_SHIFT) | (0x3f << FW_NW_DST_SHIFT));
  if (exact("in_port")) wc &= ~FW_IN_PORT;
  if (exact("eth_src")) wc &= ~FW_DL_SRC;
  if (exact("eth_dst")) wc &= ~FW_DL_DST;
  if (exact("eth_type")) wc &= ~FW_DL_TYPE;
  const tciMask = Number(get("vlan_tci", m.mask));
  const tci = Number(get("vlan_tci", m.key));
  let vid = 0, pcp = 0;
  if ((tciMask & 0x1fff) === 0x1fff) {
    wc &= ~FW_DL_VLAN;
    vid = tci & 0x1000 ? tci & 0xfff : OFP_VLAN_NONE;
  }
  if ((tciMask & 0xe000) === 0xe000 && tci & 0x1000) {
    wc &= ~FW_DL_VLAN_PCP;
    pcp = (tci >> 13) & 7;
  }
  if ((get("nw_tos", m.mask) & 0xfcn) === 0xfcn) wc &= ~FW_NW_TOS;
  if (exact("nw_proto")) wc &= ~FW_NW_PROTO;
  const srcMask = get("ip_src", m.mask);
  const dstMask = get("ip_dst", m.mask);
  wc |= cidrBits(srcMask) << FW_NW_SRC_SHIFT;
  wc |= cidrBits(dstMask) << FW_NW_DST_SHIFT;
  if (exact("tcp_src")) wc &= ~FW_TP_SRC;
  if (exact("tcp_dst")) wc &= ~FW_TP_DST;
  w.u32(wc >>> 0).u16(Number(get("in_port", m.key)));
  w.uint(get("eth_src", m.key), 6).uint(get("eth_dst", m.key), 6);
  w.u16(vid).u8(pcp).zeros(1).u16(Number(get("eth_type", m.key)));
  w.u8(Number(get("nw_tos", m.key) & 0xfcn)).u8(Number(get("nw_proto", m.key))).zeros(2);
  w.uint(get("ip_src", m.key) & srcMask, 4).uint(get("ip_dst", m.key) & dstMask, 4);
  w.u16(Number(get("tcp_src", m.key))).u16(Number(get("tcp_dst", m.key)));
}

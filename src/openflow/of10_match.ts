/**
 * The OpenFlow 1.0 ofp_match (ofputil_match_from_ofp10_match): 40 bytes,
 * a wildcards word, then fixed fields; IPv4 addresses wildcard by CIDR
 * bit counts. The switch normalises it (fields without their
 * prerequisites dropped), as OVS does for OFPT_FLOW_MOD.
 */
import { type Match, matchSetField, mfByName, newMatch, normalizeMatch } from "../ofproto/mod.ts";
import type { WireReader } from "./_buf.ts";

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

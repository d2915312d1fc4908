/**
 * A match printed as `ovs-ofctl dump-flows` prints it (match_format): the
 * same field order, the same protocol shorthands, the same number bases.
 */
import {
  bytesOf,
  F,
  FLOW_MAX_VLAN_HEADERS,
  formatTcpFlagsMasked,
  getUint,
  VLAN_CFI,
  vlanOffset,
} from "../flow/mod.ts";
import type { Match } from "./match.ts";
import {
  ETH_TYPE_ARP,
  ETH_TYPE_IP,
  ETH_TYPE_IPV6,
  ETH_TYPE_RARP,
  IPPROTO_ICMP,
  IPPROTO_ICMPV6,
  IPPROTO_SCTP,
  IPPROTO_TCP,
  IPPROTO_UDP,
} from "./meta_flow.ts";
import { formatPort } from "./field_value.ts";
import { be16Masked, ipMasked, ipv6Masked, macMasked } from "./_masked_format.ts";
import { formatCtMatch } from "./ct_match_format.ts";

/** OFP_DEFAULT_PRIORITY: not printed. */
export const DEFAULT_PRIORITY = 0x8000;

function readBig(b: Uint8Array, off: number, n: number): bigint {
  let v = 0n;
  for (let i = 0; i < n; i++) v = (v << 8n) | BigInt(b[off + i]);
  return v;
}

/** C's `%#x`: 0 prints as "0", anything else with a 0x prefix. */
const altHex = (v: bigint | number): string => (v ? `0x${v.toString(16)}` : "0");

/**
 * The match part of a flow, with `priority=` first unless it is the
 * default; `portNames` prints in_port by name (ovs-ofctl --names).
 */
export function formatMatch(
  match: Match,
  priority: number,
  portNames?: ReadonlyMap<number, string>,
): string {
  const k = bytesOf(match.key);
  const w = bytesOf(match.mask);
  const out: string[] = [];
  const u8 = (off: number, b: Uint8Array) => b[off];
  const u16 = (off: number, b: Uint8Array) => getUint(b, off, 2);
  const u32 = (off: number, b: Uint8Array) => getUint(b, off, 4);

  if (priority !== DEFAULT_PRIORITY) out.push(`priority=${priority}`);
  const pktMarkMask = u32(F.pkt_mark.off, w);
  if (pktMarkMask) {
    const v = u32(F.pkt_mark.off, k);
    out.push(
      `pkt_mark=${altHex(v)}` + (pktMarkMask !== 0xffffffff ? `/${altHex(pktMarkMask)}` : ""),
    );
  }
  // recirc_id is matched only by megaflows, which also print their packet type.
  const isMegaflow = u32(F.recirc_id.off, w) !== 0;
  if (isMegaflow) {
    const id = u32(F.recirc_id.off, k);
    const m = u32(F.recirc_id.off, w);
    out.push(`recirc_id=${altHex(id)}` + (m !== 0xffffffff ? `/${altHex(m)}` : ""));
  }
  formatCtMatch(k, w, out);
  if (isMegaflow && u32(F.packet_type.off, w) === 0xffffffff && !u32(F.packet_type.off, k)) {
    out.push("eth");
  }

  const dlType = u16(F.dl_type.off, k);
  const dlTypeMasked = u16(F.dl_type.off, w) !== 0;
  const proto = u8(F.nw_proto.off, k);
  const protoMasked = u8(F.nw_proto.off, w) !== 0;
  let skipType = false;
  let skipProto = false;
  if (dlTypeMasked) {
    skipType = true;
    const l4 = (names: Record<number, string>, plain: string) => {
      if (protoMasked && names[proto]) {
        skipProto = true;
        out.push(names[proto]);
      } else {
        out.push(plain);
      }
    };
    if (dlType === ETH_TYPE_IP) {
      l4({
        [IPPROTO_ICMP]: "icmp",
        [IPPROTO_TCP]: "tcp",
        [IPPROTO_UDP]: "udp",
        [IPPROTO_SCTP]: "sctp",
      }, "ip");
    } else if (dlType === ETH_TYPE_IPV6) {
      l4({
        [IPPROTO_ICMPV6]: "icmp6",
        [IPPROTO_TCP]: "tcp6",
        [IPPROTO_UDP]: "udp6",
        [IPPROTO_SCTP]: "sctp6",
      }, "ipv6");
    } else if (dlType === ETH_TYPE_ARP) {
      out.push("arp");
    } else if (dlType === ETH_TYPE_RARP) {
      out.push("rarp");
    } else {
      skipType = false;
    }
  }

  for (let i = 0; i < 16; i++) {
    const off = F.regs.off + 4 * i;
    const m = u32(off, w);
    if (!m) continue;
    const v = u32(off, k);
    out.push(`reg${i}=${altHex(v)}` + (m !== 0xffffffff ? `/${altHex(m)}` : ""));
  }
  const mdMask = readBig(w, F.metadata.off, 8);
  if (mdMask) {
    const v = readBig(k, F.metadata.off, 8);
    out.push(`metadata=${altHex(v)}` + (mdMask !== (1n << 64n) - 1n ? `/${altHex(mdMask)}` : ""));
  }
  if (u32(F.in_port.off, w)) out.push(`in_port=${formatPort(u32(F.in_port.off, k), portNames)}`);

  // VLAN headers outermost first, up to the first one not matched on:
  // dl_vlan, dl_vlan1, ... (vlan_tci, vlan_tci1, ... when not printable so).
  for (let i = 0; i < FLOW_MAX_VLAN_HEADERS; i++) {
    const n = i === 0 ? "" : String(i);
    const tciMask = u16(vlanOffset(i) + 2, w);
    if (!tciMask) break;
    const tci = u16(vlanOffset(i) + 2, k);
    const vidMask = tciMask & 0x0fff;
    const pcpMask = tciMask & 0xe000;
    const hex4 = (v: number) => `0x${v.toString(16).padStart(4, "0")}`;
    if (
      tciMask & VLAN_CFI && tci & VLAN_CFI &&
      (vidMask === 0 || vidMask === 0x0fff) && (pcpMask === 0 || pcpMask === 0xe000) &&
      (vidMask || pcpMask)
    ) {
      if (vidMask) out.push(`dl_vlan${n}=${tci & 0x0fff}`);
      if (pcpMask) out.push(`dl_vlan_pcp${n}=${tci >> 13}`);
    } else if (tciMask === 0xffff) {
      out.push(`vlan_tci${n}=${hex4(tci)}`);
    } else {
      out.push(`vlan_tci${n}=${hex4(tci)}/${hex4(tciMask)}`);
    }
  }

  const mac = (name: string, off: number) => {
    const m = readBig(w, off, 6);
    if (m) out.push(`${name}=${macMasked(readBig(k, off, 6), m)}`);
  };
  const ip4 = (name: string, off: number) => {
    const m = readBig(w, off, 4);
    if (m) out.push(`${name}=${ipMasked(readBig(k, off, 4), m)}`);
  };
  const ip6 = (name: string, off: number) => {
    const m = readBig(w, off, 16);
    if (m) out.push(`${name}=${ipv6Masked(readBig(k, off, 16), m)}`);
  };
  const be16 = (name: string, off: number) => {
    const m = u16(off, w);
    if (m) out.push(`${name}=${be16Masked(u16(off, k), m)}`);
  };

  mac("dl_src", F.dl_src.off);
  mac("dl_dst", F.dl_dst.off);
  if (!skipType && dlTypeMasked) out.push(`dl_type=0x${dlType.toString(16).padStart(4, "0")}`);

  const isArp = dlType === ETH_TYPE_ARP || dlType === ETH_TYPE_RARP;
  if (dlType === ETH_TYPE_IPV6) {
    ip6("ipv6_src", F.ipv6_src.off);
    ip6("ipv6_dst", F.ipv6_dst.off);
    const lm = u32(F.ipv6_label.off, w);
    if (lm) {
      const hex5 = (x: number) => `0x${x.toString(16).padStart(5, "0")}`;
      const lv = u32(F.ipv6_label.off, k);
      out.push(`ipv6_label=${hex5(lv)}` + (lm === 0xffffffff ? "" : `/${hex5(lm)}`));
    }
  } else if (isArp) {
    ip4("arp_spa", F.nw_src.off);
    ip4("arp_tpa", F.nw_dst.off);
  } else {
    ip4("nw_src", F.nw_src.off);
    ip4("nw_dst", F.nw_dst.off);
  }
  if (!skipProto && protoMasked) out.push(`${isArp ? "arp_op" : "nw_proto"}=${proto}`);
  if (isArp) {
    mac("arp_sha", F.arp_sha.off);
    mac("arp_tha", F.arp_tha.off);
  }
  const tosMask = u8(F.nw_tos.off, w);
  const tos = u8(F.nw_tos.off, k);
  if (tosMask & 0xfc) out.push(`nw_tos=${tos & 0xfc}`);
  if (tosMask & 0x03) out.push(`nw_ecn=${tos & 0x03}`);
  if (u8(F.nw_ttl.off, w)) out.push(`nw_ttl=${u8(F.nw_ttl.off, k)}`);

  const fragMask = u8(F.nw_frag.off, w) & 3;
  const frag = u8(F.nw_frag.off, k);
  if (fragMask === 3) {
    out.push(
      `nw_frag=${frag & 1 ? (frag & 2 ? "later" : "first") : (frag & 2 ? "<error>" : "no")}`,
    );
  } else if (fragMask === 1) {
    out.push(`nw_frag=${frag & 1 ? "yes" : "no"}`);
  } else if (fragMask === 2) {
    out.push(`nw_frag=${frag & 2 ? "later" : "not_later"}`);
  }

  if (dlType === ETH_TYPE_IP && proto === IPPROTO_ICMP) {
    be16("icmp_type", F.tp_src.off);
    be16("icmp_code", F.tp_dst.off);
  } else if (dlType === ETH_TYPE_IPV6 && proto === IPPROTO_ICMPV6) {
    be16("icmp_type", F.tp_src.off);
    be16("icmp_code", F.tp_dst.off);
    ip6("nd_target", F.nd_target.off);
    mac("nd_sll", F.arp_sha.off);
    mac("nd_tll", F.arp_tha.off);
  } else {
    be16("tp_src", F.tp_src.off);
    be16("tp_dst", F.tp_dst.off);
  }
  const flagsMask = u16(F.tcp_flags.off, w) & 0x0fff;
  if ((dlType === ETH_TYPE_IP || dlType === ETH_TYPE_IPV6) && proto === IPPROTO_TCP && flagsMask) {
    out.push(`tcp_flags=${formatTcpFlagsMasked(u16(F.tcp_flags.off, k) & 0x0fff, flagsMask)}`);
  }
  return out.join(",");
}

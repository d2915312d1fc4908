/**
 * How well a datapath key given as text fits what its own fields call for,
 * the way OVS's odp_flow_key_to_flow / odp_flow_key_to_mask judge a
 * netlink key (lib/odp-util.c: odp_flow_key_to_flow__, parse_ethertype,
 * parse_l2_5_onward, parse_8021q_onward, check_expectations).
 *
 * Each attribute the key's Ethertype and IP protocol call for is
 * "expected": `eth_type(0x0806)` expects `arp()`, `proto=6` expects
 * `tcp()`. A key missing one is TOO_LITTLE, one carrying another is
 * TOO_MUCH, one whose fields contradict each other is ERROR with OVS's
 * message. A mask is judged against its key the same way. dpif-netdev
 * refuses any key or mask that is not PERFECT (EINVAL); netdev-dummy/receive
 * refuses only ERROR and builds its packet from the expected attributes.
 */
import type { FlowKey } from "./key.ts";
import { bytesOf } from "./key.ts";
import { F, FRAG_LATER, PT_ETH, VLAN_CFI, vlanOffset } from "./layout.ts";
import type { OdpKeyLevel } from "./odp_key_parse.ts";
import { getVlanLimit } from "./extract.ts";
import { u16, u32 } from "./_key_bytes.ts";
import {
  ETH_TYPE_ARP,
  ETH_TYPE_IP,
  ETH_TYPE_IPV6,
  ETH_TYPE_MIN,
  ETH_TYPE_MPLS,
  ETH_TYPE_NSH,
  ETH_TYPE_RARP,
  ethTypeMpls,
  ethTypeVlan,
  FLOW_DL_TYPE_NONE,
  IPPROTO_ICMP,
  IPPROTO_ICMPV6,
  IPPROTO_SCTP,
  IPPROTO_TCP,
  IPPROTO_UDP,
  MPLS_BOS_MASK,
  ND_NEIGHBOR_ADVERT,
  ND_NEIGHBOR_SOLICIT,
} from "../packet/mod.ts";

/** enum odp_key_fitness. */
export type OdpKeyFitness = "perfect" | "too_much" | "too_little" | "error";

export interface OdpKeyFit {
  fitness: OdpKeyFitness;
  /** OVS's message for an ERROR (without the key it appends), else null. */
  error: string | null;
  /**
   * Attributes given but not expected at the level where the judgement
   * stopped (check_expectations' extra attributes): OVS reads nothing
   * from them. Filled for TOO_MUCH and TOO_LITTLE alike.
   */
  unexpected: string[];
}

/** Attributes read whenever present (metadata and L2). */
const ALWAYS_READ = new Set([
  "recirc_id",
  "dp_hash",
  "skb_priority",
  "skb_mark",
  "ct_state",
  "ct_zone",
  "ct_mark",
  "ct_label",
  "ct_tuple4",
  "ct_tuple6",
  "in_port",
  "packet_type",
  "eth",
]);

class Judge {
  readonly k: Uint8Array;
  readonly m: Uint8Array | null;
  unexpected: string[] = [];
  /** The key's packet type (src_flow->packet_type). */
  packetType = PT_ETH;

  constructor(key: FlowKey, mask: FlowKey | null) {
    this.k = bytesOf(key);
    this.m = mask ? bytesOf(mask) : null;
  }

  private get isMask(): boolean {
    return this.m !== null;
  }

  /** check_expectations. */
  check(present: readonly string[], expected: ReadonlySet<string>): OdpKeyFitness {
    this.unexpected = present.filter((n) => !expected.has(n));
    for (const name of expected) if (!present.includes(name)) return "too_little";
    return this.unexpected.length ? "too_much" : "perfect";
  }

  /** odp_flow_key_to_flow__ over the top level. */
  top(level: OdpKeyLevel): OdpKeyFit {
    this.packetType = this.keyPacketType(level);
    const expected = new Set<string>();
    const dup = duplicate(level.names);
    if (dup) return fail(`duplicate ${dup} attribute in flow key`);
    for (const n of level.names) if (ALWAYS_READ.has(n)) expected.add(n);
    if (!level.names.includes("eth") && level.ethType) expected.add("eth_type");
    // The key's Ethertype: eth_type(), or the packet type's, or the L3's.
    const keyDl = this.keyDlType(level);
    const err = this.ethertype(level, expected, keyDl);
    if (err) return fail(err);
    const vlanPath = this.isMask
      ? (u16(this.k, vlanOffset(0) + 2) & VLAN_CFI) !== 0
      : ethTypeVlan(keyDl);
    if (vlanPath) return this.vlans(level, expected, keyDl);
    if (this.isMask && level.names.includes("vlan")) expected.add("vlan");
    return this.l25(level, expected, this.innerDlType(level, keyDl), true);
  }

  private keyDlType(level: OdpKeyLevel): number {
    // A packet_type() Ethertype is overwritten here too (parse_ethertype).
    if (level.ethType) return level.ethType[0];
    if (level.names.includes("ipv4")) return ETH_TYPE_IP;
    if (level.names.includes("ipv6")) return ETH_TYPE_IPV6;
    if (level.names.includes("mpls")) return ETH_TYPE_MPLS;
    return FLOW_DL_TYPE_NONE;
  }

  /** The key's Ethertype at the innermost level (F.dl_type). */
  private innerDlType(level: OdpKeyLevel, dl: number): number {
    return level.ethType && level.ethType[0] < ETH_TYPE_MIN ? FLOW_DL_TYPE_NONE : dl;
  }

  /** The key's packet type: eth() makes it Ethernet, else eth_type() names it. */
  private keyPacketType(level: OdpKeyLevel): number {
    if (level.names.includes("eth")) return PT_ETH;
    if (level.ethType) return ((1 << 16) | level.ethType[0]) >>> 0;
    return level.names.includes("packet_type") ? u32(this.k, F.packet_type.off) : PT_ETH;
  }

  /** parse_ethertype: an error message, or null. */
  private ethertype(level: OdpKeyLevel, expected: Set<string>, keyDl: number): string | null {
    if (level.ethType) {
      const [v, m] = level.ethType;
      if (!this.isMask && v < ETH_TYPE_MIN) return `invalid Ethertype ${v} in flow key`;
      if (this.isMask && v < ETH_TYPE_MIN && m !== 0xffff) {
        return `can't bitwise match non-Ethernet II "Ethertype" 0x${v.toString(16)} (with mask 0x${
          m.toString(16)
        })`;
      }
      expected.add("eth_type");
    } else if (this.isMask && this.packetType === PT_ETH && keyDl < ETH_TYPE_MIN) {
      return "mask expected for non-Ethernet II frame";
    }
    return null;
  }

  /** parse_8021q_onward. */
  private vlans(level: OdpKeyLevel, expected: Set<string>, keyDl: number): OdpKeyFit {
    const limit = getVlanLimit();
    let present = level.names;
    let cur: OdpKeyLevel = level;
    let dl = keyDl;
    for (let depth = 0; depth < limit; depth++) {
      const tci = u16(this.k, vlanOffset(depth) + 2);
      const more = this.isMask ? (tci & VLAN_CFI) !== 0 : ethTypeVlan(dl);
      if (!more) break;
      const hasVlan = present.includes("vlan"), hasEncap = present.includes("encap");
      if (!this.isMask || hasVlan) expected.add("vlan");
      if (!this.isMask || hasEncap) expected.add("encap");
      const fitness = this.check(present, expected);
      if (!this.isMask) {
        if (!hasVlan || !hasEncap) return fit("too_little");
        if (tci === 0) {
          return fit(fitness === "perfect" && !cur.encapEmpty ? "too_much" : fitness, this);
        }
        if (!(tci & VLAN_CFI)) {
          const hex = tci.toString(16).padStart(4, "0");
          return fail(`OVS_KEY_ATTR_VLAN 0x${hex} is nonzero but CFI bit is not set`);
        }
      } else if (!hasEncap) {
        return fit(fitness, this);
      }
      const inner = cur.encap;
      if (!inner) return fit("too_little");
      const dup = duplicate(inner.names);
      if (dup) return fail(`duplicate ${dup} attribute in flow key`);
      expected.clear();
      present = inner.names;
      cur = inner;
      dl = this.keyDlType(inner);
      const err = this.ethertype(inner, expected, dl);
      if (err) return fail(err);
      const encapFit = this.l25(inner, expected, this.innerDlType(inner, dl), false);
      if (encapFit.fitness !== "perfect") return encapFit;
    }
    return fit(this.check(present, expected), this);
  }

  /** parse_l2_5_onward; `dl` is the key's Ethertype at this level. */
  private l25(
    level: OdpKeyLevel,
    expected: Set<string>,
    dl: number,
    needCheck: boolean,
  ): OdpKeyFit {
    const { k, m } = this;
    const has = (n: string) => level.names.includes(n);
    const done = () => needCheck ? fit(this.check(level.names, expected), this) : fit("perfect");
    if (ethTypeMpls(dl)) {
      if (!m || has("mpls")) expected.add("mpls");
      if (has("mpls")) {
        const n = level.mplsLabels;
        if (n === 0) return fail("MPLS LSEs have invalid length 0");
        if (n > 3) return fit("too_much");
        if (!m) {
          for (let i = 0; i < n - 1; i++) {
            if (u32(k, F.mpls_lse.off + 4 * i) & MPLS_BOS_MASK) {
              return fail("MPLS BOS set in non-innermost label");
            }
          }
          if (n < 3 && !(u32(k, F.mpls_lse.off + 4 * (n - 1)) & MPLS_BOS_MASK)) {
            return fit("too_little");
          }
        }
      }
      return done();
    }
    const l3 = dl === ETH_TYPE_IP
      ? "ipv4"
      : dl === ETH_TYPE_IPV6
      ? "ipv6"
      : dl === ETH_TYPE_ARP || dl === ETH_TYPE_RARP
      ? "arp"
      : dl === ETH_TYPE_NSH
      ? "nsh"
      : null;
    if (!l3) return done();
    if (!m) expected.add(l3);
    if (has(l3)) {
      if (m) {
        // Without eth_type() the mask's Ethertype is wildcarded, unless the
        // packet is not Ethernet (parse_ethertype).
        const dlMask = level.ethType ? level.ethType[1] : this.packetType === PT_ETH ? 0 : 0xffff;
        if (!l3MaskZero(m, l3) && dlMask !== 0xffff) {
          return fail(
            `unexpected L3 matching with masked Ethertype 0x${dl.toString(16)}/0x${
              dlMask.toString(16)
            }`,
          );
        }
        expected.add(l3);
      }
    }
    const isIp = dl === ETH_TYPE_IP || dl === ETH_TYPE_IPV6;
    const proto = has(l3) && isIp ? k[F.nw_proto.off] : 0;
    const later = has(l3) && isIp && (k[F.nw_frag.off] & FRAG_LATER) !== 0;
    let l4: string | null = null;
    if (isIp && !later) {
      l4 = proto === IPPROTO_TCP
        ? "tcp"
        : proto === IPPROTO_UDP
        ? "udp"
        : proto === IPPROTO_SCTP
        ? "sctp"
        : proto === IPPROTO_ICMP && dl === ETH_TYPE_IP
        ? "icmp"
        : proto === IPPROTO_ICMPV6 && dl === ETH_TYPE_IPV6
        ? "icmpv6"
        : null;
    }
    let read: string | null = null;
    if (l4) {
      if (!m) expected.add(l4);
      if (has(l4)) read = l4;
      if (l4 === "tcp" && has("tcp_flags")) expected.add("tcp_flags");
      if (l4 === "icmpv6" && has("icmpv6") && isNd(k)) {
        if (!m) expected.add("nd");
        if (has("nd")) {
          if (
            m && !ndMaskZero(m) && (u16(m, F.tp_src.off) !== 0xff || u16(m, F.tp_dst.off) !== 0xff)
          ) {
            return fail(
              `ICMP (src,dst) masks should be (0xff,0xff) but are actually (0x${
                u16(m, F.tp_src.off).toString(16)
              },0x${u16(m, F.tp_dst.off).toString(16)})`,
            );
          }
          if (m) expected.add("nd");
        }
      }
    }
    if (m && read) {
      if ((u16(m, F.tp_src.off) || u16(m, F.tp_dst.off)) && m[F.nw_proto.off] !== 0xff) {
        return fail("flow matches on L4 ports but does not define an L4 protocol");
      }
      expected.add(read);
    }
    return done();
  }
}

function fit(fitness: OdpKeyFitness, judge?: Judge): OdpKeyFit {
  return { fitness, error: null, unexpected: judge?.unexpected ?? [] };
}

function fail(error: string): OdpKeyFit {
  return { fitness: "error", error, unexpected: [] };
}

function duplicate(names: readonly string[]): string | null {
  const seen = new Set<string>();
  for (const n of names) {
    if (seen.has(n)) return n;
    seen.add(n);
  }
  return null;
}

/** is_nd: ICMPv6 neighbor solicitation or advertisement, code 0. */
function isNd(k: Uint8Array): boolean {
  const type = u16(k, F.tp_src.off), code = u16(k, F.tp_dst.off);
  return code === 0 && (type === ND_NEIGHBOR_SOLICIT || type === ND_NEIGHBOR_ADVERT);
}

const L3_MASK_SPANS: Record<string, ReadonlyArray<{ off: number; len: number }>> = {
  ipv4: [F.nw_src, F.nw_dst, F.nw_proto, F.nw_tos, F.nw_ttl, F.nw_frag],
  ipv6: [F.ipv6_src, F.ipv6_dst, F.ipv6_label, F.nw_proto, F.nw_tos, F.nw_ttl, F.nw_frag],
  arp: [F.nw_src, F.nw_dst, F.nw_proto, F.arp_sha, F.arp_tha],
  nsh: [],
};

function l3MaskZero(m: Uint8Array, l3: string): boolean {
  return L3_MASK_SPANS[l3].every((s) => m.subarray(s.off, s.off + s.len).every((b) => b === 0));
}

function ndMaskZero(m: Uint8Array): boolean {
  return [F.nd_target, F.arp_sha, F.arp_tha].every((s) =>
    m.subarray(s.off, s.off + s.len).every((b) => b === 0)
  );
}

/**
 * Judges a parsed key (odp_flow_key_to_flow) or, given `mask`, that mask
 * against its key (odp_flow_key_to_mask). `level` is what parseOdpKey
 * returned for the text both came from.
 */
export function odpKeyFit(
  level: OdpKeyLevel,
  key: FlowKey,
  mask: FlowKey | null = null,
): OdpKeyFit {
  return new Judge(key, mask).top(level);
}

/**
 * dpif-netdev's verdict on a key and mask to install (flow_from_nlattrs,
 * then mask_from_nlattrs): both must fit perfectly.
 */
export function odpKeyAndMaskFit(level: OdpKeyLevel, key: FlowKey, mask: FlowKey): boolean {
  return odpKeyFit(level, key).fitness === "perfect" &&
    odpKeyFit(level, key, mask).fitness === "perfect";
}

type Span = { off: number; len: number };

/** What each attribute writes into the key, by group of rivals. */
const WRITES: ReadonlyArray<readonly [readonly string[], ReadonlyArray<Span>]> = [
  [["tcp", "udp", "sctp", "icmp", "icmpv6"], [F.tp_src, F.tp_dst]],
  [["tcp_flags"], [F.tcp_flags]],
  [["nd"], [F.nd_target, F.arp_sha, F.arp_tha]],
  [["mpls"], [F.mpls_lse]],
  [["ipv4"], L3_MASK_SPANS.ipv4],
  [["ipv6"], L3_MASK_SPANS.ipv6],
  [["arp"], L3_MASK_SPANS.arp],
];

/**
 * Clears from `key` what the attributes OVS would not read wrote there
 * (odp_flow_key_to_flow fills its flow only from expected attributes), so
 * netdev-dummy/receive builds the packet OVS builds: `proto=17` with a
 * tcp() gets UDP ports 0. A field another, read attribute also wrote is
 * kept.
 */
export function clearUnreadFields(level: OdpKeyLevel, fit: OdpKeyFit, key: FlowKey): void {
  if (!fit.unexpected.length) return;
  const b = bytesOf(key);
  const present = new Set([...level.names, ...(level.encap?.names ?? [])]);
  const kept = new Set<number>();
  for (const [names, spans] of WRITES) {
    if (names.some((n) => present.has(n) && !fit.unexpected.includes(n))) {
      for (const s of spans) for (let i = 0; i < s.len; i++) kept.add(s.off + i);
    }
  }
  for (const [names, spans] of WRITES) {
    if (!names.some((n) => fit.unexpected.includes(n))) continue;
    for (const s of spans) {
      for (let i = 0; i < s.len; i++) if (!kept.has(s.off + i)) b[s.off + i] = 0;
    }
  }
}

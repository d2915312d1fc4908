/**
 * flowCompose: the packet `netdev-dummy/receive` injects for a flow spec
 * (OVS's flow_compose, then packet_expand for `--len N`). The result is a
 * packet flowExtract reads back as the same flow: headers from the key,
 * fields the key does not carry left zero (IP id, TCP seq/ack, window),
 * checksums computed, and by default a 64-byte payload 0, 1, 2, ... for
 * protocols that carry one.
 */
import type { FlowKey } from "./key.ts";
import { viewOf } from "./_bytes.ts";
import { F, FRAG_ANY, FRAG_LATER, VLAN_CFI, vlanOffset } from "./layout.ts";
import {
  csumAdd,
  csumFinish,
  ETH_TYPE_ARP,
  ETH_TYPE_IP,
  ETH_TYPE_IPV6,
  ETH_TYPE_RARP,
  ethTypeMpls,
  FLOW_DL_TYPE_NONE,
  IPPROTO_ICMP,
  IPPROTO_ICMPV6,
  IPPROTO_IGMP,
  IPPROTO_SCTP,
  IPPROTO_TCP,
  IPPROTO_UDP,
  ND_NEIGHBOR_ADVERT,
  ND_NEIGHBOR_SOLICIT,
  putBe16,
  TCP_FIN,
  TCP_RST,
  TCP_SYN,
} from "../packet/mod.ts";

/** Payload netdev-dummy/receive adds when no `--len` is given. */
export const DEFAULT_L7_LEN = 64;

const u16 = (b: Uint8Array, o: number) => (b[o] << 8) | b[o + 1];

/**
 * Writes the packet for `key` into `out` and returns its length, or -1
 * when `packetLen` is nonzero and smaller than the headers ("too small
 * packet len") or the packet does not fit in `out`.
 * With `packetLen` 0 the packet gets `l7Len` bytes of payload; otherwise
 * none, and zeros pad it to `packetLen` with lengths and checksums fixed.
 */
export function flowCompose(
  key: FlowKey,
  out: Uint8Array,
  packetLen = 0,
  l7Len = DEFAULT_L7_LEN,
): number {
  const k = viewOf(key);
  const c = new Composer(k, out);
  try {
    c.compose(packetLen ? 0 : l7Len);
    if (packetLen) {
      if (c.len > packetLen) return -1;
      if (c.len < packetLen) c.expand(packetLen);
    }
  } catch (e) {
    if (e instanceof RangeError) return -1;
    throw e;
  }
  return c.len;
}

class Composer {
  len = 0;
  l3 = -1;
  l4 = -1;
  constructor(readonly k: Uint8Array, readonly p: Uint8Array) {}

  private put(n: number): number {
    const at = this.len;
    if (at + n > this.p.length) throw new RangeError("packet too long");
    this.p.fill(0, at, at + n);
    this.len += n;
    return at;
  }

  compose(l7Len: number): void {
    const { k, p } = this;
    const dlType = u16(k, F.dl_type.off);
    const e = this.put(14);
    p.set(k.subarray(F.dl_dst.off, F.dl_dst.off + 12), e);
    putBe16(p, e + 12, dlType);
    this.l3 = 14;
    if (dlType === FLOW_DL_TYPE_NONE) {
      putBe16(p, 12, this.len);
      return;
    }
    for (let i = 1; i >= 0; i--) {
      const tci = u16(k, vlanOffset(i) + 2);
      if (tci & VLAN_CFI) this.insert(12, u16(k, vlanOffset(i)), tci & ~VLAN_CFI);
    }
    if (dlType === ETH_TYPE_IP) this.ipv4(l7Len);
    else if (dlType === ETH_TYPE_IPV6) this.ipv6(l7Len);
    else if (dlType === ETH_TYPE_ARP || dlType === ETH_TYPE_RARP) this.arp();
    else if (ethTypeMpls(dlType)) this.mpls();
  }

  /** Inserts a 4-byte header (two 16-bit words) at `at`. */
  private insert(at: number, w0: number, w1: number): void {
    this.put(4);
    this.p.copyWithin(at + 4, at, this.len - 4);
    putBe16(this.p, at, w0);
    putBe16(this.p, at + 2, w1);
    this.l3 += 4;
  }

  private ipv4(l7Len: number): void {
    const { k, p } = this;
    const ip = this.put(20);
    this.l3 = ip;
    p[ip] = 0x45;
    p[ip + 1] = k[F.nw_tos.off];
    p[ip + 8] = k[F.nw_ttl.off];
    p[ip + 9] = k[F.nw_proto.off];
    p.set(k.subarray(F.nw_src.off, F.nw_src.off + 8), ip + 12);
    const frag = k[F.nw_frag.off];
    if (frag & FRAG_ANY) putBe16(p, ip + 6, 0x2000 | (frag & FRAG_LATER ? 100 : 0));
    this.l4 = this.len;
    this.l4Header(l7Len);
    this.fixIpv4();
    this.l4Csum();
  }

  private fixIpv4(): void {
    const { p } = this;
    const ip = this.l3;
    putBe16(p, ip + 2, this.len - ip);
    putBe16(p, ip + 10, 0);
    putBe16(p, ip + 10, csumFinish(csumAdd(0, p, ip, 20)));
  }

  private ipv6(l7Len: number): void {
    const { k, p } = this;
    const ip = this.put(40);
    this.l3 = ip;
    const label = ((k[F.ipv6_label.off + 1] & 0x0f) << 16) | u16(k, F.ipv6_label.off + 2);
    const flow = (6 << 28) | (k[F.nw_tos.off] << 20) | label;
    p[ip] = flow >>> 24;
    p[ip + 1] = flow >>> 16;
    putBe16(p, ip + 2, flow & 0xffff);
    p[ip + 6] = k[F.nw_proto.off];
    p[ip + 7] = k[F.nw_ttl.off];
    p.set(k.subarray(F.ipv6_src.off, F.ipv6_src.off + 32), ip + 8);
    this.l4 = this.len;
    this.l4Header(l7Len);
    putBe16(p, ip + 4, this.len - this.l4);
    this.l4Csum();
  }

  private payload(n: number): void {
    const at = this.put(n);
    for (let i = 0; i < n; i++) this.p[at + i] = i;
  }

  private l4Header(l7Len: number): void {
    const { k, p } = this;
    const frag = k[F.nw_frag.off];
    if ((frag & FRAG_ANY) && (frag & FRAG_LATER)) return;
    const proto = k[F.nw_proto.off];
    const ports = () => p.set(k.subarray(F.tp_src.off, F.tp_src.off + 4), this.l4);
    if (proto === IPPROTO_TCP) {
      this.put(20);
      ports();
      const flags = u16(k, F.tcp_flags.off);
      putBe16(p, this.l4 + 12, (5 << 12) | (flags & 0x0fff));
      if (!(flags & (TCP_SYN | TCP_FIN | TCP_RST))) this.payload(l7Len);
    } else if (proto === IPPROTO_UDP) {
      this.put(8);
      ports();
      putBe16(p, this.l4 + 4, 8 + l7Len);
      this.payload(l7Len);
    } else if (proto === IPPROTO_SCTP) {
      this.put(12);
      ports();
    } else if (proto === IPPROTO_ICMP || proto === IPPROTO_IGMP || proto === IPPROTO_ICMPV6) {
      this.put(8);
      const type = k[F.tp_src.off + 1], code = k[F.tp_dst.off + 1];
      p[this.l4] = type;
      p[this.l4 + 1] = code;
      if (proto === IPPROTO_ICMP) {
        if ((type === 8 || type === 0) && code === 0) this.payload(l7Len);
        return;
      }
      p.set(k.subarray(F.igmp_group_ip4.off, F.igmp_group_ip4.off + 4), this.l4 + 4);
      if (proto === IPPROTO_IGMP || code !== 0) return;
      if (type === ND_NEIGHBOR_SOLICIT || type === ND_NEIGHBOR_ADVERT) {
        const t = this.put(16);
        p.set(k.subarray(F.nd_target.off, F.nd_target.off + 16), t);
        this.llaOption(1, F.arp_sha.off);
        this.llaOption(2, F.arp_tha.off);
      } else if (type === 128 || type === 129) {
        this.payload(l7Len);
      }
    }
  }

  private llaOption(type: number, off: number): void {
    const mac = this.k.subarray(off, off + 6);
    if (mac.every((x) => x === 0)) return;
    const o = this.put(8);
    this.p[o] = type;
    this.p[o + 1] = 1;
    this.p.set(mac, o + 2);
  }

  private arp(): void {
    const { k, p } = this;
    const a = this.put(28);
    this.l3 = a;
    putBe16(p, a, 1);
    putBe16(p, a + 2, ETH_TYPE_IP);
    p[a + 4] = 6;
    p[a + 5] = 4;
    const op = k[F.nw_proto.off];
    putBe16(p, a + 6, op);
    if (op === 1 || op === 2) {
      p.set(k.subarray(F.arp_sha.off, F.arp_sha.off + 6), a + 8);
      p.set(k.subarray(F.nw_src.off, F.nw_src.off + 4), a + 14);
      p.set(k.subarray(F.arp_tha.off, F.arp_tha.off + 6), a + 18);
      p.set(k.subarray(F.nw_dst.off, F.nw_dst.off + 4), a + 24);
    }
  }

  private mpls(): void {
    const { k } = this;
    let n = 1;
    for (; n < 3; n++) if (k[F.mpls_lse.off + 4 * (n - 1) + 2] & 1) break;
    // Labels go in last first, each right after the Ethernet header.
    const at = this.l3;
    while (n > 0) {
      n--;
      const o = F.mpls_lse.off + 4 * n;
      this.insert(at, u16(k, o), u16(k, o + 2));
      this.l3 = at;
    }
  }

  /** packet_expand: zero padding up to `size`, lengths and checksums fixed. */
  expand(size: number): void {
    const { k, p } = this;
    const extra = size - this.len;
    this.put(extra);
    const dlType = u16(k, F.dl_type.off);
    if (dlType === FLOW_DL_TYPE_NONE) {
      putBe16(p, 12, this.len);
      return;
    }
    if (dlType !== ETH_TYPE_IP && dlType !== ETH_TYPE_IPV6) return;
    const l4Len = this.len - this.l4;
    if (dlType === ETH_TYPE_IP) this.fixIpv4();
    else putBe16(p, this.l3 + 4, l4Len);
    const frag = k[F.nw_frag.off];
    if (!((frag & FRAG_ANY) && (frag & FRAG_LATER)) && k[F.nw_proto.off] === IPPROTO_UDP) {
      // OVS counts the padding twice here; the oracle's bytes show it.
      putBe16(p, this.l4 + 4, l4Len + extra);
    }
    this.l4Csum();
  }

  /** L4 checksums over the pseudo-header, as flow_compose_l4_csum does. */
  private l4Csum(): void {
    const { k, p } = this;
    const frag = k[F.nw_frag.off];
    if (this.l4 < 0 || ((frag & FRAG_ANY) && (frag & FRAG_LATER))) return;
    const proto = k[F.nw_proto.off];
    const l4Len = this.len - this.l4;
    const v4 = u16(k, F.dl_type.off) === ETH_TYPE_IP;
    let pseudo: number;
    if (v4) pseudo = csumAdd(0, p, this.l3 + 12, 8) + proto + (u16(p, this.l3 + 2) - 20);
    else pseudo = csumAdd(0, p, this.l3 + 8, 32) + proto + u16(p, this.l3 + 4);
    const at = proto === IPPROTO_TCP ? 16 : proto === IPPROTO_UDP ? 6 : 2;
    if (proto === IPPROTO_TCP || proto === IPPROTO_UDP || proto === IPPROTO_ICMPV6) {
      putBe16(p, this.l4 + at, 0);
      let c = csumFinish(csumAdd(pseudo, p, this.l4, l4Len));
      if (proto === IPPROTO_UDP && c === 0) c = 0xffff;
      putBe16(p, this.l4 + at, c);
    } else if (proto === IPPROTO_ICMP || proto === IPPROTO_IGMP) {
      putBe16(p, this.l4 + 2, 0);
      putBe16(p, this.l4 + 2, csumFinish(csumAdd(0, p, this.l4, l4Len)));
    }
  }
}

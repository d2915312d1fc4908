/**
 * Flow key and mask to datapath-flow text, as OVS 3.1's odp_flow_format
 * prints the attributes that odp_flow_key_from_flow would produce for
 * them. Which attributes exist depends on the key (an IPv4 key has
 * ipv4(...), a TCP one tcp(...)); which of them are shown depends on the
 * mask: the terse form drops fully wildcarded attributes and fields, the
 * verbose form (`-m`) prints everything with its mask.
 */
import type { FlowKey } from "./key.ts";
import type { OdpSetAttr } from "./odp_action.ts";
import { F, FLOW_BYTES, FRAG_ANY, FRAG_LATER, PT_ETH } from "./layout.ts";
import { formatTcpFlagsMasked } from "./_flags.ts";
import { KeyPrinterBase } from "./_key_printer.ts";
import {
  fFrag,
  type FieldOut,
  fIp4,
  fIp6,
  fMac,
  fNum,
  fullSpan,
  hx,
  u16,
  u32,
  zeroSpan,
} from "./_key_fields.ts";
import {
  ETH_TYPE_ARP,
  ETH_TYPE_IP,
  ETH_TYPE_IPV6,
  ETH_TYPE_RARP,
  ethTypeMpls,
  IPPROTO_ICMP,
  IPPROTO_ICMPV6,
  IPPROTO_SCTP,
  IPPROTO_TCP,
  IPPROTO_UDP,
  MPLS_BOS_MASK,
  ND_NEIGHBOR_ADVERT,
  ND_NEIGHBOR_SOLICIT,
} from "../packet/mod.ts";

export interface OdpFormatOptions {
  /** The `-m` form: every attribute and field, with its mask. */
  verbose?: boolean;
  /** Datapath port numbers to names, for in_port(...). */
  portNames?: ReadonlyMap<number, string> | null;
}

/** ODPP_NONE: a key with this in_port has no in_port attribute. */
export const ODPP_NONE = 0xffffffff;

export function formatOdpKey(
  key: FlowKey,
  mask: FlowKey | null,
  opts: OdpFormatOptions = {},
): string {
  const k = new Uint8Array(key.buffer, key.byteOffset, FLOW_BYTES);
  const m = mask ? new Uint8Array(mask.buffer, mask.byteOffset, FLOW_BYTES) : null;
  return new KeyPrinter(k, m, opts.verbose ?? false, opts.portNames ?? null).format();
}

/**
 * One attribute of a key, as the body of a set action prints it
 * (format_odp_key_attr): with a mask only the fields it covers, without
 * one every field.
 */
export function formatOdpKeyAttr(
  attr: OdpSetAttr,
  key: FlowKey,
  mask: FlowKey | null,
  verbose: boolean,
): string {
  const k = new Uint8Array(key.buffer, key.byteOffset, FLOW_BYTES);
  const m = mask ? new Uint8Array(mask.buffer, mask.byteOffset, FLOW_BYTES) : null;
  return new KeyPrinter(k, m, verbose, null, true).formatAttr(attr);
}

class KeyPrinter extends KeyPrinterBase {
  formatAttr(attr: OdpSetAttr): string {
    switch (attr) {
      case "skb_priority":
        this.u32Attr(attr, F.skb_priority.off);
        break;
      case "skb_mark":
        this.u32Attr(attr, F.pkt_mark.off);
        break;
      case "eth":
        this.eth();
        break;
      case "mpls":
        this.mpls(1);
        break;
      case "ipv4":
        this.ipv4();
        break;
      case "ipv6":
        this.ipv6();
        break;
      case "arp":
        this.arp();
        break;
      case "tcp":
      case "udp":
      case "sctp":
        this.ports(attr);
        break;
      case "icmp":
      case "icmpv6":
        this.icmp(attr);
        break;
      case "nd":
        this.nd(true);
        break;
      case "nd_ext":
        this.ndExt();
        break;
    }
    return this.parts.join(",");
  }

  format(): string {
    const { k } = this;
    this.u32Attr("skb_priority", F.skb_priority.off);
    this.u32Attr("skb_mark", F.pkt_mark.off);
    this.ctState();
    this.ctSmall("ct_zone", F.ct_zone.off, 2);
    this.ctSmall("ct_mark", F.ct_mark.off, 4);
    this.ctLabel();
    this.ctTuple();
    this.u32Attr("recirc_id", F.recirc_id.off);
    this.u32Attr("dp_hash", F.dp_hash.off);
    if (u32(k, F.in_port.off) !== ODPP_NONE) this.inPort();
    this.packetType();
    const dlType = u16(k, F.dl_type.off);
    if (u32(k, F.packet_type.off) === PT_ETH) {
      this.eth();
      return this.vlans(0, dlType);
    }
    // Non-Ethernet packets have no VLAN headers, only the Ethertype.
    return this.vlans(Infinity, dlType);
  }

  protected override l3(dlType: number): void {
    if (dlType === ETH_TYPE_IP) this.ipv4();
    else if (dlType === ETH_TYPE_IPV6) this.ipv6();
    else if (dlType === ETH_TYPE_ARP || dlType === ETH_TYPE_RARP) return this.arp();
    else if (ethTypeMpls(dlType)) return this.mpls(3);
    else return;
    if (!(this.k[F.nw_frag.off] & FRAG_LATER)) this.l4(dlType);
  }

  private fragMask(mm: Uint8Array | null): number | null {
    return mm ? mm[F.nw_frag.off] : null;
  }

  private ipv4(): void {
    const { k, m, verbose } = this;
    const spans = [F.nw_src, F.nw_dst, F.nw_proto, F.nw_tos, F.nw_ttl];
    const wild = m
      ? spans.every((s) => zeroSpan(m, s.off, s.len)) && !(m[F.nw_frag.off] & FRAG_ANY)
      : false;
    this.attr("ipv4", wild, (mm) => {
      const out: FieldOut = [];
      fIp4(out, "src", k, mm, F.nw_src.off, verbose);
      fIp4(out, "dst", k, mm, F.nw_dst.off, verbose);
      this.nwFields(out, mm, "proto", "tos", "ttl");
      fFrag(out, k[F.nw_frag.off], this.fragMask(mm));
      return out.join(",");
    });
  }

  private ipv6(): void {
    const { k, m, verbose } = this;
    const spans = [F.ipv6_src, F.ipv6_dst, F.nw_proto, F.nw_tos, F.nw_ttl];
    const wild = m
      ? spans.every((s) => zeroSpan(m, s.off, s.len)) && !(m[F.nw_frag.off] & FRAG_ANY) &&
        (u32(m, F.ipv6_label.off) & 0xfffff) === 0
      : false;
    this.attr("ipv6", wild, (mm) => {
      const out: FieldOut = [];
      fIp6(out, "src", k, mm, F.ipv6_src.off, verbose);
      fIp6(out, "dst", k, mm, F.ipv6_dst.off, verbose);
      const lo = F.ipv6_label.off;
      const lm = mm ? u32(mm, lo) : null;
      if (verbose || lm !== 0) {
        let s = "label=" + hx(u32(k, lo));
        if (lm !== null && (lm & 0xfffff) !== 0xfffff) s += "/" + hx(lm);
        out.push(s);
      }
      this.nwFields(out, mm, "proto", "tclass", "hlimit");
      fFrag(out, k[F.nw_frag.off], this.fragMask(mm));
      return out.join(",");
    });
  }

  private nwFields(out: FieldOut, mm: Uint8Array | null, p: string, t: string, h: string): void {
    const { k, verbose } = this;
    const g = (o: number) => (mm ? mm[o] : null);
    fNum(out, p, k[F.nw_proto.off], g(F.nw_proto.off), 0xff, verbose, false);
    fNum(out, t, k[F.nw_tos.off], g(F.nw_tos.off), 0xff, verbose, true);
    fNum(out, h, k[F.nw_ttl.off], g(F.nw_ttl.off), 0xff, verbose, false);
  }

  private arp(): void {
    const { k, m, verbose } = this;
    const spans = [F.nw_src, F.nw_dst, F.nw_proto, F.arp_sha, F.arp_tha];
    const wild = m ? spans.every((s) => zeroSpan(m, s.off, s.len)) : false;
    this.attr("arp", wild, (mm) => {
      const out: FieldOut = [];
      fIp4(out, "sip", k, mm, F.nw_src.off, verbose);
      fIp4(out, "tip", k, mm, F.nw_dst.off, verbose);
      const o = F.nw_proto.off;
      const opMask = mm ? (mm[o] === 0xff ? 0xffff : mm[o]) : null;
      fNum(out, "op", k[o], opMask, 0xffff, verbose, false);
      fMac(out, "sha", k, mm, F.arp_sha.off, verbose);
      fMac(out, "tha", k, mm, F.arp_tha.off, verbose);
      return out.join(",");
    });
  }

  private mpls(maxLabels: number): void {
    const { k, m } = this;
    let n = 0;
    for (let i = 0; i < maxLabels; i++) {
      const lse = u32(k, F.mpls_lse.off + 4 * i);
      if (lse & MPLS_BOS_MASK) {
        n = i + 1;
        break;
      }
      if (lse) n++;
    }
    const o = F.mpls_lse.off;
    this.attr("mpls", m ? zeroSpan(m, o, 4 * n) : false, (mm) => {
      const exact = !mm || fullSpan(mm, o, 4 * n);
      const out: string[] = [];
      for (let i = 0; i < n; i++) {
        const kv = u32(k, o + 4 * i);
        if (exact) {
          out.push(
            `label=${kv >>> 12},tc=${(kv >>> 9) & 7},ttl=${kv & 0xff},bos=${(kv >>> 8) & 1}`,
          );
        } else {
          const mv = u32(mm!, o + 4 * i);
          out.push(
            `label=${kv >>> 12}/0x${(mv >>> 12).toString(16)},tc=${(kv >>> 9) & 7}/${
              ((mv >>> 9) & 7).toString(16)
            },ttl=${kv & 0xff}/0x${(mv & 0xff).toString(16)},bos=${(kv >>> 8) & 1}/${
              ((mv >>> 8) & 1).toString(16)
            }`,
          );
        }
      }
      return out.join(",");
    });
  }

  private l4(dlType: number): void {
    const { k, m } = this;
    const proto = k[F.nw_proto.off];
    if (proto === IPPROTO_TCP || proto === IPPROTO_UDP || proto === IPPROTO_SCTP) {
      this.ports(proto === IPPROTO_TCP ? "tcp" : proto === IPPROTO_UDP ? "udp" : "sctp");
      const fo = F.tcp_flags.off;
      if (proto === IPPROTO_TCP && (u16(k, fo) !== 0 || (m && u16(m, fo) !== 0))) {
        this.attr("tcp_flags", m ? (u16(m, fo) & 0xfff) === 0 : false, (mm) => {
          const mv = mm ? u16(mm, fo) & 0xfff : 0xfff;
          return formatTcpFlagsMasked(u16(k, fo), mv);
        });
      }
    } else if (dlType === ETH_TYPE_IP && proto === IPPROTO_ICMP) {
      this.icmp("icmp");
    } else if (dlType === ETH_TYPE_IPV6 && proto === IPPROTO_ICMPV6) {
      this.icmp("icmpv6");
      const ps = F.tp_src.off, pd = F.tp_dst.off;
      const type = u16(k, ps);
      if ((type === ND_NEIGHBOR_SOLICIT || type === ND_NEIGHBOR_ADVERT) && u16(k, pd) === 0) {
        // The mask carries nd(...) only when type and code are exact.
        this.nd(m ? u16(m, ps) === 0xff && u16(m, pd) === 0xff : true);
      }
    }
  }

  private ports(name: string): void {
    const { k, m, verbose } = this;
    const ps = F.tp_src.off, pd = F.tp_dst.off;
    this.attr(name, m ? zeroSpan(m, ps, 4) : false, (mm) => {
      const out: FieldOut = [];
      fNum(out, "src", u16(k, ps), mm ? u16(mm, ps) : null, 0xffff, verbose, false);
      fNum(out, "dst", u16(k, pd), mm ? u16(mm, pd) : null, 0xffff, verbose, false);
      return out.join(",");
    });
  }

  private icmp(name: string): void {
    const { k, m, verbose } = this;
    const t = F.tp_src.off + 1, c = F.tp_dst.off + 1;
    this.attr(name, m ? m[t] === 0 && m[c] === 0 : false, (mm) => {
      const out: FieldOut = [];
      fNum(out, "type", k[t], mm ? mm[t] : null, 0xff, verbose, false);
      fNum(out, "code", k[c], mm ? mm[c] : null, 0xff, verbose, false);
      return out.join(",");
    });
  }

  /** Only ever a set action's attribute: the datapath keys never show it. */
  private ndExt(): void {
    const { k, m, verbose } = this;
    const r = F.igmp_group_ip4.off, t = F.tcp_flags.off + 1;
    this.attr("nd_ext", m ? zeroSpan(m, r, 4) && m[t] === 0 : false, (mm) => {
      const out: FieldOut = [];
      fNum(out, "nd_reserved", u32(k, r), mm ? u32(mm, r) : null, 0xffffffff, verbose, true);
      fNum(out, "nd_options_type", k[t], mm ? mm[t] : null, 0xff, verbose, false);
      return out.join(",");
    });
  }

  private nd(maskPresent: boolean): void {
    const { k, m, verbose } = this;
    const spans = [F.nd_target, F.arp_sha, F.arp_tha];
    const wild = m ? spans.every((s) => zeroSpan(m, s.off, s.len)) : false;
    this.attr("nd", wild, (mm) => {
      const out: FieldOut = [];
      fIp6(out, "target", k, mm, F.nd_target.off, verbose);
      fMac(out, "sll", k, mm, F.arp_sha.off, verbose);
      fMac(out, "tll", k, mm, F.arp_tha.off, verbose);
      return out.join(",");
    }, maskPresent);
  }
}

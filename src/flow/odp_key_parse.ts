/**
 * Datapath-flow text to a flow key and mask: the inverse of
 * odp_key_format.ts. A field given as `v` is matched exactly, `v/m`
 * under mask m; a field or attribute left out is wildcarded (zero in both
 * key and mask), as OVS's odp_flow_from_string and odp_flow_key_to_mask
 * treat them. Errors throw OdpParseError naming the offending text.
 */
import { clearKey, type FlowKey } from "./key.ts";
import { F, PT_ETH, vlanOffset } from "./layout.ts";
import { ODPP_NONE } from "./odp_key_format.ts";
import { getVlanLimit } from "./extract.ts";
import { parseIp4, parseIp6, parseMac } from "./_addr.ts";
import { CT_STATE_NAMES, parseFlags } from "./_flags.ts";
import { put, u16 } from "./_key_bytes.ts";
import {
  type Attr,
  scanAddr,
  scanFields,
  scanFrag,
  scanMpls,
  scanNum,
  scanTcpFlags,
  scanU128,
  scanVlan,
} from "./_key_scan.ts";
import {
  fieldsOf,
  OdpParseError,
  parseHex,
  parseIntC,
  splitCall,
  splitMask,
  splitTop,
  topStarts,
} from "./_scan.ts";
import {
  ETH_TYPE_IP,
  ETH_TYPE_IPV6,
  ETH_TYPE_MIN,
  ETH_TYPE_MPLS,
  ethTypeVlan,
  FLOW_DL_TYPE_NONE,
} from "../packet/mod.ts";

/** The 20 bits of the IPv6 flow label (IPV6_LABEL_MASK). */
const IPV6_LABEL_MASK = 0xfffff;

/**
 * Which attributes the text gave at one nesting level, as OVS's netlink
 * key would hold them (parse_flow_nlattrs' present attributes): what
 * odpKeyFit needs and the key alone cannot tell (tcp() and udp() write the
 * same ports).
 */
export interface OdpKeyLevel {
  /** Attribute names in the order given, repeats included. */
  names: string[];
  /** eth_type() as given, value and mask, before any reading of it. */
  ethType: readonly [number, number] | null;
  /** The level inside encap(), when one was given. */
  encap: OdpKeyLevel | null;
  /** Whether encap() was given empty. */
  encapEmpty: boolean;
  /** How many label stack entries mpls() gave. */
  mplsLabels: number;
}

/**
 * Parses `text` (a comma-separated attribute list) into key and mask;
 * returns the attributes given, level by level, for odpKeyFit.
 */
export function parseOdpKey(
  text: string,
  key: FlowKey,
  mask: FlowKey,
  portNames?: ReadonlyMap<string, number> | null,
): OdpKeyLevel {
  clearKey(key);
  clearKey(mask);
  const p = new KeyParser(
    new Uint8Array(key.buffer, key.byteOffset, key.byteLength),
    new Uint8Array(mask.buffer, mask.byteOffset, mask.byteLength),
    portNames ?? null,
  );
  try {
    return p.parse(text);
  } catch (e) {
    if (e instanceof OdpParseError) e.ovs = `syntax error at ${restAt(text, e.token)}`;
    throw e;
  }
}

/** The text from the start of the top-level attribute holding `token`. */
function restAt(text: string, token: string): string {
  const at = text.indexOf(token);
  let start = 0;
  for (const s of topStarts(text)) if (at >= 0 && s <= at) start = s;
  return text.slice(start);
}

/**
 * Parses one attribute, `name(fields)`, as a set action carries it;
 * returns its name. The key and mask are cleared first.
 */
export function parseOdpKeyAttr(text: string, key: FlowKey, mask: FlowKey): string {
  clearKey(key);
  clearKey(mask);
  const attrs = attrsOf(text);
  if (attrs.length !== 1) throw new OdpParseError(text, "expected one attribute");
  const p = new KeyParser(
    new Uint8Array(key.buffer, key.byteOffset, key.byteLength),
    new Uint8Array(mask.buffer, mask.byteOffset, mask.byteLength),
    null,
  );
  p.attr(attrs[0]);
  return attrs[0].name;
}

function newLevel(): OdpKeyLevel {
  return { names: [], ethType: null, encap: null, encapEmpty: false, mplsLabels: 0 };
}

function attrsOf(text: string): Attr[] {
  return splitTop(text).map((t) => {
    const c = splitCall(t);
    if (!c) throw new OdpParseError(t);
    return { name: c[0], body: c[1], text: t };
  });
}

class KeyParser {
  constructor(
    readonly k: Uint8Array,
    readonly m: Uint8Array,
    readonly portNames: ReadonlyMap<string, number> | null,
  ) {}

  private sawEth = false;
  private sawPacketType = false;

  parse(text: string): OdpKeyLevel {
    const { k } = this;
    put(k, F.in_port.off, 4, ODPP_NONE);
    const top = newLevel();
    const dl = this.level(attrsOf(text), 0, top);
    // eth() makes the packet Ethernet whatever packet_type() said
    // (odp_flow_key_to_flow); without either, eth_type() names it. A given
    // packet_type() is kept, as dump lines carry it with eth() wildcarded.
    if (this.sawEth) put(k, F.packet_type.off, 4, PT_ETH);
    else if (!this.sawPacketType) put(k, F.packet_type.off, 4, dl !== null ? 0x10000 | dl : PT_ETH);
    if (u16(this.k, vlanOffset(0) + 2) === 0) {
      // A missing VLAN mask means "no VLAN", matched exactly.
      put(this.m, vlanOffset(0), 4, 0xffffffff);
    }
    return top;
  }

  /** One nesting level; returns the Ethertype given there, if any. */
  private level(attrs: Attr[], depth: number, given: OdpKeyLevel): number | null {
    const { k, m } = this;
    let ethType: [number, number] | null = null;
    for (const a of attrs) {
      given.names.push(a.name);
      if (a.name === "mpls") {
        given.mplsLabels = fieldsOf(a.body).filter(([name]) => name === "label").length;
      }
    }
    let vlan: Attr | null = null;
    let encap: Attr | null = null;
    let l3: Attr | null = null;
    const rest: Attr[] = [];
    for (const a of attrs) {
      if (a.name === "eth_type") {
        if (ethType) throw new OdpParseError(a.text, "duplicate attribute");
        const [v, mm] = splitMask(a.body);
        const kv = parseHex(v, 0xffff);
        const mv = mm === null ? 0xffff : parseHex(mm, 0xffff);
        if (kv === null || mv === null) throw new OdpParseError(a.text);
        ethType = [kv, mv];
        given.ethType = ethType;
      } else if (a.name === "vlan") vlan = a;
      else if (a.name === "encap") encap = a;
      else if (a.name === "ipv4" || a.name === "ipv6" || a.name === "mpls") {
        if (l3) throw new OdpParseError(a.text, "duplicate attribute");
        l3 = a;
        rest.push(a);
      } else rest.push(a);
    }
    if (depth >= getVlanLimit() && ethType && ethTypeVlan(ethType[0])) {
      // Beyond the VLAN limit a tag is payload: its TPID is the Ethertype
      // and what it encapsulates is not part of the flow.
      vlan = encap = null;
    }
    if (vlan || encap) {
      const vo = vlanOffset(depth);
      if (ethType) {
        put(k, vo, 2, ethType[0]);
        put(m, vo, 2, ethType[1]);
      }
      if (vlan) scanVlan(k, m, vlan, vo + 2);
      for (const a of rest) this.attr(a);
      if (encap) {
        given.encap = newLevel();
        given.encapEmpty = encap.body.trim() === "";
        const inner = this.level(attrsOf(encap.body), depth + 1, given.encap);
        if (inner === null && encap.body === "" && ethType && u16(k, vo + 2) === 0) {
          // An 802.1Q header cut short: its TPID stays the Ethertype.
          put(k, F.dl_type.off, 2, ethType[0]);
          put(m, F.dl_type.off, 2, 0xffff);
        }
      }
      return ethType ? ethType[0] : null;
    }
    let dl: number;
    if (ethType) {
      dl = ethType[0] < ETH_TYPE_MIN ? FLOW_DL_TYPE_NONE : ethType[0];
      put(m, F.dl_type.off, 2, ethType[0] < ETH_TYPE_MIN ? 0xffff : ethType[1]);
    } else {
      dl = l3?.name === "ipv4"
        ? ETH_TYPE_IP
        : l3?.name === "ipv6"
        ? ETH_TYPE_IPV6
        : l3?.name === "mpls"
        ? ETH_TYPE_MPLS
        : FLOW_DL_TYPE_NONE;
    }
    put(k, F.dl_type.off, 2, dl);
    for (const a of rest) this.attr(a);
    return ethType ? ethType[0] : null;
  }

  attr(a: Attr): void {
    const { k, m } = this;
    switch (a.name) {
      case "skb_priority":
        return scanNum(k, m, a, F.skb_priority.off, 4);
      case "skb_mark":
        return scanNum(k, m, a, F.pkt_mark.off, 4);
      case "recirc_id":
        return scanNum(k, m, a, F.recirc_id.off, 4);
      case "dp_hash":
        return scanNum(k, m, a, F.dp_hash.off, 4);
      case "ct_zone":
        return scanNum(k, m, a, F.ct_zone.off, 2);
      case "ct_mark":
        return scanNum(k, m, a, F.ct_mark.off, 4);
      case "ct_state": {
        const flags = parseFlags(CT_STATE_NAMES, a.body, 0xff);
        if (flags && !/^[0-9]/.test(a.body)) {
          k[F.ct_state.off] = flags[0];
          m[F.ct_state.off] = flags[1];
          return;
        }
        const [v, mm] = splitMask(a.body);
        const kv = parseIntC(v, 0xff);
        const mv = mm === null ? 0xff : parseIntC(mm);
        if (kv === null || mv === null) throw new OdpParseError(a.text);
        k[F.ct_state.off] = kv;
        m[F.ct_state.off] = mv & 0xff;
        return;
      }
      case "ct_label":
        return scanU128(k, m, a, F.ct_label.off);
      case "in_port": {
        const [v, mm] = splitMask(a.body);
        const port = parseIntC(v) ?? this.portNames?.get(v) ?? null;
        const mv = mm === null ? 0xffffffff : parseIntC(mm);
        if (port === null) throw new OdpParseError(a.text, "unknown port");
        if (mv === null) throw new OdpParseError(a.text);
        put(k, F.in_port.off, 4, port);
        put(m, F.in_port.off, 4, mv);
        return;
      }
      case "packet_type":
        this.sawPacketType = true;
        return scanFields(a, {
          ns: (v) => scanNum(k, m, a, F.packet_type.off, 2, v),
          id: (v) => scanNum(k, m, a, F.packet_type.off + 2, 2, v),
        });
      case "eth":
        this.sawEth = true;
        return scanFields(a, {
          src: (v) => scanAddr(k, m, a, v, F.dl_src.off, 6, parseMac),
          dst: (v) => scanAddr(k, m, a, v, F.dl_dst.off, 6, parseMac),
        });
      case "ipv4":
        return scanFields(a, {
          src: (v) => scanAddr(k, m, a, v, F.nw_src.off, 4, parseIp4),
          dst: (v) => scanAddr(k, m, a, v, F.nw_dst.off, 4, parseIp4),
          proto: (v) => scanNum(k, m, a, F.nw_proto.off, 1, v),
          tos: (v) => scanNum(k, m, a, F.nw_tos.off, 1, v),
          ttl: (v) => scanNum(k, m, a, F.nw_ttl.off, 1, v),
          frag: (v) => scanFrag(k, m, a, v),
        });
      case "ipv6":
        return scanFields(a, {
          src: (v) => scanAddr(k, m, a, v, F.ipv6_src.off, 16, parseIp6),
          dst: (v) => scanAddr(k, m, a, v, F.ipv6_dst.off, 16, parseIp6),
          label: (v) => scanNum(k, m, a, F.ipv6_label.off, 4, v, false, IPV6_LABEL_MASK),
          proto: (v) => scanNum(k, m, a, F.nw_proto.off, 1, v),
          tclass: (v) => scanNum(k, m, a, F.nw_tos.off, 1, v),
          hlimit: (v) => scanNum(k, m, a, F.nw_ttl.off, 1, v),
          frag: (v) => scanFrag(k, m, a, v),
        });
      case "tcp":
      case "udp":
      case "sctp":
        return scanFields(a, {
          src: (v) => scanNum(k, m, a, F.tp_src.off, 2, v),
          dst: (v) => scanNum(k, m, a, F.tp_dst.off, 2, v),
        });
      case "tcp_flags":
        return scanTcpFlags(k, m, a);
      case "icmp":
      case "icmpv6":
        return scanFields(a, {
          type: (v) => scanNum(k, m, a, F.tp_src.off + 1, 1, v),
          code: (v) => scanNum(k, m, a, F.tp_dst.off + 1, 1, v),
        });
      case "arp":
        return scanFields(a, {
          sip: (v) => scanAddr(k, m, a, v, F.nw_src.off, 4, parseIp4),
          tip: (v) => scanAddr(k, m, a, v, F.nw_dst.off, 4, parseIp4),
          op: (v) => {
            const [x, mm] = splitMask(v);
            const kv = parseIntC(x, 0xffff);
            const mv = mm === null ? 0xffff : parseIntC(mm, 0xffff);
            if (kv === null || mv === null || kv > 0xff) throw new OdpParseError(a.text);
            k[F.nw_proto.off] = kv;
            m[F.nw_proto.off] = mv === 0xffff ? 0xff : mv;
          },
          sha: (v) => scanAddr(k, m, a, v, F.arp_sha.off, 6, parseMac),
          tha: (v) => scanAddr(k, m, a, v, F.arp_tha.off, 6, parseMac),
        });
      case "nd":
        return scanFields(a, {
          target: (v) => scanAddr(k, m, a, v, F.nd_target.off, 16, parseIp6),
          sll: (v) => scanAddr(k, m, a, v, F.arp_sha.off, 6, parseMac),
          tll: (v) => scanAddr(k, m, a, v, F.arp_tha.off, 6, parseMac),
        });
      case "mpls":
        return scanMpls(k, m, a);
      case "ct_tuple4":
      case "ct_tuple6": {
        const v4 = a.name === "ct_tuple4";
        const ip = (o4: number, o6: number) => (v: string) =>
          v4 ? scanAddr(k, m, a, v, o4, 4, parseIp4) : scanAddr(k, m, a, v, o6, 16, parseIp6);
        return scanFields(a, {
          src: ip(F.ct_nw_src.off, F.ct_ipv6_src.off),
          dst: ip(F.ct_nw_dst.off, F.ct_ipv6_dst.off),
          proto: (v) => scanNum(k, m, a, F.ct_nw_proto.off, 1, v),
          // OVS reads ct_tuple6's ports as tp_src/tp_dst but prints them as
          // src_port/dst_port; both are read here, so a print reads back.
          tp_src: (v) => scanNum(k, m, a, F.ct_tp_src.off, 2, v),
          tp_dst: (v) => scanNum(k, m, a, F.ct_tp_dst.off, 2, v),
          ...(v4 ? {} : {
            src_port: (v: string) => scanNum(k, m, a, F.ct_tp_src.off, 2, v),
            dst_port: (v: string) => scanNum(k, m, a, F.ct_tp_dst.off, 2, v),
          }),
        });
      }
      default:
        throw new OdpParseError(a.text, "unknown attribute");
    }
  }
}

/**
 * Datapath-flow text to a flow key and mask: the inverse of
 * odp_key_format.ts. A field given as `v` is matched exactly, `v/m`
 * under mask m; a field or attribute left out is wildcarded (zero in both
 * key and mask), as OVS's odp_flow_from_string and odp_flow_key_to_mask
 * treat them. Errors throw OdpParseError naming the offending text.
 */
import { clearKey, type FlowKey } from "./key.ts";
import { F, FRAG_ANY, FRAG_LATER, FRAG_MASK, PT_ETH, VLAN_CFI, vlanOffset } from "./layout.ts";
import { ODPP_NONE } from "./odp_key_format.ts";
import { getVlanLimit } from "./extract.ts";
import { parseIp4, parseIp6, parseMac } from "./_addr.ts";
import { CT_STATE_NAMES, parseFlags, TCP_FLAG_NAMES } from "./_flags.ts";
import { hex128Into, put, u16, u32 } from "./_key_bytes.ts";
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

type Attr = { name: string; body: string; text: string };

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
      if (vlan) this.vlan(vlan, vo + 2);
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

  /**
   * `v[/m]` into a `len`-byte field; `max` limits both, as
   * scan_ipv6_label limits the label to its 20 bits. Without a mask the
   * whole field is matched.
   */
  private num(
    a: Attr,
    o: number,
    len: 1 | 2 | 4,
    body = a.body,
    hex = false,
    max = len === 1 ? 0xff : len === 2 ? 0xffff : 0xffffffff,
  ): void {
    const [v, mm] = splitMask(body);
    const kv = hex ? parseHex(v, max) : parseIntC(v, max);
    const full = len === 1 ? 0xff : len === 2 ? 0xffff : 0xffffffff;
    const mv = mm === null ? full : hex ? parseHex(mm, max) : parseIntC(mm, max);
    if (kv === null || mv === null) throw new OdpParseError(a.text);
    put(this.k, o, len, kv);
    put(this.m, o, len, mv);
  }

  attr(a: Attr): void {
    const { k, m } = this;
    switch (a.name) {
      case "skb_priority":
        return this.num(a, F.skb_priority.off, 4);
      case "skb_mark":
        return this.num(a, F.pkt_mark.off, 4);
      case "recirc_id":
        return this.num(a, F.recirc_id.off, 4);
      case "dp_hash":
        return this.num(a, F.dp_hash.off, 4);
      case "ct_zone":
        return this.num(a, F.ct_zone.off, 2);
      case "ct_mark":
        return this.num(a, F.ct_mark.off, 4);
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
        return this.u128(a, F.ct_label.off);
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
        return this.fields(a, {
          ns: (v) => this.num(a, F.packet_type.off, 2, v),
          id: (v) => this.num(a, F.packet_type.off + 2, 2, v),
        });
      case "eth":
        this.sawEth = true;
        return this.fields(a, {
          src: (v) => this.addr(a, v, F.dl_src.off, 6, parseMac),
          dst: (v) => this.addr(a, v, F.dl_dst.off, 6, parseMac),
        });
      case "ipv4":
        return this.fields(a, {
          src: (v) => this.addr(a, v, F.nw_src.off, 4, parseIp4),
          dst: (v) => this.addr(a, v, F.nw_dst.off, 4, parseIp4),
          proto: (v) => this.num(a, F.nw_proto.off, 1, v),
          tos: (v) => this.num(a, F.nw_tos.off, 1, v),
          ttl: (v) => this.num(a, F.nw_ttl.off, 1, v),
          frag: (v) => this.frag(a, v),
        });
      case "ipv6":
        return this.fields(a, {
          src: (v) => this.addr(a, v, F.ipv6_src.off, 16, parseIp6),
          dst: (v) => this.addr(a, v, F.ipv6_dst.off, 16, parseIp6),
          label: (v) => this.num(a, F.ipv6_label.off, 4, v, false, IPV6_LABEL_MASK),
          proto: (v) => this.num(a, F.nw_proto.off, 1, v),
          tclass: (v) => this.num(a, F.nw_tos.off, 1, v),
          hlimit: (v) => this.num(a, F.nw_ttl.off, 1, v),
          frag: (v) => this.frag(a, v),
        });
      case "tcp":
      case "udp":
      case "sctp":
        return this.fields(a, {
          src: (v) => this.num(a, F.tp_src.off, 2, v),
          dst: (v) => this.num(a, F.tp_dst.off, 2, v),
        });
      case "tcp_flags":
        return this.tcpFlags(a);
      case "icmp":
      case "icmpv6":
        return this.fields(a, {
          type: (v) => this.num(a, F.tp_src.off + 1, 1, v),
          code: (v) => this.num(a, F.tp_dst.off + 1, 1, v),
        });
      case "arp":
        return this.fields(a, {
          sip: (v) => this.addr(a, v, F.nw_src.off, 4, parseIp4),
          tip: (v) => this.addr(a, v, F.nw_dst.off, 4, parseIp4),
          op: (v) => {
            const [x, mm] = splitMask(v);
            const kv = parseIntC(x, 0xffff);
            const mv = mm === null ? 0xffff : parseIntC(mm, 0xffff);
            if (kv === null || mv === null || kv > 0xff) throw new OdpParseError(a.text);
            k[F.nw_proto.off] = kv;
            m[F.nw_proto.off] = mv === 0xffff ? 0xff : mv;
          },
          sha: (v) => this.addr(a, v, F.arp_sha.off, 6, parseMac),
          tha: (v) => this.addr(a, v, F.arp_tha.off, 6, parseMac),
        });
      case "nd":
        return this.fields(a, {
          target: (v) => this.addr(a, v, F.nd_target.off, 16, parseIp6),
          sll: (v) => this.addr(a, v, F.arp_sha.off, 6, parseMac),
          tll: (v) => this.addr(a, v, F.arp_tha.off, 6, parseMac),
        });
      case "mpls":
        return this.mpls(a);
      case "ct_tuple4":
      case "ct_tuple6": {
        const v4 = a.name === "ct_tuple4";
        const ip = (o4: number, o6: number) => (v: string) =>
          v4 ? this.addr(a, v, o4, 4, parseIp4) : this.addr(a, v, o6, 16, parseIp6);
        return this.fields(a, {
          src: ip(F.ct_nw_src.off, F.ct_ipv6_src.off),
          dst: ip(F.ct_nw_dst.off, F.ct_ipv6_dst.off),
          proto: (v) => this.num(a, F.ct_nw_proto.off, 1, v),
          // OVS reads ct_tuple6's ports as tp_src/tp_dst but prints them as
          // src_port/dst_port; both are read here, so a print reads back.
          tp_src: (v) => this.num(a, F.ct_tp_src.off, 2, v),
          tp_dst: (v) => this.num(a, F.ct_tp_dst.off, 2, v),
          ...(v4 ? {} : {
            src_port: (v: string) => this.num(a, F.ct_tp_src.off, 2, v),
            dst_port: (v: string) => this.num(a, F.ct_tp_dst.off, 2, v),
          }),
        });
      }
      default:
        throw new OdpParseError(a.text, "unknown attribute");
    }
  }

  private fields(a: Attr, handlers: Record<string, (v: string) => void>): void {
    for (const [name, v] of fieldsOf(a.body)) {
      const h = handlers[name];
      if (!h) throw new OdpParseError(`${name}=${v}`, `unknown field in ${a.name}()`);
      h(v);
    }
  }

  private addr(
    a: Attr,
    v: string,
    o: number,
    len: number,
    parse: (s: string, b: Uint8Array, off: number) => boolean,
  ): void {
    const [x, mm] = splitMask(v);
    if (!parse(x, this.k, o)) throw new OdpParseError(x, `bad address in ${a.name}()`);
    if (mm === null) this.m.fill(0xff, o, o + len);
    else if (!parse(mm, this.m, o)) throw new OdpParseError(mm, `bad mask in ${a.name}()`);
  }

  /** scan_frag: an enumeration, matched exactly; OVS takes no mask. */
  private frag(a: Attr, v: string): void {
    const val = v === "no"
      ? 0
      : v === "first"
      ? FRAG_ANY
      : v === "later"
      ? FRAG_ANY | FRAG_LATER
      : -1;
    if (val < 0) throw new OdpParseError(`frag=${v}`, `bad frag in ${a.name}()`);
    this.k[F.nw_frag.off] = val;
    this.m[F.nw_frag.off] = FRAG_MASK;
  }

  private vlan(a: Attr, o: number): void {
    let tci = VLAN_CFI, tm = VLAN_CFI;
    for (const [name, v] of fieldsOf(a.body)) {
      const [x, mm] = splitMask(v);
      const spec = name === "vid"
        ? [0, 0xfff]
        : name === "pcp"
        ? [13, 7]
        : name === "cfi"
        ? [12, 1]
        : null;
      if (!spec) throw new OdpParseError(`${name}=${v}`, "unknown field in vlan()");
      const [shift, max] = spec;
      const kv = parseIntC(x, max);
      const mv = mm === null ? max : parseIntC(mm, max);
      if (kv === null || mv === null) throw new OdpParseError(`${name}=${v}`);
      tci = (tci & ~(max << shift)) | (kv << shift);
      tm = (tm & ~(max << shift)) | (mv << shift);
    }
    put(this.k, o, 2, tci);
    put(this.m, o, 2, tm);
  }

  private tcpFlags(a: Attr): void {
    const o = F.tcp_flags.off;
    const flags = /^[0-9]/.test(a.body) && a.body !== "0"
      ? null
      : parseFlags(TCP_FLAG_NAMES, a.body, 0xfff);
    if (flags) {
      put(this.k, o, 2, flags[0]);
      put(this.m, o, 2, flags[1] === 0xfff ? 0xffff : flags[1]);
      return;
    }
    // Numbers are OVS's TCP_FLAGS: 12 bits, and a 12-bit mask is exact.
    const [v, mm] = splitMask(a.body);
    const kv = parseIntC(v, 0xfff);
    const mv = mm === null ? 0xfff : parseIntC(mm, 0xfff);
    if (kv === null || mv === null) throw new OdpParseError(a.text);
    put(this.k, o, 2, kv);
    put(this.m, o, 2, mv === 0xfff ? 0xffff : mv);
  }

  private mpls(a: Attr): void {
    let i = -1;
    for (const [name, v] of fieldsOf(a.body)) {
      if (name === "label") i++;
      if (i < 0 || i > 2) throw new OdpParseError(`${name}=${v}`, "bad mpls()");
      const o = F.mpls_lse.off + 4 * i;
      const spec = name === "label"
        ? [12, 0xfffff]
        : name === "tc"
        ? [9, 7]
        : name === "ttl"
        ? [0, 0xff]
        : name === "bos"
        ? [8, 1]
        : null;
      if (!spec) throw new OdpParseError(`${name}=${v}`, "unknown field in mpls()");
      const [shift, max] = spec;
      const [x, mm] = splitMask(v);
      const kv = parseIntC(x, max);
      // tc and bos masks print as bare hex.
      const mv = mm === null
        ? max
        : shift === 9 || shift === 8
        ? parseHex(mm, max)
        : parseIntC(mm, max);
      if (kv === null || mv === null) throw new OdpParseError(`${name}=${v}`);
      const lse = u32(this.k, o), lm = u32(this.m, o);
      put(this.k, o, 4, ((lse & ~(max << shift)) | (kv << shift)) >>> 0);
      put(this.m, o, 4, ((lm & ~(max << shift)) | (mv << shift)) >>> 0);
    }
  }

  private u128(a: Attr, o: number): void {
    const [v, mm] = splitMask(a.body);
    if (!hex128Into(v, this.k, o)) throw new OdpParseError(a.text);
    if (mm === null) this.m.fill(0xff, o, o + 16);
    else if (!hex128Into(mm, this.m, o)) throw new OdpParseError(a.text);
  }
}

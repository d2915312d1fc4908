/**
 * The attribute-list machinery of the key printer: which attributes are
 * shown in which form, and the metadata, Ethernet and VLAN attributes.
 * odp_key_format.ts adds L3 and L4 on top.
 */
import { F, vlanOffset } from "./layout.ts";
import { getVlanLimit } from "./extract.ts";
import { CT_STATE_NAMES, formatFlags, formatFlagsMasked } from "./_flags.ts";
import {
  type FieldOut,
  fIp4,
  fIp6,
  fMac,
  fNum,
  formatVlanTci,
  fullSpan,
  hex128,
  hx,
  u16,
  u32,
  ZERO,
  zeroSpan,
} from "./_key_fields.ts";
import { ETH_TYPE_IP, ETH_TYPE_IPV6, ETH_TYPE_MIN, ethTypeVlan } from "../packet/mod.ts";

export abstract class KeyPrinterBase {
  constructor(
    readonly k: Uint8Array,
    readonly m: Uint8Array | null,
    readonly verbose: boolean,
    readonly portNames: ReadonlyMap<number, string> | null,
    readonly single = false,
  ) {}

  // State of the attribute list being printed (one per nesting level).
  protected parts: string[] = [];
  protected hasEthtype = false;
  protected hasPacketType = false;

  /** L3 and what follows, for a key whose Ethertype is `dlType`. */
  protected abstract l3(dlType: number): void;

  protected finish(dlType: number): string {
    let s = this.parts.join(",");
    if (!this.hasEthtype && this.m && dlType < ETH_TYPE_MIN) s += ",eth_type(0/0xffff)";
    return s;
  }

  /**
   * Prints one attribute, or leaves it out in the terse form when its mask
   * is all zero (`maskPresent` false means the mask has no such attribute,
   * which counts as all zero too).
   */
  protected attr(
    name: string,
    wildcard: boolean,
    body: (m: Uint8Array | null) => string,
    maskPresent = true,
  ): void {
    const isWild = this.m ? (maskPresent ? wildcard : true) : false;
    if (name === "eth_type") this.hasEthtype = true;
    else if (name === "packet_type") this.hasPacketType = true;
    if (this.verbose || !isWild || this.single) {
      const m = this.m && !maskPresent ? ZERO : this.m;
      this.parts.push(`${name}(${body(m)})`);
    } else if (name === "eth" && !this.hasPacketType) {
      this.parts.push("eth()");
    } else if (name === "packet_type") {
      this.hasPacketType = false;
    }
  }

  protected u32Attr(name: string, o: number): void {
    const { k, m } = this;
    this.attr(name, m ? u32(m, o) === 0 : false, (mm) => {
      const mv = mm ? u32(mm, o) : 0xffffffff;
      return hx(u32(k, o)) + (mv !== 0xffffffff ? "/" + hx(mv) : "");
    });
  }

  protected ctState(): void {
    const { k, m, verbose } = this;
    const o = F.ct_state.off;
    this.attr("ct_state", m ? m[o] === 0 : false, (mm) => {
      const kv = k[o];
      const mv = mm ? mm[o] : 0xffffffff;
      if (verbose) return hx(kv) + (mv !== 0xffffffff ? "/" + hx(mv) : "");
      if (mv !== 0xffffffff) return formatFlagsMasked(CT_STATE_NAMES, kv, mv, 0xffffffff);
      return formatFlags(CT_STATE_NAMES, kv);
    });
  }

  protected ctSmall(name: string, o: number, len: 2 | 4): void {
    const { k, m, verbose } = this;
    const get = len === 2 ? u16 : u32;
    const full = len === 2 ? 0xffff : 0xffffffff;
    this.attr(name, m ? zeroSpan(m, o, len) : false, (mm) => {
      // A missing mask counts as empty here, as in OVS.
      if (!verbose && (!mm || zeroSpan(mm, o, len))) return "";
      const mv = mm ? get(mm, o) : full;
      return hx(get(k, o)) + (mv !== full ? "/" + hx(mv) : "");
    });
  }

  protected ctLabel(): void {
    const { k, m, verbose } = this;
    const o = F.ct_label.off;
    this.attr("ct_label", m ? zeroSpan(m, o, 16) : false, (mm) => {
      if (!verbose && !(mm && !zeroSpan(mm, o, 16))) return "";
      let s = hex128(k, o);
      if (mm && !fullSpan(mm, o, 16)) s += "/" + hex128(mm, o);
      return s;
    });
  }

  protected ctTuple(): void {
    const { k, m, verbose } = this;
    if (k[F.ct_nw_proto.off] === 0) return;
    const dl = u16(k, F.dl_type.off);
    const v4 = dl === ETH_TYPE_IP;
    if (!v4 && dl !== ETH_TYPE_IPV6) return;
    const spans = v4
      ? [F.ct_nw_src, F.ct_nw_dst, F.ct_nw_proto, F.ct_tp_src, F.ct_tp_dst]
      : [F.ct_ipv6_src, F.ct_ipv6_dst, F.ct_nw_proto, F.ct_tp_src, F.ct_tp_dst];
    const wild = m ? spans.every((s) => zeroSpan(m, s.off, s.len)) : false;
    this.attr(v4 ? "ct_tuple4" : "ct_tuple6", wild, (mm) => {
      const out: FieldOut = [];
      const ip = v4 ? fIp4 : fIp6;
      ip(out, "src", k, mm, spans[0].off, verbose);
      ip(out, "dst", k, mm, spans[1].off, verbose);
      const o = F.ct_nw_proto.off;
      fNum(out, "proto", k[o], mm ? mm[o] : null, 0xff, verbose, false);
      const [sn, dn] = v4 ? ["tp_src", "tp_dst"] : ["src_port", "dst_port"];
      const ps = F.ct_tp_src.off, pd = F.ct_tp_dst.off;
      fNum(out, sn, u16(k, ps), mm ? u16(mm, ps) : null, 0xffff, verbose, false);
      fNum(out, dn, u16(k, pd), mm ? u16(mm, pd) : null, 0xffff, verbose, false);
      return out.join(",");
    });
  }

  protected inPort(): void {
    const { k, m } = this;
    const o = F.in_port.off;
    this.attr("in_port", m ? u32(m, o) === 0 : false, (mm) => {
      const port = u32(k, o);
      const mv = mm ? u32(mm, o) : 0xffffffff;
      if (mv === 0xffffffff) return this.portNames?.get(port) ?? String(port);
      return `${port}/${hx(mv)}`;
    });
  }

  protected packetType(): void {
    const { k, m, verbose } = this;
    const o = F.packet_type.off;
    this.attr("packet_type", m ? u32(m, o) === 0 : false, (mm) => {
      const out: FieldOut = [];
      const mv = mm ? u32(mm, o) : 0xffffffff;
      fNum(out, "ns", u16(k, o), mv >>> 16, 0xffff, verbose, false);
      fNum(out, "id", u16(k, o + 2), mv & 0xffff, 0xffff, verbose, true);
      return out.join(",");
    });
  }

  protected eth(): void {
    const { k, m, verbose } = this;
    const wild = m ? zeroSpan(m, F.dl_dst.off, 12) : false;
    this.attr("eth", wild, (mm) => {
      const out: FieldOut = [];
      fMac(out, "src", k, mm, F.dl_src.off, verbose);
      fMac(out, "dst", k, mm, F.dl_dst.off, verbose);
      return out.join(",");
    });
  }

  protected ethType(kv: number, mv: number | null): void {
    this.attr("eth_type", mv === 0, () => {
      const m = mv === null ? 0xffff : mv;
      const h = (v: number) => "0x" + v.toString(16).padStart(4, "0");
      return h(kv) + (m !== 0xffff ? "/" + h(m) : "");
    });
  }

  /** VLAN headers from `depth` on, each opening an encap(...) level. */
  protected vlans(depth: number, dlType: number): string {
    const { k, m, verbose } = this;
    if (depth < getVlanLimit()) {
      const vo = vlanOffset(depth);
      let tpid = u16(k, vo);
      const tci = u16(k, vo + 2);
      if (tci === 0 && ethTypeVlan(dlType)) tpid = dlType;
      if (tci !== 0 || ethTypeVlan(dlType)) {
        this.ethType(tpid, m ? 0xffff : null);
        const mt = m ? u16(m, vo + 2) : null;
        this.attr("vlan", mt === 0, () => formatVlanTci(tci, mt === null ? 0xffff : mt, verbose));
        const saved = this.parts;
        const savedEth = this.hasEthtype;
        const savedPt = this.hasPacketType;
        this.parts = [];
        this.hasEthtype = false;
        this.hasPacketType = false;
        const inner = tci === 0 ? "" : this.vlans(depth + 1, dlType);
        this.parts = saved;
        this.hasEthtype = savedEth;
        this.hasPacketType = savedPt;
        this.parts.push(`encap(${inner})`);
        return this.parts.join(",");
      }
    }
    if (dlType >= ETH_TYPE_MIN) {
      this.ethType(dlType, m ? u16(m, F.dl_type.off) : null);
      if (!ethTypeVlan(dlType)) this.l3(dlType);
    }
    return this.finish(dlType);
  }
}

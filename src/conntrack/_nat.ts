/**
 * Conntrack's NAT, as OVS's lib/conntrack.c nat_get_unique_tuple,
 * handle_nat, nat_packet and nat_inner_packet: a committed connection
 * with NAT gets a reply key whose translated address (and port) no other
 * connection holds; each packet of it is rewritten toward that key (the
 * original direction) or back (the reply direction), an ICMP error's
 * quoted packet included. Checksums follow (packet/rewrite.ts).
 * Allocates nothing per packet: the scratch buffers belong to the
 * `Conntrack` (one thread) that owns this object.
 */
import {
  CT_NAT_F_RANDOM,
  CT_NAT_SRC,
  CT_OFF_NAT_ADDR_LEN,
  CT_OFF_NAT_ADDR_MAX,
  CT_OFF_NAT_ADDR_MIN,
  CT_OFF_NAT_FLAGS,
  CT_OFF_NAT_PROTO_MAX,
  CT_OFF_NAT_PROTO_MIN,
} from "../flow/mod.ts";
import { hashWords } from "../lib/mod.ts";
import {
  be32,
  csumAdd,
  csumFinish,
  IPPROTO_ICMPV6,
  IPPROTO_TCP,
  IPPROTO_UDP,
  putBe32,
  setIpv4,
  setIpv6,
  setPorts,
} from "../packet/mod.ts";
import { CS_DST_NAT, CS_SRC_NAT } from "../flow/mod.ts";
import {
  type ConnTable,
  K_DPORT,
  K_DST,
  K_PROTO,
  K_SPORT,
  K_SRC,
  K_V6,
  KEY_WORDS,
  NAT_DST,
  NAT_SRC,
  S_KEY,
  S_NAT,
  S_REV,
} from "./_table.ts";
import { ipEnd, isIcmpKey, l4Offset } from "./_tuple.ts";

/** Ephemeral ports SNAT picks from when the action gives none. */
const NAT_MIN_EPHEMERAL = 1024;
const NAT_PROBES = 4096;

export class ConnNat {
  private readonly bytes = new Uint8Array(64);
  private readonly mask = new Uint8Array(64);

  /**
   * `cand` is the owner's key scratch: its second KEY_WORDS words hold
   * the candidate reply key while a tuple is picked.
   */
  constructor(private readonly table: ConnTable, private readonly cand: Int32Array) {}

  /**
   * nat_get_unique_tuple: picks the reply key's translated address (and
   * port) from the action's ranges (at `acts[at..]`) so no other
   * connection has it; false when none is free.
   */
  uniqueTuple(s: number, acts: Uint8Array, at: number, natKind: number): boolean {
    const t = this.table, w = t.i32, b = t.base(s), cand = this.cand;
    const snat = natKind === CT_NAT_SRC;
    const v6 = w[b + S_KEY + K_V6] === 1;
    const addrLen = acts[at + CT_OFF_NAT_ADDR_LEN];
    // The translated side of the reply key: its destination for SNAT, its source for DNAT.
    const addrAt = snat ? K_DST : K_SRC, portAt = snat ? K_DPORT : K_SPORT;
    const ports = !isIcmpKey(w, b + S_KEY) && (w[b + S_KEY + K_PROTO] === IPPROTO_TCP ||
      w[b + S_KEY + K_PROTO] === IPPROTO_UDP);
    let pMin = (acts[at + CT_OFF_NAT_PROTO_MIN] << 8) | acts[at + CT_OFF_NAT_PROTO_MIN + 1];
    let pMax = (acts[at + CT_OFF_NAT_PROTO_MAX] << 8) | acts[at + CT_OFF_NAT_PROTO_MAX + 1];
    if (pMax < pMin) pMax = pMin;
    const origPort = w[b + S_REV + portAt];
    const fixedPort = pMin === 0;
    if (fixedPort && snat) {
      pMin = NAT_MIN_EPHEMERAL;
      pMax = 0xffff;
    }
    // Address range as a count of addresses from the minimum (its low 32 bits).
    let nAddr = 1;
    if (addrLen > 0 && (addrLen === 4) === !v6) {
      const lo = be32(acts, at + CT_OFF_NAT_ADDR_MIN + addrLen - 4);
      const maxZero = acts.subarray(at + CT_OFF_NAT_ADDR_MAX, at + CT_OFF_NAT_ADDR_MAX + addrLen)
        .every((x) => x === 0);
      const hi = maxZero ? lo : be32(acts, at + CT_OFF_NAT_ADDR_MAX + addrLen - 4);
      nAddr = Math.min(((hi - lo) >>> 0) + 1, 0x10000);
    } else if (addrLen > 0) return false;
    const random = (acts[at + CT_OFF_NAT_FLAGS] & CT_NAT_F_RANDOM) !== 0;
    const h =
      hashWords(w as unknown as Uint32Array, b + S_KEY, KEY_WORDS, random ? Date.now() : 0) >>> 0;
    for (let i = 0; i < KEY_WORDS; i++) cand[KEY_WORDS + i] = w[b + S_REV + i];
    const nPort = ports ? pMax - pMin + 1 : 1;
    let probes = 0;
    for (let ai = 0; ai < nAddr; ai++) {
      const a = (h + ai) % nAddr;
      if (addrLen > 0) {
        for (let i = 0; i < addrLen / 4; i++) {
          cand[KEY_WORDS + addrAt + i] = be32(acts, at + CT_OFF_NAT_ADDR_MIN + 4 * i);
        }
        const last = KEY_WORDS + addrAt + addrLen / 4 - 1;
        cand[last] = (cand[last] + a) | 0;
      }
      // The original port first (when the action names none), then the range.
      if (!ports || fixedPort) {
        cand[KEY_WORDS + portAt] = origPort;
        if (t.find(cand, KEY_WORDS) < 0) return this.takeCandidate(s);
        if (!ports || !snat) continue;
      }
      for (let pi = 0; pi < nPort && probes < NAT_PROBES; pi++, probes++) {
        cand[KEY_WORDS + portAt] = pMin + ((h + pi) % nPort);
        if (t.find(cand, KEY_WORDS) < 0) return this.takeCandidate(s);
      }
    }
    return false;
  }

  private takeCandidate(s: number): boolean {
    const t = this.table, b = t.base(s);
    for (let i = 0; i < KEY_WORDS; i++) t.i32[b + S_REV + i] = this.cand[KEY_WORDS + i];
    return true;
  }

  /** handle_nat: NATs a packet of an existing connection once per zone. */
  handleNat(
    p: Uint8Array,
    len: number,
    l3: number,
    conn: number,
    reply: boolean,
    related: boolean,
    st: number,
    newZone: boolean,
  ): number {
    const t = this.table;
    if (!t.i32[t.base(conn) + S_NAT]) return st;
    if (!(st & (CS_SRC_NAT | CS_DST_NAT)) || newZone) {
      st &= ~(CS_SRC_NAT | CS_DST_NAT);
      return this.natPacket(p, len, l3, conn, reply, related, st);
    }
    return st;
  }

  /**
   * nat_packet: the original direction takes the reply key's addresses
   * (SNAT: source; DNAT: destination), the reply direction the original
   * key's; ports likewise unless `related` (an ICMP error: the outer
   * header only). Returns `st` with the NAT bit set.
   */
  natPacket(
    p: Uint8Array,
    len: number,
    l3: number,
    conn: number,
    reply: boolean,
    related: boolean,
    st: number,
  ): number {
    const t = this.table, w = t.i32, b = t.base(conn);
    let nat = w[b + S_NAT];
    if (reply) nat = nat === NAT_SRC ? NAT_DST : NAT_SRC;
    st |= nat === NAT_SRC ? CS_SRC_NAT : CS_DST_NAT;
    const k = b + (reply ? S_KEY : S_REV);
    const v6 = w[k + K_V6] === 1, proto = w[k + K_PROTO];
    const l4 = l4Offset(p, l3, v6);
    const v = this.bytes, m = this.mask;
    const n = v6 ? 16 : 4;
    m.fill(0);
    // v: src then dst (8 or 32 bytes); m selects the side NAT changes.
    const srcSide = nat === NAT_SRC;
    for (let i = 0; i < n / 4; i++) {
      putBe32(v, 4 * i, w[k + K_DST + i]);
      putBe32(v, n + 4 * i, w[k + K_SRC + i]);
    }
    m.fill(0xff, srcSide ? 0 : n, srcSide ? n : 2 * n);
    // A related packet is an ICMP error: its own protocol is ICMP, the key's the quoted packet's.
    if (v6) setIpv6(p, l3, l4, related ? IPPROTO_ICMPV6 : proto, v, 0, m, 0, 40, 40);
    else setIpv4(p, l3, l4, v, 0, m, 0, 40, 40);
    if (related) {
      this.natInner(p, len, l3, l4, v6, k, srcSide);
      return st;
    }
    if (proto === IPPROTO_TCP || proto === IPPROTO_UDP) {
      v[48] = w[k + K_DPORT] >>> 8;
      v[49] = w[k + K_DPORT];
      v[50] = w[k + K_SPORT] >>> 8;
      v[51] = w[k + K_SPORT];
      m.fill(0, 48, 52);
      m.fill(0xff, srcSide ? 48 : 50, srcSide ? 50 : 52);
      setPorts(p, p.length, l4, proto, v, 48, m, 48);
    }
    return st;
  }

  /**
   * nat_inner_packet: the packet an ICMP error quotes went the other way,
   * so it takes the same translation on its other side (the outer source
   * NATed: the inner destination, and the converse), ports included; the
   * quoted IPv4 header's checksum and the ICMP checksum are recomputed.
   */
  private natInner(
    p: Uint8Array,
    len: number,
    l3: number,
    l4: number,
    v6: boolean,
    k: number,
    outerSrc: boolean,
  ): void {
    const w = this.table.i32;
    const end = ipEnd(p, l3, v6, len);
    const il3 = l4 + 8, n = v6 ? 16 : 4;
    if (il3 + (v6 ? 40 : 20) > end) return;
    const ihl = v6 ? 40 : (p[il3] & 15) * 4;
    // Outer source NATed: the inner destination takes the key's destination; else the inner source its source.
    const addrAt = il3 + (v6 ? (outerSrc ? 24 : 8) : (outerSrc ? 16 : 12));
    const kw = k + (outerSrc ? K_DST : K_SRC);
    for (let i = 0; i < n / 4; i++) putBe32(p, addrAt + 4 * i, w[kw + i]);
    const iproto = w[k + K_PROTO], il4 = il3 + ihl;
    if ((iproto === IPPROTO_TCP || iproto === IPPROTO_UDP) && il4 + 4 <= end) {
      const port = w[k + (outerSrc ? K_DPORT : K_SPORT)];
      const at = il4 + (outerSrc ? 2 : 0);
      p[at] = port >>> 8;
      p[at + 1] = port;
    }
    if (!v6) {
      p[il3 + 10] = p[il3 + 11] = 0;
      const c = csumFinish(csumAdd(0, p, il3, ihl));
      p[il3 + 10] = c >>> 8;
      p[il3 + 11] = c;
    }
    p[l4 + 2] = p[l4 + 3] = 0;
    let sum = csumAdd(0, p, l4, end - l4);
    if (v6) sum = csumAdd(sum, p, l3 + 8, 32) + IPPROTO_ICMPV6 + (end - l4);
    const c = csumFinish(sum);
    p[l4 + 2] = c >>> 8;
    p[l4 + 3] = c;
  }
}

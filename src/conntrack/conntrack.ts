/**
 * The userspace connection tracker's packet path, as OVS's
 * lib/conntrack.c conntrack_execute / process_one: read the packet's
 * connection key, find the connection (either direction), update its
 * protocol state (tcp.ts; conntrack-other.c and conntrack-icmp.c here),
 * create it on commit (conn_not_found, with NAT's nat_get_unique_tuple),
 * NAT the packet (nat_packet: the original direction takes the reply
 * key's addresses and ports, the reply direction is un-NATed), apply
 * mark and label, and write ct_state, ct_zone, ct_mark, ct_label and the
 * original tuple into the packet's metadata (write_ct_md). The metadata
 * is a flow key (layout.ts bytes), so the next lookup matches on it.
 *
 * A packet never throws out of `execute`: one whose key cannot be read is
 * +inv+trk, as in OVS. Allocates nothing per packet.
 */
import {
  CT_F_COMMIT,
  CT_F_FORCE,
  CT_F_LABEL,
  CT_F_MARK,
  CT_F_NAT,
  CT_NAT_DST,
  CT_NAT_F_RANDOM,
  CT_NAT_SRC,
  CT_OFF_FLAGS,
  CT_OFF_LABEL,
  CT_OFF_LABEL_MASK,
  CT_OFF_MARK,
  CT_OFF_MARK_MASK,
  CT_OFF_NAT_ADDR_LEN,
  CT_OFF_NAT_ADDR_MAX,
  CT_OFF_NAT_ADDR_MIN,
  CT_OFF_NAT_FLAGS,
  CT_OFF_NAT_KIND,
  CT_OFF_NAT_PROTO_MAX,
  CT_OFF_NAT_PROTO_MIN,
  CT_OFF_ZONE,
  F,
} from "../flow/mod.ts";
import { coverageCounter, hashWords } from "../lib/mod.ts";
import {
  csumAdd,
  csumFinish,
  ETH_TYPE_IP,
  ETH_TYPE_IPV6,
  HDR_DL_TYPE,
  HDR_L3,
  IPPROTO_ICMP,
  IPPROTO_ICMPV6,
  IPPROTO_TCP,
  IPPROTO_UDP,
  locateHeaders,
  newHeaderOffsets,
  setIpv4,
  setIpv6,
  setPorts,
} from "../packet/mod.ts";
import {
  ConnTable,
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
  S_LABEL,
  S_MARK,
  S_NAT,
  S_PSTATE,
  S_REV,
  S_TCP,
  S_TM,
} from "./_table.ts";
import { extractConnKey, isIcmpKey, KEY_INVALID, KEY_RELATED, reverseKey } from "./_tuple.ts";
import { type CtTimeout, DEFAULT_TIMEOUT_S, TM } from "./_timeouts.ts";
import {
  CT_UPDATE_INVALID,
  CT_UPDATE_NEW,
  CT_UPDATE_VALID,
  CT_UPDATE_VALID_NEW,
  tcpConnUpdate,
  tcpNewConn,
  tcpUpdateTimeout,
  tcpValidNew,
} from "./tcp.ts";

const covFull = coverageCounter("conntrack_full");
const covLookupNatMiss = coverageCounter("conntrack_lookup_natted_miss");

/** ct_state bits (CS_*). */
export const CS_NEW = 0x01;
export const CS_ESTABLISHED = 0x02;
export const CS_RELATED = 0x04;
export const CS_REPLY_DIR = 0x08;
export const CS_INVALID = 0x10;
export const CS_TRACKED = 0x20;
export const CS_SRC_NAT = 0x40;
export const CS_DST_NAT = 0x80;

/** Other and ICMP protocol states (conntrack-other.c, conntrack-icmp.c). */
const OTHERS_FIRST = 0, OTHERS_MULTIPLE = 1, OTHERS_BIDIR = 2;
const ICMPS_FIRST = 0, ICMPS_REPLY = 1;

/** Ephemeral ports SNAT picks from when the action gives none. */
const NAT_MIN_EPHEMERAL = 1024;
const NAT_PROBES = 4096;

export class Conntrack {
  readonly table: ConnTable;
  private readonly hdr = newHeaderOffsets();
  /** The packet's key (and a candidate NAT reply key) scratch. */
  private readonly key = new Int32Array(KEY_WORDS * 2);
  private readonly bytes = new Uint8Array(64);
  private readonly mask = new Uint8Array(64);
  /** The slot connNotFound created, or -1. */
  private created = -1;

  constructor(sab: SharedArrayBuffer) {
    this.table = new ConnTable(sab);
  }

  /**
   * Runs the ct action whose ACT_CT payload is at `acts[at..]` on the
   * packet `p[0..len)`, with its metadata `md` (a flow key's bytes) read
   * and written; `now` in ms.
   */
  execute(
    p: Uint8Array,
    len: number,
    acts: Uint8Array,
    at: number,
    md: Uint8Array,
    now: number,
  ): void {
    const flags = acts[at + CT_OFF_FLAGS];
    const zone = (acts[at + CT_OFF_ZONE] << 8) | acts[at + CT_OFF_ZONE + 1];
    const force = (flags & CT_F_FORCE) !== 0;
    const commit = (flags & (CT_F_COMMIT | CT_F_FORCE)) !== 0;
    const natKind = flags & CT_F_NAT ? acts[at + CT_OFF_NAT_KIND] : -1;
    let st = md[F.ct_state.off];
    const mdZone = (md[F.ct_zone.off] << 8) | md[F.ct_zone.off + 1];
    // Reset ct_state when entering a new zone.
    if (st && mdZone !== zone) st = 0;
    if (st === CS_INVALID) return this.writeMd(md, st, zone, -1, false);
    const hdr = this.hdr;
    locateHeaders(p, len, hdr);
    const dl = hdr[HDR_DL_TYPE], l3 = hdr[HDR_L3];
    const key = this.key;
    const kind = (dl === ETH_TYPE_IP || dl === ETH_TYPE_IPV6) && l3 >= 0
      ? extractConnKey(p, len, l3, dl === ETH_TYPE_IPV6, zone, key, 0)
      : KEY_INVALID;
    if (kind === KEY_INVALID) return this.writeMd(md, CS_INVALID, zone, -1, false);
    const related = kind === KEY_RELATED;
    const t = this.table;
    t.lock();
    try {
      let ref = this.lookup(key, now, (st & (CS_SRC_NAT | CS_DST_NAT)) !== 0);
      let conn = ref >= 0 ? ref >> 1 : -1;
      let reply = ref >= 0 && (ref & 1) === 1;
      if (force && reply && conn >= 0) {
        t.remove(conn);
        conn = ref = -1;
        reply = false;
      }
      let create = false;
      if (conn >= 0) {
        if (related) {
          st |= CS_RELATED;
          if (reply) st |= CS_REPLY_DIR;
        } else {
          switch (this.update(conn, p, len, l3, reply, now)) {
            case CT_UPDATE_VALID:
              st = (st | CS_ESTABLISHED) & ~CS_NEW;
              if (reply) st |= CS_REPLY_DIR;
              break;
            case CT_UPDATE_INVALID:
              st = CS_INVALID;
              break;
            case CT_UPDATE_NEW:
              t.remove(conn);
              conn = -1;
              create = true;
              break;
            case CT_UPDATE_VALID_NEW:
              st |= CS_NEW;
              break;
          }
        }
        if (conn >= 0 && natKind >= 0 && !create) {
          st = this.handleNat(p, len, l3, conn, reply, related, st, mdZone !== zone);
        }
      } else if (related) {
        st = CS_INVALID;
      } else {
        create = true;
      }
      if (create) {
        reply = false;
        if (t.find(key, 0) < 0) {
          st = this.connNotFound(p, len, l3, commit, acts, at, natKind, now);
          conn = this.created;
        }
      }
      this.writeMd(md, st, zone, conn, true);
      if (conn >= 0) {
        const b = t.base(conn);
        if (flags & CT_F_MARK) {
          const m = getBe32(acts, at + CT_OFF_MARK), mm = getBe32(acts, at + CT_OFF_MARK_MASK);
          t.i32[b + S_MARK] = (m & mm) | (t.i32[b + S_MARK] & ~mm);
          putBe32(md, F.ct_mark.off, t.i32[b + S_MARK]);
        }
        if (flags & CT_F_LABEL) {
          for (let i = 0; i < 4; i++) {
            const v = getBe32(acts, at + CT_OFF_LABEL + 4 * i);
            const m = getBe32(acts, at + CT_OFF_LABEL_MASK + 4 * i);
            t.i32[b + S_LABEL + i] = (v & m) | (t.i32[b + S_LABEL + i] & ~m);
            putBe32(md, F.ct_label.off + 4 * i, t.i32[b + S_LABEL + i]);
          }
        }
      }
    } finally {
      t.unlock();
    }
  }

  /**
   * initial_conn_lookup: finds the key at `key[0..]`, expiring a stale
   * connection; a packet already NATed in this zone is first looked up
   * reversed. Returns `slot * 2 + reply` or -1.
   */
  private lookup(key: Int32Array, now: number, natted: boolean): number {
    if (natted) {
      reverseKey(key, 0, key, KEY_WORDS);
      const r = this.findLive(key, KEY_WORDS, now);
      if (r >= 0) return r ^ 1;
      covLookupNatMiss.inc();
    }
    return this.findLive(key, 0, now);
  }

  private findLive(k: Int32Array, at: number, now: number): number {
    const t = this.table;
    const r = t.find(k, at);
    if (r >= 0 && t.expiration(r >> 1) <= now) {
      t.remove(r >> 1);
      return -1;
    }
    return r;
  }

  private setTimeout(conn: number, tm: CtTimeout, now: number): void {
    const t = this.table;
    t.i32[t.base(conn) + S_TM] = tm;
    t.setExpiration(conn, now + DEFAULT_TIMEOUT_S[tm] * 1000);
  }

  /** conn_update: the protocol's state change for a packet of `conn`. */
  private update(
    conn: number,
    p: Uint8Array,
    len: number,
    l3: number,
    reply: boolean,
    now: number,
  ): number {
    const t = this.table, b = t.base(conn), w = t.i32;
    const proto = w[b + S_KEY + K_PROTO];
    if (proto === IPPROTO_TCP) {
      const v6 = w[b + S_KEY + K_V6] === 1;
      const l4 = this.hdrL4(p, l3, v6);
      const end = ipEnd(p, l3, v6, len);
      const seqChk = t.tcpSeqChk;
      const r = tcpConnUpdate(w, b + S_TCP, p, l4, end, reply, seqChk);
      if (tcpUpdateTimeout[0] >= 0) this.setTimeout(conn, tcpUpdateTimeout[0] as CtTimeout, now);
      return r;
    }
    if (isIcmpKey(w, b + S_KEY)) {
      let ret = CT_UPDATE_VALID;
      if (reply && w[b + S_PSTATE] === ICMPS_FIRST) w[b + S_PSTATE] = ICMPS_REPLY;
      else if (w[b + S_PSTATE] === ICMPS_FIRST) ret = CT_UPDATE_VALID_NEW;
      this.setTimeout(conn, w[b + S_PSTATE] === ICMPS_REPLY ? TM.ICMP_REPLY : TM.ICMP_FIRST, now);
      return ret;
    }
    const s = w[b + S_PSTATE];
    if (reply && s !== OTHERS_BIDIR) w[b + S_PSTATE] = OTHERS_BIDIR;
    else if (s === OTHERS_FIRST) w[b + S_PSTATE] = OTHERS_MULTIPLE;
    const ns = w[b + S_PSTATE];
    this.setTimeout(
      conn,
      ns === OTHERS_BIDIR
        ? TM.OTHER_BIDIR
        : ns === OTHERS_MULTIPLE
        ? TM.OTHER_MULTIPLE
        : TM.OTHER_FIRST,
      now,
    );
    return ns === OTHERS_BIDIR ? CT_UPDATE_VALID : CT_UPDATE_VALID_NEW;
  }

  private hdrL4(p: Uint8Array, l3: number, v6: boolean): number {
    // The key extraction accepted this header, so its offsets are sound.
    if (!v6) return l3 + (p[l3] & 15) * 4;
    let nxt = p[l3 + 6], q = l3 + 40;
    while (nxt === 0 || nxt === 43 || nxt === 60 || nxt === 51) {
      const n = p[q];
      q += nxt === 51 ? (p[q + 1] + 2) * 4 : (p[q + 1] + 1) * 8;
      nxt = n;
    }
    return q;
  }

  /**
   * conn_not_found: a packet with no connection; creates one on commit
   * (left in `created`). Returns the packet's ct_state.
   */
  private connNotFound(
    p: Uint8Array,
    len: number,
    l3: number,
    commit: boolean,
    acts: Uint8Array,
    at: number,
    natKind: number,
    now: number,
  ): number {
    this.created = -1;
    const key = this.key, t = this.table;
    const v6 = key[K_V6] === 1, proto = key[K_PROTO];
    const l4 = this.hdrL4(p, l3, v6);
    if (proto === IPPROTO_TCP && !tcpValidNew(p, l4)) return CS_INVALID;
    if (isIcmpKey(key, 0)) {
      const type = p[l4];
      const ok = v6 ? type === 128 : type === 8 || type === 15 || type === 13;
      if (!ok) return CS_INVALID;
    }
    let st = CS_NEW;
    if (!commit) return st;
    const s = t.alloc();
    if (s < 0) {
      covFull.inc();
      return st;
    }
    const b = t.base(s), w = t.i32;
    for (let i = 0; i < KEY_WORDS; i++) w[b + S_KEY + i] = key[i];
    reverseKey(key, 0, w, b + S_REV);
    if (natKind === CT_NAT_SRC || natKind === CT_NAT_DST) {
      if (!this.natUniqueTuple(s, acts, at, natKind)) {
        t.release(s);
        return st;
      }
      w[b + S_NAT] = natKind === CT_NAT_SRC ? NAT_SRC : NAT_DST;
    }
    let tm: CtTimeout;
    if (proto === IPPROTO_TCP) tm = tcpNewConn(w, b + S_TCP, p, l4, ipEnd(p, l3, v6, len));
    else if (isIcmpKey(key, 0)) tm = TM.ICMP_FIRST;
    else tm = TM.OTHER_FIRST;
    this.setTimeout(s, tm, now);
    t.publish(s);
    if (w[b + S_NAT]) st = this.natPacket(p, len, l3, s, false, false, st);
    this.created = s;
    return st;
  }

  /**
   * nat_get_unique_tuple: picks the reply key's translated address (and
   * port) from the action's ranges so no other connection has it.
   */
  private natUniqueTuple(s: number, acts: Uint8Array, at: number, natKind: number): boolean {
    const t = this.table, w = t.i32, b = t.base(s), cand = this.key;
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
      const lo = getBe32(acts, at + CT_OFF_NAT_ADDR_MIN + addrLen - 4);
      const maxZero = acts.subarray(at + CT_OFF_NAT_ADDR_MAX, at + CT_OFF_NAT_ADDR_MAX + addrLen)
        .every((x) => x === 0);
      const hi = maxZero ? lo : getBe32(acts, at + CT_OFF_NAT_ADDR_MAX + addrLen - 4);
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
          cand[KEY_WORDS + addrAt + i] = getBe32(acts, at + CT_OFF_NAT_ADDR_MIN + 4 * i);
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
    for (let i = 0; i < KEY_WORDS; i++) t.i32[b + S_REV + i] = this.key[KEY_WORDS + i];
    return true;
  }

  /** handle_nat: NATs a packet of an existing connection once per zone. */
  private handleNat(
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
   * header only). Checksums follow (packet/rewrite.ts).
   */
  private natPacket(
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
    const l4 = this.hdrL4(p, l3, v6);
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

  /**
   * write_ct_md: +trk, the zone, and the connection's mark, label and
   * original tuple (the packet's own key when there is no connection but
   * the key was read).
   */
  private writeMd(md: Uint8Array, st: number, zone: number, conn: number, haveKey: boolean): void {
    md[F.ct_state.off] = st | CS_TRACKED;
    md[F.ct_zone.off] = zone >>> 8;
    md[F.ct_zone.off + 1] = zone;
    const t = this.table, w = t.i32;
    const b = conn >= 0 ? t.base(conn) : -1;
    putBe32(md, F.ct_mark.off, b >= 0 ? w[b + S_MARK] : 0);
    for (let i = 0; i < 4; i++) {
      putBe32(md, F.ct_label.off + 4 * i, b >= 0 ? w[b + S_LABEL + i] : 0);
    }
    md.fill(0, F.ct_nw_src.off, F.ct_nw_dst.off + 4);
    md.fill(0, F.ct_ipv6_src.off, F.ct_ipv6_dst.off + 16);
    md.fill(0, F.ct_tp_src.off, F.ct_tp_dst.off + 2);
    md[F.ct_nw_proto.off] = 0;
    if (!haveKey) return;
    const src: Int32Array = b >= 0 ? w : this.key;
    const k = b >= 0 ? b + S_KEY : 0;
    const v6 = src[k + K_V6] === 1, proto = src[k + K_PROTO];
    md[F.ct_nw_proto.off] = proto;
    if (v6) {
      for (let i = 0; i < 4; i++) {
        putBe32(md, F.ct_ipv6_src.off + 4 * i, src[k + K_SRC + i]);
        putBe32(md, F.ct_ipv6_dst.off + 4 * i, src[k + K_DST + i]);
      }
    } else {
      putBe32(md, F.ct_nw_src.off, src[k + K_SRC]);
      putBe32(md, F.ct_nw_dst.off, src[k + K_DST]);
    }
    const icmp = proto === (v6 ? IPPROTO_ICMPV6 : IPPROTO_ICMP);
    const sp = src[k + K_SPORT], dp = src[k + K_DPORT];
    const tpSrc = icmp ? (sp >>> 8) & 0xff : sp & 0xffff;
    const tpDst = icmp ? sp & 0xff : dp & 0xffff;
    md[F.ct_tp_src.off] = tpSrc >>> 8;
    md[F.ct_tp_src.off + 1] = tpSrc;
    md[F.ct_tp_dst.off] = tpDst >>> 8;
    md[F.ct_tp_dst.off + 1] = tpDst;
  }
}

function getBe32(b: Uint8Array, o: number): number {
  return (b[o] << 24) | (b[o + 1] << 16) | (b[o + 2] << 8) | b[o + 3];
}

function putBe32(b: Uint8Array, o: number, v: number): void {
  b[o] = v >>> 24;
  b[o + 1] = v >>> 16;
  b[o + 2] = v >>> 8;
  b[o + 3] = v;
}

/** End of the IP packet at `l3` (its total/payload length, within `len`). */
function ipEnd(p: Uint8Array, l3: number, v6: boolean, len: number): number {
  const e = v6 ? l3 + 40 + ((p[l3 + 4] << 8) | p[l3 + 5]) : l3 + ((p[l3 + 2] << 8) | p[l3 + 3]);
  return Math.min(e, len);
}

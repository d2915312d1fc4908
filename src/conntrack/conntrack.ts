/**
 * The userspace connection tracker's packet path, as OVS's
 * lib/conntrack.c conntrack_execute / process_one: read the packet's
 * connection key, find the connection (either direction), update its
 * protocol state (tcp.ts, _icmp.ts, _other.ts), create it on commit
 * (conn_not_found), NAT the packet (_nat.ts), apply mark and label, and
 * write ct_state, ct_zone, ct_mark, ct_label and the original tuple into
 * the packet's metadata (write_ct_md). The metadata
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
  CT_NAT_SRC,
  CT_OFF_FLAGS,
  CT_OFF_LABEL,
  CT_OFF_LABEL_MASK,
  CT_OFF_MARK,
  CT_OFF_MARK_MASK,
  CT_OFF_NAT_KIND,
  CT_OFF_ZONE,
  F,
} from "../flow/mod.ts";
import { coverageCounter } from "../lib/mod.ts";
import {
  be32,
  ETH_TYPE_IP,
  ETH_TYPE_IPV6,
  HDR_DL_TYPE,
  HDR_L3,
  IPPROTO_ICMP,
  IPPROTO_ICMPV6,
  IPPROTO_TCP,
  locateHeaders,
  newHeaderOffsets,
  putBe32,
} from "../packet/mod.ts";
import {
  CS_DST_NAT,
  CS_ESTABLISHED,
  CS_INVALID,
  CS_NEW,
  CS_RELATED,
  CS_REPLY_DIR,
  CS_SRC_NAT,
  CS_TRACKED,
} from "../flow/mod.ts";
import { icmpConnUpdate, icmpTimeout, icmpValidNew } from "./_icmp.ts";
import { ConnNat } from "./_nat.ts";
import { otherConnUpdate, otherTimeout } from "./_other.ts";
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
  S_REV,
  S_TCP,
  S_TM,
} from "./_table.ts";
import {
  extractConnKey,
  ipEnd,
  isIcmpKey,
  KEY_INVALID,
  KEY_RELATED,
  l4Offset,
  reverseKey,
} from "./_tuple.ts";
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

export class Conntrack {
  readonly table: ConnTable;
  private readonly hdr = newHeaderOffsets();
  /** The packet's key (and a candidate NAT reply key) scratch. */
  private readonly key = new Int32Array(KEY_WORDS * 2);
  private readonly nat: ConnNat;
  /** The slot connNotFound created, or -1. */
  private created = -1;

  constructor(sab: SharedArrayBuffer) {
    this.table = new ConnTable(sab);
    this.nat = new ConnNat(this.table, this.key);
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
          st = this.nat.handleNat(p, len, l3, conn, reply, related, st, mdZone !== zone);
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
          const m = be32(acts, at + CT_OFF_MARK), mm = be32(acts, at + CT_OFF_MARK_MASK);
          t.i32[b + S_MARK] = (m & mm) | (t.i32[b + S_MARK] & ~mm);
          putBe32(md, F.ct_mark.off, t.i32[b + S_MARK]);
        }
        if (flags & CT_F_LABEL) {
          for (let i = 0; i < 4; i++) {
            const v = be32(acts, at + CT_OFF_LABEL + 4 * i);
            const m = be32(acts, at + CT_OFF_LABEL_MASK + 4 * i);
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
      const l4 = l4Offset(p, l3, v6);
      const end = ipEnd(p, l3, v6, len);
      const seqChk = t.tcpSeqChk;
      const r = tcpConnUpdate(w, b + S_TCP, p, l4, end, reply, seqChk);
      if (tcpUpdateTimeout[0] >= 0) this.setTimeout(conn, tcpUpdateTimeout[0] as CtTimeout, now);
      return r;
    }
    if (isIcmpKey(w, b + S_KEY)) {
      const r = icmpConnUpdate(w, b, reply);
      this.setTimeout(conn, icmpTimeout(w, b), now);
      return r;
    }
    const r = otherConnUpdate(w, b, reply);
    this.setTimeout(conn, otherTimeout(w, b), now);
    return r;
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
    const l4 = l4Offset(p, l3, v6);
    if (proto === IPPROTO_TCP && !tcpValidNew(p, l4)) return CS_INVALID;
    if (isIcmpKey(key, 0) && !icmpValidNew(p, l4, v6)) return CS_INVALID;
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
      if (!this.nat.uniqueTuple(s, acts, at, natKind)) {
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
    if (w[b + S_NAT]) st = this.nat.natPacket(p, len, l3, s, false, false, st);
    this.created = s;
    return st;
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

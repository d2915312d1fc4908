/**
 * TCP connection tracking, as OVS's lib/conntrack-tcp.c (pf's sequence
 * window tracking): `tcpNewConn` (tcp_new_conn), `tcpValidNew`
 * (tcp_valid_new) and `tcpConnUpdate` (tcp_conn_update) over the two peers
 * a connection slot holds (seqlo, seqhi, max_win, wscale, state each).
 *
 * Each peer's state is a `TcpState` and moves only along TCP_TRANSITIONS;
 * a move the table does not allow is refused (the peer keeps its state)
 * and logged. Allocates nothing.
 */
import { coverageCounter, getLogger } from "../lib/mod.ts";
import { TCP_ACK, TCP_FIN, TCP_PSH, TCP_RST, TCP_SYN, TCP_URG } from "../packet/mod.ts";
import { type CtTimeout, TM } from "./_timeouts.ts";

const covSeqChkBypass = coverageCounter("conntrack_tcp_seq_chk_bypass");
const covSeqChkFailed = coverageCounter("conntrack_tcp_seq_chk_failed");
const covInvalidFlags = coverageCounter("conntrack_invalid_tcp_flags");
const log = getLogger("conntrack_tcp");

/** ct_dpif_tcp_state, in OVS's order (the order the checks compare). */
export enum TcpState {
  CLOSED = 0,
  LISTEN,
  SYN_SENT,
  SYN_RECV,
  ESTABLISHED,
  CLOSE_WAIT,
  FIN_WAIT_1,
  CLOSING,
  LAST_ACK,
  FIN_WAIT_2,
  TIME_WAIT,
}

export const TCP_STATE_NAMES: readonly string[] = [
  "CLOSED",
  "LISTEN",
  "SYN_SENT",
  "SYN_RECV",
  "ESTABLISHED",
  "CLOSE_WAIT",
  "FIN_WAIT_1",
  "CLOSING",
  "LAST_ACK",
  "FIN_WAIT_2",
  "TIME_WAIT",
];

const S = TcpState;
/**
 * The moves tcp_conn_update makes on a peer: a SYN opens (SYN_SENT), the
 * other side's ACK establishes or half-closes, a FIN starts closing, an RST
 * or a SYN after both closed ends it.
 */
export const TCP_TRANSITIONS: ReadonlyMap<TcpState, readonly TcpState[]> = new Map([
  [S.CLOSED, [S.SYN_SENT, S.CLOSING, S.TIME_WAIT]],
  [S.LISTEN, [S.SYN_SENT, S.CLOSING, S.TIME_WAIT]],
  [S.SYN_SENT, [S.ESTABLISHED, S.CLOSING, S.TIME_WAIT, S.CLOSED]],
  [S.SYN_RECV, [S.SYN_SENT, S.ESTABLISHED, S.CLOSING, S.TIME_WAIT]],
  [S.ESTABLISHED, [S.CLOSING, S.TIME_WAIT]],
  [S.CLOSE_WAIT, [S.CLOSING, S.TIME_WAIT]],
  [S.FIN_WAIT_1, [S.CLOSING, S.TIME_WAIT]],
  [S.CLOSING, [S.FIN_WAIT_2, S.TIME_WAIT]],
  [S.LAST_ACK, [S.FIN_WAIT_2, S.TIME_WAIT]],
  [S.FIN_WAIT_2, [S.TIME_WAIT, S.CLOSED]],
  [S.TIME_WAIT, [S.CLOSED]],
]);

const allowed: boolean[][] = Array.from(
  { length: 11 },
  (_, from) =>
    Array.from(
      { length: 11 },
      (_, to) => from === to || (TCP_TRANSITIONS.get(from)?.includes(to) ?? false),
    ),
);

/** Peer words. */
const P_SEQLO = 0, P_SEQHI = 1, P_MAXWIN = 2, P_WSCALE = 3, P_STATE = 4;

const TCP_MAX_WSCALE = 14;
const WSCALE_FLAG = 0x80;
const WSCALE_UNKNOWN = 0x40;
const WSCALE_MASK = 0xf;
const MAXACKWINDOW = 0xffff + 1500;

export const CT_UPDATE_INVALID = 0;
export const CT_UPDATE_VALID = 1;
export const CT_UPDATE_NEW = 2;
export const CT_UPDATE_VALID_NEW = 3;

const seqGeq = (a: number, b: number) => ((a - b) | 0) >= 0;
const seqGt = (a: number, b: number) => ((a - b) | 0) > 0;

function setState(t: Int32Array, peer: number, to: TcpState): void {
  const from = t[peer + P_STATE] as TcpState;
  if (!allowed[from][to]) {
    log.warn(`refused TCP peer state change ${TCP_STATE_NAMES[from]} -> ${TCP_STATE_NAMES[to]}`);
    return;
  }
  t[peer + P_STATE] = to;
}

/** A TCP header's flags at `l4`. */
export const tcpFlags = (p: Uint8Array, l4: number): number => ((p[l4 + 12] & 1) << 8) | p[l4 + 13];

function invalidFlags(f: number): boolean {
  if (f & TCP_SYN) {
    if (f & (TCP_RST | TCP_FIN)) return true;
  } else if (!(f & (TCP_ACK | TCP_RST))) return true;
  if (!(f & TCP_ACK) && f & (TCP_FIN | TCP_PSH | TCP_URG)) return true;
  return false;
}

/** tcp_get_wscale: the window scale option, with WSCALE_FLAG when present. */
function getWscale(p: Uint8Array, l4: number): number {
  let len = (p[l4 + 12] >> 4) * 4 - 20;
  let o = l4 + 20, ws = 0;
  while (len >= 3) {
    const kind = p[o];
    if (kind === 0) return ws;
    if (kind === 1) {
      o++;
      len--;
      continue;
    }
    if (kind === 3) ws = Math.min(p[o + 2], TCP_MAX_WSCALE) | WSCALE_FLAG;
    const ol = Math.max(p[o + 1], 2);
    len -= ol;
    o += ol;
  }
  return ws;
}

const be32 = (p: Uint8Array, o: number) =>
  ((p[o] << 24) | (p[o + 1] << 16) | (p[o + 2] << 8) | p[o + 3]) >>> 0;
const payloadLen = (p: Uint8Array, l4: number, end: number) => end - l4 - (p[l4 + 12] >> 4) * 4;

export function tcpValidNew(p: Uint8Array, l4: number): boolean {
  const f = tcpFlags(p, l4);
  if (invalidFlags(f)) return false;
  return !((f & TCP_SYN) && (f & TCP_ACK));
}

/** tcp_new_conn: fills the peers at `t[at..]` (slot words); returns the timeout. */
export function tcpNewConn(
  t: Int32Array,
  at: number,
  p: Uint8Array,
  l4: number,
  end: number,
): CtTimeout {
  const src = at, dst = at + 5;
  t.fill(0, at, at + 10);
  const f = tcpFlags(p, l4);
  t[src + P_SEQLO] = be32(p, l4 + 4);
  t[src + P_SEQHI] = (t[src + P_SEQLO] + payloadLen(p, l4, end) + 1) | 0;
  if (f & TCP_SYN) {
    t[src + P_SEQHI]++;
    t[src + P_WSCALE] = getWscale(p, l4);
  } else {
    t[src + P_WSCALE] = WSCALE_UNKNOWN;
    t[dst + P_WSCALE] = WSCALE_UNKNOWN;
  }
  let maxWin = Math.max((p[l4 + 14] << 8) | p[l4 + 15], 1);
  const sws = t[src + P_WSCALE] & WSCALE_MASK;
  if (sws) maxWin = Math.ceil(maxWin / (1 << sws));
  t[src + P_MAXWIN] = maxWin;
  if (f & TCP_FIN) t[src + P_SEQHI]++;
  t[dst + P_SEQHI] = 1;
  t[dst + P_MAXWIN] = 1;
  t[src + P_STATE] = S.SYN_SENT;
  t[dst + P_STATE] = S.CLOSED;
  return TM.TCP_FIRST_PACKET;
}

/** The result of tcpConnUpdate and the timeout it sets (-1: unchanged). */
export const tcpUpdateTimeout = new Int32Array(1);

/**
 * tcp_conn_update for the packet at `l4` (IP payload ending at `end`),
 * sent by the reply side when `reply`; `seqChk` false skips the window
 * checks (other_config:tcp-seq-chk). Sets tcpUpdateTimeout[0].
 */
export function tcpConnUpdate(
  t: Int32Array,
  at: number,
  p: Uint8Array,
  l4: number,
  end: number,
  reply: boolean,
  seqChk: boolean,
): number {
  tcpUpdateTimeout[0] = -1;
  const src = reply ? at + 5 : at, dst = reply ? at : at + 5;
  const f = tcpFlags(p, l4);
  let win = (p[l4 + 14] << 8) | p[l4 + 15];
  const pLen = payloadLen(p, l4, end);
  if (invalidFlags(f)) {
    covInvalidFlags.inc();
    return CT_UPDATE_INVALID;
  }
  if ((f & (TCP_SYN | TCP_ACK)) === TCP_SYN) {
    if (t[dst + P_STATE] >= S.FIN_WAIT_2 && t[src + P_STATE] >= S.FIN_WAIT_2) {
      setState(t, src, S.CLOSED);
      setState(t, dst, S.CLOSED);
      return CT_UPDATE_NEW;
    } else if (t[src + P_STATE] <= S.SYN_SENT) {
      setState(t, src, S.SYN_SENT);
      tcpUpdateTimeout[0] = TM.TCP_FIRST_PACKET;
      return CT_UPDATE_VALID_NEW;
    }
  }
  let sws = 0, dws = 0;
  if (t[src + P_WSCALE] & WSCALE_FLAG && t[dst + P_WSCALE] & WSCALE_FLAG && !(f & TCP_SYN)) {
    sws = t[src + P_WSCALE] & WSCALE_MASK;
    dws = t[dst + P_WSCALE] & WSCALE_MASK;
  } else if (
    t[src + P_WSCALE] & WSCALE_UNKNOWN && t[dst + P_WSCALE] & WSCALE_UNKNOWN && !(f & TCP_SYN)
  ) {
    sws = dws = TCP_MAX_WSCALE;
  }
  const origSeq = be32(p, l4 + 4) | 0;
  let seq = origSeq, ack = be32(p, l4 + 8) | 0, end_ = (seq + pLen) | 0;
  let checkAckskew = true;
  if (t[src + P_STATE] < S.SYN_SENT) {
    if (f & TCP_SYN) {
      end_ = (end_ + 1) | 0;
      if (t[dst + P_WSCALE] & WSCALE_FLAG) {
        t[src + P_WSCALE] = getWscale(p, l4);
        if (t[src + P_WSCALE] & WSCALE_FLAG) {
          sws = t[src + P_WSCALE] & WSCALE_MASK;
          win = Math.ceil(win / (1 << sws));
          dws = t[dst + P_WSCALE] & WSCALE_MASK;
        } else {
          t[dst + P_MAXWIN] = (t[dst + P_MAXWIN] << (t[dst + P_WSCALE] & WSCALE_MASK)) & 0xffff;
          t[dst + P_WSCALE] = 0;
        }
      }
    }
    if (f & TCP_FIN) end_ = (end_ + 1) | 0;
    t[src + P_SEQLO] = seq;
    setState(t, src, S.SYN_SENT);
    const w = (end_ + Math.max(1, t[dst + P_MAXWIN] << dws)) | 0;
    if (t[src + P_SEQHI] === 1 || seqGeq(w, t[src + P_SEQHI])) {
      t[src + P_SEQHI] = w;
      checkAckskew = false;
    }
    if (win > t[src + P_MAXWIN]) t[src + P_MAXWIN] = win;
  } else {
    if (f & TCP_SYN) end_ = (end_ + 1) | 0;
    if (f & TCP_FIN) end_ = (end_ + 1) | 0;
  }
  if (!(f & TCP_ACK)) ack = t[dst + P_SEQLO];
  else if (ack === 0 && (f & (TCP_ACK | TCP_RST)) === (TCP_ACK | TCP_RST)) ack = t[dst + P_SEQLO];
  if (seq === end_) seq = end_ = t[src + P_SEQLO];
  const ackskew = checkAckskew ? (t[dst + P_SEQLO] - ack) | 0 : 0;
  const seqlo = t[src + P_SEQLO];
  const inWindow = seqGeq(t[src + P_SEQHI], end_) &&
    seqGeq(seq, (seqlo - (t[dst + P_MAXWIN] << dws)) | 0) &&
    ackskew >= -MAXACKWINDOW && ackskew <= (MAXACKWINDOW << sws) &&
    ((f & TCP_RST) === 0 || origSeq === seqlo || origSeq === ((seqlo + 1) | 0) ||
      ((origSeq + 1) | 0) === seqlo);
  let bypass = false;
  if (!inWindow && !seqChk) {
    covSeqChkBypass.inc();
    bypass = true;
  }
  if (inWindow || bypass) {
    if (t[src + P_MAXWIN] < win) t[src + P_MAXWIN] = win;
    if (seqGt(end_, t[src + P_SEQLO])) t[src + P_SEQLO] = end_;
    const wa = (ack + (win << sws)) | 0;
    if (seqGeq(wa, t[dst + P_SEQHI])) t[dst + P_SEQHI] = (ack + Math.max(win << sws, 1)) | 0;
    if (f & TCP_SYN && t[src + P_STATE] < S.SYN_SENT) setState(t, src, S.SYN_SENT);
    if (f & TCP_FIN && t[src + P_STATE] < S.CLOSING) setState(t, src, S.CLOSING);
    if (f & TCP_ACK) {
      if (t[dst + P_STATE] === S.SYN_SENT) setState(t, dst, S.ESTABLISHED);
      else if (t[dst + P_STATE] === S.CLOSING) setState(t, dst, S.FIN_WAIT_2);
    }
    if (f & TCP_RST) {
      setState(t, src, S.TIME_WAIT);
      setState(t, dst, S.TIME_WAIT);
    }
    const ss = t[src + P_STATE], ds = t[dst + P_STATE];
    tcpUpdateTimeout[0] = ss >= S.FIN_WAIT_2 && ds >= S.FIN_WAIT_2
      ? TM.TCP_CLOSED
      : ss >= S.CLOSING && ds >= S.CLOSING
      ? TM.TCP_FIN_WAIT
      : ss < S.ESTABLISHED || ds < S.ESTABLISHED
      ? TM.TCP_OPENING
      : ss >= S.CLOSING || ds >= S.CLOSING
      ? TM.TCP_CLOSING
      : TM.TCP_ESTABLISHED;
    return CT_UPDATE_VALID;
  }
  const ss = t[src + P_STATE], ds = t[dst + P_STATE];
  if (
    (ds < S.SYN_SENT || ds >= S.FIN_WAIT_2 || ss >= S.FIN_WAIT_2) &&
    seqGeq((t[src + P_SEQHI] + MAXACKWINDOW) | 0, end_) &&
    seqGeq(seq, (t[src + P_SEQLO] - MAXACKWINDOW) | 0)
  ) {
    if (t[src + P_MAXWIN] < win) t[src + P_MAXWIN] = win;
    if (seqGt(end_, t[src + P_SEQLO])) t[src + P_SEQLO] = end_;
    const wa = (ack + (win << sws)) | 0;
    if (seqGeq(wa, t[dst + P_SEQHI])) t[dst + P_SEQHI] = (ack + Math.max(win << sws, 1)) | 0;
    if (f & TCP_FIN && ss < S.CLOSING) setState(t, src, S.CLOSING);
    if (f & TCP_RST) {
      setState(t, src, S.TIME_WAIT);
      setState(t, dst, S.TIME_WAIT);
    }
    return CT_UPDATE_VALID;
  }
  covSeqChkFailed.inc();
  return CT_UPDATE_INVALID;
}

/** The state dump-conntrack prints: the larger peer state, coalesced as OVS does. */
export function tcpDumpState(t: Int32Array, at: number): string {
  let s = Math.max(t[at + P_STATE], t[at + 5 + P_STATE]);
  if (s === S.FIN_WAIT_2) s = S.TIME_WAIT;
  else if (s === S.SYN_RECV) s = S.ESTABLISHED;
  return TCP_STATE_NAMES[s];
}

/** The two peers' states (tests, verbose dumps). */
export function tcpPeerStates(t: Int32Array, at: number): [TcpState, TcpState] {
  return [t[at + P_STATE], t[at + 5 + P_STATE]];
}

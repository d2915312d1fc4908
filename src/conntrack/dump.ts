/**
 * The connection table as the dpctl conntrack commands see it: entries in
 * ct_dpif_format_entry's text (dump-conntrack), flushing by zone and by
 * original/reply tuple (ct_dpif_flush with ofp_ct_tuple_parse's fields),
 * and ct-stats-show's per-protocol counts. Expired connections are swept
 * first, so what is listed is what a packet would still find.
 */
import { formatIp4, formatIp6 } from "../flow/mod.ts";
import { timeMsec } from "../lib/mod.ts";
import {
  type ConnTable,
  K_DPORT,
  K_DST,
  K_PROTO,
  K_SPORT,
  K_SRC,
  K_V6,
  K_ZONE,
  S_KEY,
  S_LABEL,
  S_MARK,
  S_REV,
  S_TCP,
} from "./_table.ts";
import { isIcmpKey } from "./_tuple.ts";
import { TCP_STATE_NAMES, tcpDumpState, tcpPeerStates } from "./tcp.ts";

const PROTO_NAMES: Record<number, string> = {
  1: "icmp",
  58: "icmpv6",
  6: "tcp",
  17: "udp",
  132: "sctp",
  136: "udplite",
  33: "dccp",
  2: "igmp",
};

const scratch = new Uint8Array(16);

function addr(w: Int32Array, at: number, v6: boolean): string {
  for (let i = 0; i < (v6 ? 4 : 1); i++) {
    const v = w[at + i];
    scratch[4 * i] = v >>> 24;
    scratch[4 * i + 1] = v >>> 16;
    scratch[4 * i + 2] = v >>> 8;
    scratch[4 * i + 3] = v;
  }
  return v6 ? formatIp6(scratch, 0) : formatIp4(scratch, 0);
}

/** ct_dpif_format_tuple. */
function formatTuple(w: Int32Array, k: number): string {
  const v6 = w[k + K_V6] === 1;
  let s = `src=${addr(w, k + K_SRC, v6)},dst=${addr(w, k + K_DST, v6)}`;
  const sp = w[k + K_SPORT], dp = w[k + K_DPORT];
  if (isIcmpKey(w, k)) s += `,id=${sp >>> 16},type=${(sp >>> 8) & 0xff},code=${sp & 0xff}`;
  else s += `,sport=${sp & 0xffff},dport=${dp & 0xffff}`;
  return s;
}

function hexLabel(w: Int32Array, at: number): string | null {
  let s = "";
  for (let i = 0; i < 4; i++) s += (w[at + i] >>> 0).toString(16).padStart(8, "0");
  s = s.replace(/^0+/, "");
  return s === "" ? null : "0x" + s;
}

/** ct_dpif_format_entry for slot `s` (`stats`: -s, adds the timeout). */
export function formatConn(t: ConnTable, s: number, now: number, stats: boolean): string {
  const w = t.i32, b = t.base(s);
  const proto = w[b + S_KEY + K_PROTO];
  let out = `${PROTO_NAMES[proto] ?? proto},orig=(${formatTuple(w, b + S_KEY)}),reply=(${
    formatTuple(w, b + S_REV)
  })`;
  const zone = w[b + S_KEY + K_ZONE];
  if (zone) out += `,zone=${zone}`;
  if (stats) out += `,timeout=${Math.max(0, Math.floor((t.expiration(s) - now) / 1000))}`;
  if (w[b + S_MARK]) out += `,mark=${w[b + S_MARK] >>> 0}`;
  const label = hexLabel(w, b + S_LABEL);
  if (label) out += `,labels=${label}`;
  if (proto === 6) out += `,protoinfo=(state=${tcpDumpState(w, b + S_TCP)})`;
  return out;
}

/** Live connections (optionally of one zone), after sweeping the expired ones. */
export function liveConns(t: ConnTable, zone: number | null, now = timeMsec()): number[] {
  t.sweep(now);
  const out: number[] = [];
  t.lock();
  try {
    for (let s = 0, n = t.high; s < n; s++) {
      if (!t.isLive(s)) continue;
      if (zone !== null && t.i32[t.base(s) + S_KEY + K_ZONE] !== zone) continue;
      out.push(s);
    }
  } finally {
    t.unlock();
  }
  return out;
}

/** dump-conntrack's lines. */
export function dumpConns(
  t: ConnTable,
  zone: number | null,
  stats: boolean,
  now = timeMsec(),
): string[] {
  return liveConns(t, zone, now).map((s) => formatConn(t, s, now, stats));
}

/** A flush tuple (ofp_ct_tuple_parse): unset fields match anything. */
export interface CtTupleMatch {
  v6: boolean | null;
  src: Int32Array | null;
  dst: Int32Array | null;
  proto: number | null;
  sport: number | null;
  dport: number | null;
  icmpId: number | null;
  icmpType: number | null;
  icmpCode: number | null;
}

export function emptyTupleMatch(): CtTupleMatch {
  return {
    v6: null,
    src: null,
    dst: null,
    proto: null,
    sport: null,
    dport: null,
    icmpId: null,
    icmpType: null,
    icmpCode: null,
  };
}

function tupleMatches(w: Int32Array, k: number, m: CtTupleMatch): boolean {
  const v6 = w[k + K_V6] === 1;
  if (m.v6 !== null && m.v6 !== v6) return false;
  const eqAddr = (a: Int32Array | null, at: number) =>
    a === null || a.every((x, i) => w[at + i] === x);
  if (!eqAddr(m.src, k + K_SRC) || !eqAddr(m.dst, k + K_DST)) return false;
  if (m.proto !== null && m.proto !== w[k + K_PROTO]) return false;
  const sp = w[k + K_SPORT], dp = w[k + K_DPORT];
  if (isIcmpKey(w, k)) {
    if (m.icmpId !== null && m.icmpId !== sp >>> 16) return false;
    if (m.icmpType !== null && m.icmpType !== ((sp >>> 8) & 0xff)) return false;
    if (m.icmpCode !== null && m.icmpCode !== (sp & 0xff)) return false;
  } else {
    if (m.sport !== null && m.sport !== (sp & 0xffff)) return false;
    if (m.dport !== null && m.dport !== (dp & 0xffff)) return false;
  }
  return true;
}

/** flush-conntrack: removes the connections of `zone` matching the tuples; returns how many. */
export function flushConns(
  t: ConnTable,
  zone: number | null,
  orig: CtTupleMatch | null,
  reply: CtTupleMatch | null,
): number {
  let n = 0;
  t.lock();
  try {
    for (let s = 0, high = t.high; s < high; s++) {
      if (!t.isLive(s)) continue;
      const b = t.base(s);
      if (zone !== null && t.i32[b + S_KEY + K_ZONE] !== zone) continue;
      if (orig && !tupleMatches(t.i32, b + S_KEY, orig)) continue;
      if (reply && !tupleMatches(t.i32, b + S_REV, reply)) continue;
      t.remove(s);
      n++;
    }
  } finally {
    t.unlock();
  }
  return n;
}

/** ct-stats-show's text (dpctl_ct_stats_show); `verbose` adds TCP states. */
export function ctStatsShow(
  t: ConnTable,
  zone: number | null,
  verbose: boolean,
  now = timeMsec(),
): string {
  const counts = new Map<string, number>();
  const tcpStates = new Array<number>(TCP_STATE_NAMES.length).fill(0);
  const conns = liveConns(t, zone, now);
  for (const s of conns) {
    const w = t.i32, b = t.base(s);
    const p = w[b + S_KEY + K_PROTO];
    const name = p === 1
      ? "ICMP"
      : p === 58
      ? "ICMPV6"
      : p === 6
      ? "TCP"
      : p === 17
      ? "UDP"
      : p === 132
      ? "SCTP"
      : p === 136
      ? "UDPLITE"
      : p === 33
      ? "DCCP"
      : p === 2
      ? "IGMP"
      : "Other";
    counts.set(name, (counts.get(name) ?? 0) + 1);
    if (p === 6) {
      const [a, c] = tcpPeerStates(w, b + S_TCP);
      tcpStates[Math.max(a, c)]++;
    }
  }
  let out = `Connections Stats:\n    Total: ${conns.length}\n`;
  const tcp = counts.get("TCP");
  if (tcp) {
    out += `  TCP: ${tcp}\n`;
    if (verbose) {
      out += "    Conn per TCP states:\n";
      tcpStates.forEach((n, i) => {
        if (n) out += `\t  [${TCP_STATE_NAMES[i]}]=${n}\n`;
      });
    }
  }
  for (const name of ["UDP", "UDPLITE", "SCTP", "ICMP", "DCCP", "IGMP", "Other"]) {
    const n = counts.get(name);
    if (n) out += `  ${name}: ${n}\n`;
  }
  return out;
}

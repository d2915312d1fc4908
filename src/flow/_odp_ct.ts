/**
 * The datapath `ct(...)` action as text and bytes: parse_conntrack_action
 * and scan_ct_nat (the parse, normalised as nl_msg_put_ct_nat stores it),
 * format_odp_conntrack_action and format_odp_ct_nat (the print), and the
 * record odp_action_codec.ts stores (ACT_CT; layout at CT_OFF_*), which
 * the PMD reads in place.
 */
import type { OdpCtAction, OdpCtNat } from "./odp_action.ts";
import { formatIp4, formatIp6, parseIp4, parseIp6 } from "./_addr.ts";
import { hex128Into } from "./_key_bytes.ts";
import { hex128 } from "./_key_fields.ts";
import { OdpParseError, parseHex, splitTop } from "./_scan.ts";

/** ACT_CT payload offsets; strings (u8 length + bytes) follow CT_FIXED_LEN. */
export const CT_OFF_FLAGS = 0;
export const CT_OFF_ZONE = 1;
export const CT_OFF_MARK = 3;
export const CT_OFF_MARK_MASK = 7;
export const CT_OFF_LABEL = 11;
export const CT_OFF_LABEL_MASK = 27;
export const CT_OFF_EVENTMASK = 43;
export const CT_OFF_NAT_KIND = 47;
export const CT_OFF_NAT_FLAGS = 48;
export const CT_OFF_NAT_ADDR_LEN = 49;
export const CT_OFF_NAT_PROTO_MIN = 50;
export const CT_OFF_NAT_PROTO_MAX = 52;
export const CT_OFF_NAT_ADDR_MIN = 54;
export const CT_OFF_NAT_ADDR_MAX = 70;
export const CT_FIXED_LEN = 86;

/** CT_OFF_FLAGS bits. */
export const CT_F_COMMIT = 1;
export const CT_F_FORCE = 2;
export const CT_F_MARK = 4;
export const CT_F_LABEL = 8;
export const CT_F_NAT = 16;
export const CT_F_EVENTMASK = 32;
/** CT_OFF_NAT_KIND values. */
export const CT_NAT_NONE = 0;
export const CT_NAT_SRC = 1;
export const CT_NAT_DST = 2;
/** CT_OFF_NAT_FLAGS bits. */
export const CT_NAT_F_PERSISTENT = 1;
export const CT_NAT_F_HASH = 2;
export const CT_NAT_F_RANDOM = 4;

const enc = new TextEncoder();
const dec = new TextDecoder();

export function newCtAction(): OdpCtAction {
  return {
    type: "ct",
    commit: false,
    forceCommit: false,
    zone: 0,
    mark: 0,
    markMask: 0,
    label: null,
    helper: null,
    timeout: null,
    eventmask: null,
    nat: null,
  };
}

/** A datapath nat with nothing set (a bare `nat` once `kind` is chosen). */
export function newCtNat(): OdpCtNat {
  return {
    kind: null,
    addrLen: 0,
    addrMin: new Uint8Array(16),
    addrMax: new Uint8Array(16),
    protoMin: 0,
    protoMax: 0,
    persistent: false,
    hash: false,
    random: false,
  };
}

const isZero = (b: Uint8Array, n: number) => b.subarray(0, n).every((x) => x === 0);
function cmp(a: Uint8Array, b: Uint8Array, n: number): number {
  for (let i = 0; i < n; i++) if (a[i] !== b[i]) return a[i] - b[i];
  return 0;
}

function parseU16Dec(s: string, t: string): number {
  if (!/^[0-9]+$/.test(s) || Number(s) > 0xffff) throw new OdpParseError(t);
  return Number(s);
}

/** One address of a NAT range: a.b.c.d, or IPv6 bare or in brackets. */
function scanAddr(s: string, out: Uint8Array, t: string): 4 | 16 {
  if (parseIp4(s, out, 0)) return 4;
  const v6 = s.startsWith("[") && s.endsWith("]") ? s.slice(1, -1) : s;
  if (parseIp6(v6, out, 0)) return 16;
  throw new OdpParseError(t, "bad nat address");
}

/** `src[=A[-B][:P[-Q]]]`: the address and port part (scan_ct_nat_range). */
function scanNatRange(r: string, p: OdpCtNat, t: string): void {
  if (r === "") return;
  if (!r.startsWith("=")) throw new OdpParseError(t);
  r = r.slice(1);
  // The port part follows the last ':' outside brackets, for IPv4 only or
  // a bracketed IPv6 address (a bare IPv6 address takes no port).
  let ports: string | null = null;
  const close = r.lastIndexOf("]");
  const colon = r.lastIndexOf(":");
  const v4ish = !r.includes("[") && r.split(":").length === 2;
  if ((close >= 0 && colon > close) || v4ish) {
    ports = r.slice(colon + 1);
    r = r.slice(0, colon);
  }
  const dash = r.includes("[") ? r.indexOf("]-") + 1 : r.indexOf("-");
  const lo = dash > 0 ? r.slice(0, dash) : r;
  const hi = dash > 0 ? r.slice(dash + 1) : null;
  const n = scanAddr(lo, p.addrMin, t);
  p.addrLen = n;
  if (hi !== null && scanAddr(hi, p.addrMax, t) !== n) throw new OdpParseError(t);
  if (ports !== null) {
    const [a, b] = ports.split("-", 2);
    p.protoMin = parseU16Dec(a, t);
    if (b !== undefined) p.protoMax = parseU16Dec(b, t);
  }
}

/** `nat` or `nat(...)` (scan_ct_nat), stored as nl_msg_put_ct_nat stores it. */
function scanNat(body: string | null, t: string): OdpCtNat {
  const p = newCtNat();
  if (body === null) return p;
  let snat = false, dnat = false;
  for (const tok of splitTop(body)) {
    if (tok.startsWith("src")) {
      scanNatRange(tok.slice(3), p, t);
      snat = true;
    } else if (tok.startsWith("dst")) {
      scanNatRange(tok.slice(3), p, t);
      dnat = true;
    } else if (tok === "persistent") p.persistent = true;
    else if (tok === "hash") p.hash = true;
    else if (tok === "random") p.random = true;
    else throw new OdpParseError(tok, "bad nat option");
  }
  const n = p.addrLen;
  if (snat && dnat) throw new OdpParseError(t, "only one of src or dst may be present");
  if (
    (n !== 0 && !isZero(p.addrMax, n) && cmp(p.addrMax, p.addrMin, n) < 0) ||
    (p.protoMax && p.protoMax < p.protoMin)
  ) throw new OdpParseError(t, "nat range error");
  if (p.hash && p.random) throw new OdpParseError(t, "nat hash and random together");
  if (!snat && !dnat) return newCtNat();
  p.kind = snat ? "src" : "dst";
  // What the netlink form keeps: no max equal to min, options only with an
  // address.
  if (cmp(p.addrMax, p.addrMin, n) <= 0) p.addrMax.fill(0);
  if (!(p.protoMax > p.protoMin)) p.protoMax = 0;
  if (n === 0) {
    p.protoMin = p.protoMax = 0;
    p.persistent = p.hash = p.random = false;
  }
  return p;
}

/** The body of `ct(...)` (empty for a bare `ct`), as parse_conntrack_action. */
export function parseCtAction(body: string, t: string): OdpCtAction {
  const a = newCtAction();
  for (const tok of splitTop(body)) {
    const eq = tok.indexOf("=");
    const key = eq < 0 ? tok : tok.slice(0, eq);
    const v = eq < 0 ? "" : tok.slice(eq + 1);
    if (tok === "commit") a.commit = true;
    else if (tok === "force_commit") a.forceCommit = true;
    else if (key === "zone" && eq > 0) a.zone = parseU16Dec(v, tok);
    else if (key === "mark" && eq > 0) {
      const [mv, mm] = v.split("/", 2);
      const value = parseHex(mv), mask = mm === undefined ? 0xffffffff : parseHex(mm);
      if (value === null || mask === null) throw new OdpParseError(tok);
      a.mark = value;
      a.markMask = mask;
    } else if (key === "label" && eq > 0) {
      const [lv, lm] = v.split("/", 2);
      const l = new Uint8Array(32);
      if (!hex128Into(lv, l, 0)) throw new OdpParseError(tok);
      if (lm === undefined) l.fill(0xff, 16);
      else if (!hex128Into(lm, l, 16)) throw new OdpParseError(tok);
      a.label = isZero(l.subarray(16), 16) ? null : l;
    } else if ((key === "helper" || key === "timeout") && eq > 0) {
      if (v === "" || v.length > (key === "helper" ? 15 : 31)) throw new OdpParseError(tok);
      a[key] = v;
    } else if (tok === "nat") a.nat = scanNat(null, tok);
    else if (tok.startsWith("nat(") && tok.endsWith(")")) a.nat = scanNat(tok.slice(4, -1), tok);
    else throw new OdpParseError(tok, "bad ct() field");
  }
  if (a.commit && a.forceCommit) throw new OdpParseError(t, "commit and force_commit together");
  if (a.forceCommit) a.commit = false;
  if (a.markMask === 0) a.mark = 0;
  return a;
}

const hx = (v: number) => (v === 0 ? "0" : "0x" + (v >>> 0).toString(16));

function formatNat(p: OdpCtNat): string {
  if (p.kind === null) return "nat";
  let s = "nat(" + p.kind;
  const n = p.addrLen;
  if (n > 0) {
    const bracket = n === 16 && p.protoMin !== 0;
    const addr = (b: Uint8Array) =>
      n === 4 ? formatIp4(b, 0) : bracket ? `[${formatIp6(b, 0)}]` : formatIp6(b, 0);
    s += "=" + addr(p.addrMin);
    if (!isZero(p.addrMax, n) && cmp(p.addrMax, p.addrMin, n) !== 0) s += "-" + addr(p.addrMax);
    if (p.protoMin) {
      s += ":" + p.protoMin;
      if (p.protoMax && p.protoMax !== p.protoMin) s += "-" + p.protoMax;
    }
  }
  if (p.persistent) s += ",persistent";
  if (p.hash) s += ",hash";
  if (p.random) s += ",random";
  return s + ")";
}

/** format_odp_conntrack_action. */
export function formatCtAction(a: OdpCtAction): string {
  const parts: string[] = [];
  if (a.commit) parts.push("commit");
  if (a.forceCommit) parts.push("force_commit");
  if (a.zone) parts.push(`zone=${a.zone}`);
  if (a.markMask) parts.push(`mark=${hx(a.mark)}/${hx(a.markMask)}`);
  if (a.label) {
    const full = a.label.subarray(16).every((x) => x === 0xff);
    parts.push("label=" + hex128(a.label, 0) + (full ? "" : "/" + hex128(a.label, 16)));
  }
  if (a.helper) parts.push(`helper=${a.helper}`);
  if (a.timeout) parts.push(`timeout=${a.timeout}`);
  if (a.nat) parts.push(formatNat(a.nat));
  return parts.length ? `ct(${parts.join(",")})` : "ct";
}

export function ctPayloadLen(a: OdpCtAction): number {
  return CT_FIXED_LEN + 2 + enc.encode(a.helper ?? "").length +
    enc.encode(a.timeout ?? "").length;
}

function put(b: Uint8Array, o: number, n: number, v: number): void {
  for (let i = n - 1; i >= 0; i--, v = Math.floor(v / 256)) b[o + i] = v & 0xff;
}
function get(b: Uint8Array, o: number, n: number): number {
  let v = 0;
  for (let i = 0; i < n; i++) v = v * 256 + b[o + i];
  return v;
}

/** Writes the ACT_CT payload at `out[p..]`. */
export function encodeCtAction(a: OdpCtAction, out: Uint8Array, p: number): void {
  out.fill(0, p, p + CT_FIXED_LEN);
  let flags = 0;
  if (a.commit) flags |= CT_F_COMMIT;
  if (a.forceCommit) flags |= CT_F_FORCE;
  if (a.markMask) flags |= CT_F_MARK;
  if (a.label) flags |= CT_F_LABEL;
  if (a.nat) flags |= CT_F_NAT;
  if (a.eventmask !== null) flags |= CT_F_EVENTMASK;
  out[p + CT_OFF_FLAGS] = flags;
  put(out, p + CT_OFF_ZONE, 2, a.zone);
  put(out, p + CT_OFF_MARK, 4, a.mark);
  put(out, p + CT_OFF_MARK_MASK, 4, a.markMask);
  if (a.label) out.set(a.label, p + CT_OFF_LABEL);
  put(out, p + CT_OFF_EVENTMASK, 4, a.eventmask ?? 0);
  const nat = a.nat;
  if (nat) {
    out[p + CT_OFF_NAT_KIND] = nat.kind === "src"
      ? CT_NAT_SRC
      : nat.kind === "dst"
      ? CT_NAT_DST
      : CT_NAT_NONE;
    out[p + CT_OFF_NAT_FLAGS] = (nat.persistent ? CT_NAT_F_PERSISTENT : 0) |
      (nat.hash ? CT_NAT_F_HASH : 0) | (nat.random ? CT_NAT_F_RANDOM : 0);
    out[p + CT_OFF_NAT_ADDR_LEN] = nat.addrLen;
    put(out, p + CT_OFF_NAT_PROTO_MIN, 2, nat.protoMin);
    put(out, p + CT_OFF_NAT_PROTO_MAX, 2, nat.protoMax);
    out.set(nat.addrMin.subarray(0, 16), p + CT_OFF_NAT_ADDR_MIN);
    out.set(nat.addrMax.subarray(0, 16), p + CT_OFF_NAT_ADDR_MAX);
  }
  let o = p + CT_FIXED_LEN;
  for (const s of [a.helper ?? "", a.timeout ?? ""]) {
    const b = enc.encode(s);
    out[o] = b.length;
    out.set(b, o + 1);
    o += 1 + b.length;
  }
}

/** Reads an ACT_CT payload back (printing and tests; the PMD reads bytes). */
export function decodeCtAction(b: Uint8Array): OdpCtAction {
  if (b.length < CT_FIXED_LEN + 2) throw new RangeError("short ct action");
  const a = newCtAction();
  const flags = b[CT_OFF_FLAGS];
  a.commit = (flags & CT_F_COMMIT) !== 0;
  a.forceCommit = (flags & CT_F_FORCE) !== 0;
  a.zone = get(b, CT_OFF_ZONE, 2);
  if (flags & CT_F_MARK) {
    a.mark = get(b, CT_OFF_MARK, 4);
    a.markMask = get(b, CT_OFF_MARK_MASK, 4);
  }
  if (flags & CT_F_LABEL) a.label = b.slice(CT_OFF_LABEL, CT_OFF_LABEL + 32);
  if (flags & CT_F_EVENTMASK) a.eventmask = get(b, CT_OFF_EVENTMASK, 4);
  if (flags & CT_F_NAT) {
    const n = newCtNat();
    const kind = b[CT_OFF_NAT_KIND];
    n.kind = kind === CT_NAT_SRC ? "src" : kind === CT_NAT_DST ? "dst" : null;
    const nf = b[CT_OFF_NAT_FLAGS];
    n.persistent = (nf & CT_NAT_F_PERSISTENT) !== 0;
    n.hash = (nf & CT_NAT_F_HASH) !== 0;
    n.random = (nf & CT_NAT_F_RANDOM) !== 0;
    const len = b[CT_OFF_NAT_ADDR_LEN];
    if (len !== 0 && len !== 4 && len !== 16) throw new RangeError(`bad nat address length ${len}`);
    n.addrLen = len;
    n.protoMin = get(b, CT_OFF_NAT_PROTO_MIN, 2);
    n.protoMax = get(b, CT_OFF_NAT_PROTO_MAX, 2);
    n.addrMin.set(b.subarray(CT_OFF_NAT_ADDR_MIN, CT_OFF_NAT_ADDR_MIN + 16));
    n.addrMax.set(b.subarray(CT_OFF_NAT_ADDR_MAX, CT_OFF_NAT_ADDR_MAX + 16));
    a.nat = n;
  }
  let o = CT_FIXED_LEN;
  const str = (): string | null => {
    const n = b[o];
    if (o + 1 + n > b.length) throw new RangeError("truncated ct action string");
    const s = dec.decode(b.subarray(o + 1, o + 1 + n));
    o += 1 + n;
    return s === "" ? null : s;
  };
  a.helper = str();
  a.timeout = str();
  return a;
}

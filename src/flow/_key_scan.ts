/**
 * Value scanners for datapath-flow text, as OVS's odp-util.c scan_u8,
 * scan_be16, scan_ipv6_label, scan_frag, scan_vlan, scan_mpls,
 * scan_tcp_flags and scan_u128: each reads one attribute's `v[/m]` text
 * into the key bytes `k` and mask bytes `m` at a field's offset (a value
 * without a mask is matched exactly), throwing OdpParseError naming the
 * bad text. odp_key_parse.ts walks the attributes and calls these.
 */
import { F, FRAG_ANY, FRAG_LATER, FRAG_MASK, VLAN_CFI } from "./layout.ts";
import { parseFlags, TCP_FLAG_NAMES } from "./_flags.ts";
import { hex128Into, put, u32 } from "./_key_bytes.ts";
import { fieldsOf, OdpParseError, parseHex, parseIntC, splitMask } from "./_scan.ts";

/** One attribute of the text: `name(body)`, and the whole of it for errors. */
export type Attr = { name: string; body: string; text: string };

/**
 * `v[/m]` into a `len`-byte field; `max` limits both, as
 * scan_ipv6_label limits the label to its 20 bits. Without a mask the
 * whole field is matched.
 */
export function scanNum(
  k: Uint8Array,
  m: Uint8Array,
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
  put(k, o, len, kv);
  put(m, o, len, mv);
}

export function scanFields(a: Attr, handlers: Record<string, (v: string) => void>): void {
  for (const [name, v] of fieldsOf(a.body)) {
    const h = handlers[name];
    if (!h) throw new OdpParseError(`${name}=${v}`, `unknown field in ${a.name}()`);
    h(v);
  }
}

export function scanAddr(
  k: Uint8Array,
  m: Uint8Array,
  a: Attr,
  v: string,
  o: number,
  len: number,
  parse: (s: string, b: Uint8Array, off: number) => boolean,
): void {
  const [x, mm] = splitMask(v);
  if (!parse(x, k, o)) throw new OdpParseError(x, `bad address in ${a.name}()`);
  if (mm === null) m.fill(0xff, o, o + len);
  else if (!parse(mm, m, o)) throw new OdpParseError(mm, `bad mask in ${a.name}()`);
}

/** scan_frag: an enumeration, matched exactly; OVS takes no mask. */
export function scanFrag(k: Uint8Array, m: Uint8Array, a: Attr, v: string): void {
  const val = v === "no"
    ? 0
    : v === "first"
    ? FRAG_ANY
    : v === "later"
    ? FRAG_ANY | FRAG_LATER
    : -1;
  if (val < 0) throw new OdpParseError(`frag=${v}`, `bad frag in ${a.name}()`);
  k[F.nw_frag.off] = val;
  m[F.nw_frag.off] = FRAG_MASK;
}

export function scanVlan(k: Uint8Array, m: Uint8Array, a: Attr, o: number): void {
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
  put(k, o, 2, tci);
  put(m, o, 2, tm);
}

export function scanTcpFlags(k: Uint8Array, m: Uint8Array, a: Attr): void {
  const o = F.tcp_flags.off;
  const flags = /^[0-9]/.test(a.body) && a.body !== "0"
    ? null
    : parseFlags(TCP_FLAG_NAMES, a.body, 0xfff);
  if (flags) {
    put(k, o, 2, flags[0]);
    put(m, o, 2, flags[1] === 0xfff ? 0xffff : flags[1]);
    return;
  }
  // Numbers are OVS's TCP_FLAGS: 12 bits, and a 12-bit mask is exact.
  const [v, mm] = splitMask(a.body);
  const kv = parseIntC(v, 0xfff);
  const mv = mm === null ? 0xfff : parseIntC(mm, 0xfff);
  if (kv === null || mv === null) throw new OdpParseError(a.text);
  put(k, o, 2, kv);
  put(m, o, 2, mv === 0xfff ? 0xffff : mv);
}

export function scanMpls(k: Uint8Array, m: Uint8Array, a: Attr): void {
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
    const lse = u32(k, o), lm = u32(m, o);
    put(k, o, 4, ((lse & ~(max << shift)) | (kv << shift)) >>> 0);
    put(m, o, 4, ((lm & ~(max << shift)) | (mv << shift)) >>> 0);
  }
}

export function scanU128(k: Uint8Array, m: Uint8Array, a: Attr, o: number): void {
  const [v, mm] = splitMask(a.body);
  if (!hex128Into(v, k, o)) throw new OdpParseError(a.text);
  if (mm === null) m.fill(0xff, o, o + 16);
  else if (!hex128Into(mm, m, o)) throw new OdpParseError(a.text);
}

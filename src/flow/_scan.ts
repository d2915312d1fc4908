/**
 * Scanning helpers for datapath-flow text: split `name(args)` lists at
 * their top-level commas, split `k=v` fields, and read numbers the way
 * C's `%i` does (0x hex, leading-0 octal, else decimal).
 */

/** A parse failure; `token` is the piece of text that did not parse. */
export class OdpParseError extends Error {
  override name = "OdpParseError";
  /**
   * OVS's own wording of this error where it differs from `message`: the
   * key parser sets `syntax error at ` plus the flow text from the
   * failing attribute on, as odp_flow_from_string does.
   */
  ovs: string | null = null;
  constructor(readonly token: string, detail?: string) {
    super(detail ? `${detail}: ${token}` : `syntax error at ${token}`);
  }

  /** The error as OVS words it (netdev-dummy/receive, dpctl). */
  get ovsMessage(): string {
    return this.ovs ?? this.message;
  }
}

/** Start offsets of the top-level comma-separated parts of `s` (never throws). */
export function topStarts(s: string): number[] {
  const out: number[] = [];
  let depth = 0;
  let inPart = false;
  for (let i = 0; i < s.length; i++) {
    const c = s[i];
    const sep = (c === "," || c === " " || c === "\t") && depth === 0;
    if (!sep && !inPart) {
      out.push(i);
      inPart = true;
    }
    if (c === "(") depth++;
    else if (c === ")") depth = Math.max(0, depth - 1);
    else if (sep) inPart = false;
  }
  return out;
}

/** Splits at commas (and blanks) that are not inside parentheses. */
export function splitTop(s: string): string[] {
  const out: string[] = [];
  let depth = 0;
  let start = 0;
  for (let i = 0; i < s.length; i++) {
    const c = s[i];
    if (c === "(") depth++;
    else if (c === ")") {
      depth--;
      if (depth < 0) throw new OdpParseError(s.slice(i), "unbalanced parenthesis");
    } else if ((c === "," || c === " " || c === "\t") && depth === 0) {
      if (i > start) out.push(s.slice(start, i));
      start = i + 1;
    }
  }
  if (depth !== 0) throw new OdpParseError(s.slice(start), "unbalanced parenthesis");
  if (start < s.length) out.push(s.slice(start));
  return out;
}

/** `name(args)` -> [name, args]; null when the text has another shape. */
export function splitCall(s: string): [string, string] | null {
  const p = s.indexOf("(");
  if (p <= 0 || !s.endsWith(")")) return null;
  const name = s.slice(0, p);
  if (!/^[A-Za-z_0-9]+$/.test(name)) return null;
  return [name, s.slice(p + 1, -1)];
}

/** `v` or `v/m`. */
export function splitMask(s: string): [string, string | null] {
  const i = s.indexOf("/");
  return i < 0 ? [s, null] : [s.slice(0, i), s.slice(i + 1)];
}

/** Parses an unsigned integer as C's %i does; null if it is not one. */
export function parseIntC(s: string, max = 0xffffffff): number | null {
  let v: number;
  if (/^0[xX][0-9a-fA-F]+$/.test(s)) v = parseInt(s.slice(2), 16);
  else if (/^0[0-7]+$/.test(s)) v = parseInt(s.slice(1), 8);
  else if (/^[0-9]+$/.test(s)) v = parseInt(s, 10);
  else return null;
  return v <= max ? v : null;
}

/** Parses a hex number with or without 0x. */
export function parseHex(s: string, max = 0xffffffff): number | null {
  const t = s.startsWith("0x") || s.startsWith("0X") ? s.slice(2) : s;
  if (!/^[0-9a-fA-F]+$/.test(t)) return null;
  const v = parseInt(t, 16);
  return v <= max ? v : null;
}

/** Parses `k=v` fields of an attribute body, in order. */
export function fieldsOf(body: string): Array<[string, string]> {
  if (body === "") return [];
  return splitTop(body).map((f) => {
    const i = f.indexOf("=");
    if (i <= 0) throw new OdpParseError(f);
    return [f.slice(0, i), f.slice(i + 1)];
  });
}

/**
 * Flag-set text shared by keys and stats: ct_state names, TCP flag names,
 * and OVS's two ways of printing a masked flag set.
 */

export const CT_STATE_NAMES: ReadonlyArray<readonly [number, string]> = [
  [0x01, "new"],
  [0x02, "est"],
  [0x04, "rel"],
  [0x08, "rpl"],
  [0x10, "inv"],
  [0x20, "trk"],
  [0x40, "snat"],
  [0x80, "dnat"],
];

export const TCP_FLAG_NAMES: ReadonlyArray<readonly [number, string]> = [
  [0x001, "fin"],
  [0x002, "syn"],
  [0x004, "rst"],
  [0x008, "psh"],
  [0x010, "ack"],
  [0x020, "urg"],
  [0x040, "ece"],
  [0x080, "cwr"],
  [0x100, "ns"],
  [0x200, "[200]"],
  [0x400, "[400]"],
  [0x800, "[800]"],
];

/** The bit a TCP flag name stands for (`syn`, `[200]`), or null. */
export function tcpFlagBit(name: string): number | null {
  for (const [bit, n] of TCP_FLAG_NAMES) if (n === name) return bit;
  return null;
}

/**
 * TCP flags under a 12-bit mask as OVS prints them in both flow syntaxes
 * (format_flags_masked with packet_tcp_flag_to_string).
 */
export function formatTcpFlagsMasked(flags: number, mask: number): string {
  return formatFlagsMasked(TCP_FLAG_NAMES, flags, mask, 0xfff);
}

function nameOf(names: ReadonlyArray<readonly [number, string]>, bit: number): string | null {
  for (const [b, n] of names) if (b === bit) return n;
  return null;
}

/** `a|b|c`, or `0` for no flags; unnamed bits gathered as one hex value. */
export function formatFlags(
  names: ReadonlyArray<readonly [number, string]>,
  flags: number,
): string {
  if (flags === 0) return "0";
  const out: string[] = [];
  let bad = 0;
  for (let f = flags >>> 0; f !== 0;) {
    const bit = (f & -f) >>> 0;
    const s = nameOf(names, bit);
    if (s) out.push(s);
    else bad = (bad | bit) >>> 0;
    f = (f & ~bit) >>> 0;
  }
  if (bad) out.push("0x" + bad.toString(16));
  return out.join("|");
}

/** `+a-b` for each bit of the mask; the plain form for a full mask. */
export function formatFlagsMasked(
  names: ReadonlyArray<readonly [number, string]>,
  flags: number,
  mask: number,
  maxMask: number,
): string {
  if (mask >>> 0 === maxMask >>> 0) return formatFlags(names, flags);
  if (mask === 0) return "0/0";
  let s = "";
  for (let m = mask >>> 0; m !== 0;) {
    const bit = (m & -m) >>> 0;
    s += (flags & bit ? "+" : "-") + (nameOf(names, bit) ?? "[Unknown]");
    m = (m & ~bit) >>> 0;
  }
  return s;
}

/**
 * Parses `+a-b` (bits named are matched, set or clear) or `a|b` (exact)
 * into [value, mask]; null when a name is unknown.
 */
export function parseFlags(
  names: ReadonlyArray<readonly [number, string]>,
  s: string,
  allBits: number,
): [number, number] | null {
  let value = 0;
  let mask = 0;
  if (s.startsWith("+") || s.startsWith("-")) {
    const re = /([+-])([a-z]+|\[[0-9a-f]+\])/gy;
    let pos = 0;
    for (let m = re.exec(s); m; m = re.exec(s)) {
      const bit = names.find(([, n]) => n === m![2])?.[0];
      if (bit === undefined) return null;
      if (m[1] === "+") value |= bit;
      mask |= bit;
      pos = re.lastIndex;
    }
    return pos === s.length ? [value >>> 0, mask >>> 0] : null;
  }
  if (s === "0") return [0, allBits];
  for (const part of s.split("|")) {
    const bit = names.find(([, n]) => n === part)?.[0];
    if (bit === undefined) return null;
    value |= bit;
  }
  return [value >>> 0, allBits];
}

/** Stats `flags:` text, in tcpdump's letters (packet_format_tcp_flags). */
export function formatTcpFlagsStats(f: number): string {
  if (!f) return "none";
  let s = "";
  if (f & 0x002) s += "S";
  if (f & 0x001) s += "F";
  if (f & 0x008) s += "P";
  if (f & 0x004) s += "R";
  if (f & 0x020) s += "U";
  if (f & 0x010) s += ".";
  if (f & 0x040) s += "E";
  if (f & 0x080) s += "C";
  if (f & 0x100) s += "N";
  if (f & 0x200) s += "[200]";
  if (f & 0x400) s += "[400]";
  if (f & 0x800) s += "[800]";
  return s;
}

const STATS_LETTERS: ReadonlyArray<readonly [string, number]> = [
  ["[200]", 0x200],
  ["[400]", 0x400],
  ["[800]", 0x800],
  ["S", 0x002],
  ["F", 0x001],
  ["P", 0x008],
  ["R", 0x004],
  ["U", 0x020],
  [".", 0x010],
  ["E", 0x040],
  ["C", 0x080],
  ["N", 0x100],
];

export function parseTcpFlagsStats(s: string): number | null {
  if (s === "none") return 0;
  let f = 0;
  let i = 0;
  outer: while (i < s.length) {
    for (const [t, bit] of STATS_LETTERS) {
      if (s.startsWith(t, i)) {
        f |= bit;
        i += t.length;
        continue outer;
      }
    }
    return null;
  }
  return f;
}

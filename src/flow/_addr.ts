/**
 * Address text as OVS prints and scans it: MACs as xx:xx:xx:xx:xx:xx,
 * IPv4 dotted quads, IPv6 the way glibc's inet_ntop writes it.
 */

const HEX = "0123456789abcdef";

function hex2(v: number): string {
  return HEX[(v >>> 4) & 15] + HEX[v & 15];
}

export function formatMac(b: Uint8Array, off: number): string {
  let s = hex2(b[off]);
  for (let i = 1; i < 6; i++) s += ":" + hex2(b[off + i]);
  return s;
}

export function formatIp4(b: Uint8Array, off: number): string {
  return `${b[off]}.${b[off + 1]}.${b[off + 2]}.${b[off + 3]}`;
}

export function formatIp6(b: Uint8Array, off: number): string {
  const w: number[] = [];
  for (let i = 0; i < 8; i++) w.push((b[off + 2 * i] << 8) | b[off + 2 * i + 1]);
  let bestBase = -1;
  let bestLen = 0;
  for (let i = 0; i < 8;) {
    if (w[i] !== 0) {
      i++;
      continue;
    }
    let j = i;
    while (j < 8 && w[j] === 0) j++;
    if (j - i > bestLen) {
      bestBase = i;
      bestLen = j - i;
    }
    i = j;
  }
  if (bestLen < 2) bestBase = -1;
  let s = "";
  for (let i = 0; i < 8; i++) {
    if (bestBase !== -1 && i >= bestBase && i < bestBase + bestLen) {
      if (i === bestBase) s += ":";
      continue;
    }
    if (i !== 0) s += ":";
    if (i === 6 && bestBase === 0 && (bestLen === 6 || (bestLen === 5 && w[5] === 0xffff))) {
      s += formatIp4(b, off + 12);
      break;
    }
    s += w[i].toString(16);
  }
  if (bestBase !== -1 && bestBase + bestLen === 8) s += ":";
  return s;
}

/** Parses a MAC into b[off..off+6); false when `s` is not one. */
export function parseMac(s: string, b: Uint8Array, off: number): boolean {
  const parts = s.split(":");
  if (parts.length !== 6) return false;
  for (let i = 0; i < 6; i++) {
    if (!/^[0-9a-fA-F]{1,2}$/.test(parts[i])) return false;
    b[off + i] = parseInt(parts[i], 16);
  }
  return true;
}

export function parseIp4(s: string, b: Uint8Array, off: number): boolean {
  const parts = s.split(".");
  if (parts.length !== 4) return false;
  for (let i = 0; i < 4; i++) {
    if (!/^[0-9]{1,3}$/.test(parts[i])) return false;
    const v = Number(parts[i]);
    if (v > 255) return false;
    b[off + i] = v;
  }
  return true;
}

export function parseIp6(s: string, b: Uint8Array, off: number): boolean {
  const lastColon = s.lastIndexOf(":");
  if (lastColon >= 0 && s.indexOf(".", lastColon) > 0) {
    // An embedded IPv4 tail stands for the last two 16-bit groups.
    const t = new Uint8Array(4);
    if (!parseIp4(s.slice(lastColon + 1), t, 0)) return false;
    s = s.slice(0, lastColon + 1) + ((t[0] << 8) | t[1]).toString(16) + ":" +
      ((t[2] << 8) | t[3]).toString(16);
  }
  const parseGroup = (g: string): number[] | null => {
    if (g === "") return [];
    const out: number[] = [];
    for (const p of g.split(":")) {
      if (!/^[0-9a-fA-F]{1,4}$/.test(p)) return null;
      out.push(parseInt(p, 16));
    }
    return out;
  };
  let words: number[];
  const dbl = s.indexOf("::");
  if (dbl >= 0) {
    if (dbl !== s.lastIndexOf("::")) return false;
    const head = parseGroup(s.slice(0, dbl));
    const tail = parseGroup(s.slice(dbl + 2));
    if (!head || !tail || head.length + tail.length > 7) return false;
    words = [...head, ...new Array<number>(8 - head.length - tail.length).fill(0), ...tail];
  } else {
    const all = parseGroup(s);
    if (!all || all.length !== 8) return false;
    words = all;
  }
  for (let i = 0; i < 8; i++) {
    b[off + 2 * i] = words[i] >>> 8;
    b[off + 2 * i + 1] = words[i];
  }
  return true;
}

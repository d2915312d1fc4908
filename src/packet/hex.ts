/**
 * Packets written as hex, as `netdev-dummy/receive` and ovs-pcap take and
 * give them: an even number of hex digits, nothing else.
 */

export function isHexPacket(s: string): boolean {
  return s.length > 0 && s.length % 2 === 0 && /^[0-9a-fA-F]+$/.test(s);
}

/** Decodes into `out` and returns the length, or -1 if it is not hex or does not fit. */
export function parseHexPacket(s: string, out: Uint8Array): number {
  if (!isHexPacket(s) || s.length / 2 > out.length) return -1;
  for (let i = 0; i < s.length; i += 2) out[i >> 1] = parseInt(s.slice(i, i + 2), 16);
  return s.length / 2;
}

export function toHex(b: Uint8Array, len = b.length): string {
  let s = "";
  for (let i = 0; i < len; i++) s += b[i].toString(16).padStart(2, "0");
  return s;
}

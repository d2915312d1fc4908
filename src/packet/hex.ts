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

const ETH_HEADER_LEN = 14;

/**
 * eth_from_hex: a frame from hex digit pairs (blanks allowed between
 * them) at least an Ethernet header long; otherwise OVS's words for what
 * is wrong with it.
 */
export function ethFromHex(s: string): Uint8Array | string {
  const hex = s.replace(/\s+/g, "");
  if (!/^([0-9a-fA-F]{2})*$/.test(hex)) return "Trailing garbage in packet data";
  if (hex.length / 2 < ETH_HEADER_LEN) return "Packet data too short for Ethernet";
  const out = new Uint8Array(hex.length / 2);
  parseHexPacket(hex, out);
  return out;
}

export function toHex(b: Uint8Array, len = b.length): string {
  let s = "";
  for (let i = 0; i < len; i++) s += b[i].toString(16).padStart(2, "0");
  return s;
}

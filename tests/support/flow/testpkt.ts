/** Hand-built test frames (independent of compose.ts, which they check). */

export function hex(s: string): Uint8Array {
  const t = s.replace(/\s+/g, "");
  const b = new Uint8Array(t.length / 2);
  for (let i = 0; i < b.length; i++) b[i] = parseInt(t.slice(2 * i, 2 * i + 2), 16);
  return b;
}

export const ETH_05_07 = "505400000007 505400000005";

/** IPv4/TCP 10.0.0.1:1000 -> 10.0.0.2:80, no payload, flags as given. */
export function tcp4(flags = "00", vlan = ""): Uint8Array {
  return hex(
    ETH_05_07 + vlan + "0800" +
      "45000028 0000 0000 4006 0000 0a000001 0a000002" +
      "03e8 0050 00000000 00000000 50" + flags + " 0000 0000 0000",
  );
}

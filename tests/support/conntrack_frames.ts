/**
 * Frames for the conntrack tests, written the long way (checksums summed
 * here, not by the code under test): UDP from a flow spec, TCP with given
 * flags and sequence numbers, ICMP errors quoting another packet.
 */
import { csumAdd, csumFinish, ethFromHex, toHex } from "../../src/packet/mod.ts";
import { parsePacketSpec } from "../../src/flow/mod.ts";

/** The frame OVS composes for a datapath flow spec, in hex. */
export function hexOf(spec: string): string {
  const b = new Uint8Array(2048);
  return toHex(b, parsePacketSpec(spec, b));
}

/** The checksum of b[off, off+len) on top of a pseudo-header's partial `sum`. */
const csumOver = (b: Uint8Array, off: number, len: number, sum = 0): number =>
  csumFinish(csumAdd(sum, b, off, len));

export function validUdp(p: Uint8Array, len: number): boolean {
  if (csumOver(p, 14, 20) !== 0) return false;
  const ulen = len - 34;
  let s = 17 + ulen;
  for (let i = 26; i < 34; i += 2) s += (p[i] << 8) | p[i + 1];
  return csumOver(p, 34, ulen, s) === 0;
}

function ip4(s: string): number[] {
  return s.split(".").map(Number);
}

/** An Ethernet+IPv4 frame around an L4 payload, checksums filled in. */
function ipFrame(
  src: string,
  dst: string,
  proto: number,
  l4: Uint8Array,
  l4CsumAt: number,
  pseudo: boolean,
): string {
  const p = new Uint8Array(34 + l4.length);
  p.set([0x50, 0x54, 0, 0, 0, 2, 0x50, 0x54, 0, 0, 0, 1, 0x08, 0x00]);
  p.set([0x45, 0, (20 + l4.length) >> 8, (20 + l4.length) & 0xff, 0, 0, 0, 0, 64, proto, 0, 0], 14);
  p.set([...ip4(src), ...ip4(dst)], 26);
  const hc = csumOver(p, 14, 20);
  p[24] = hc >> 8;
  p[25] = hc & 0xff;
  p.set(l4, 34);
  let s = 0;
  if (pseudo) {
    s = proto + l4.length;
    for (let i = 26; i < 34; i += 2) s += (p[i] << 8) | p[i + 1];
  }
  const c = csumOver(p, 34, l4.length, s);
  p[34 + l4CsumAt] = c >> 8;
  p[34 + l4CsumAt + 1] = c & 0xff;
  return toHex(p);
}

export function hexIcmpError(src: string, dst: string, quotedHex: string): string {
  const q = ethFromHex(quotedHex) as Uint8Array;
  const l4 = new Uint8Array(8 + q.length);
  l4.set([3, 3, 0, 0, 0, 0, 0, 0]);
  l4.set(q, 8);
  return ipFrame(src, dst, 1, l4, 2, false);
}

const TCP_FLAG_BITS: Record<string, number> = { fin: 1, syn: 2, rst: 4, psh: 8, ack: 16 };

export function tcpHex(
  src: string,
  dst: string,
  sp: number,
  dp: number,
  flags: string,
  seq: number,
  ack: number,
): string {
  const t = new Uint8Array(20);
  const f = flags.split("|").reduce((a, n) => a | TCP_FLAG_BITS[n], 0);
  t.set([sp >> 8, sp & 0xff, dp >> 8, dp & 0xff]);
  new DataView(t.buffer).setUint32(4, seq >>> 0);
  new DataView(t.buffer).setUint32(8, ack >>> 0);
  t[12] = 5 << 4;
  t[13] = f;
  t[14] = 0xff;
  t[15] = 0xff;
  return ipFrame(src, dst, 6, t, 16, true);
}

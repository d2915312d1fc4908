/**
 * Test helper: a small flow_extract (Ethernet, one VLAN, IPv4, TCP/UDP)
 * so datapath tests do not depend on the full parser in src/flow.
 */
import { F } from "../../../src/flow/mod.ts";

export function flowExtract(p: Uint8Array, len: number, inPort: number, key: Uint32Array): void {
  key.fill(0);
  const b = new Uint8Array(key.buffer, key.byteOffset, key.byteLength);
  const put = (off: number, src: number, n: number) => {
    for (let i = 0; i < n; i++) b[off + i] = p[src + i];
  };
  b[F.in_port.off] = inPort >>> 24, b[F.in_port.off + 1] = inPort >>> 16;
  b[F.in_port.off + 2] = inPort >>> 8, b[F.in_port.off + 3] = inPort;
  if (len < 14) return;
  put(F.dl_dst.off, 0, 6);
  put(F.dl_src.off, 6, 6);
  let o = 12;
  if (p[o] === 0x81 && p[o + 1] === 0 && len >= 18) {
    b[F.vlan0_tpid.off] = 0x81;
    b[F.vlan0_tci.off] = p[o + 2] | 0x10;
    b[F.vlan0_tci.off + 1] = p[o + 3];
    o += 4;
  }
  put(F.dl_type.off, o, 2);
  o += 2;
  if (p[o - 2] !== 0x08 || p[o - 1] !== 0x00 || len < o + 20) return;
  put(F.nw_src.off, o + 12, 4);
  put(F.nw_dst.off, o + 16, 4);
  b[F.nw_tos.off] = p[o + 1];
  b[F.nw_ttl.off] = p[o + 8];
  b[F.nw_proto.off] = p[o + 9];
  const l4 = o + (p[o] & 15) * 4;
  if ((p[o + 9] === 6 || p[o + 9] === 17) && len >= l4 + 4) {
    put(F.tp_src.off, l4, 2);
    put(F.tp_dst.off, l4 + 2, 2);
    if (p[o + 9] === 6 && len >= l4 + 14) {
      b[F.tcp_flags.off] = p[l4 + 12] & 0x0f;
      b[F.tcp_flags.off + 1] = p[l4 + 13];
    }
  }
}

/** A UDP/IPv4 frame of `len` bytes from MAC `src` to MAC `dst` (last octets). */
export function udpFrame(
  src: number,
  dst: number,
  sport: number,
  dport: number,
  len = 64,
): Uint8Array {
  const f = new Uint8Array(len);
  f.set([0x50, 0x54, 0, (dst >>> 16) & 255, (dst >>> 8) & 255, dst & 255], 0);
  f.set([0x50, 0x54, 0, (src >>> 16) & 255, (src >>> 8) & 255, src & 255], 6);
  f.set([0x08, 0x00, 0x45, 0, 0, len - 14, 0, 1, 0, 0, 64, 17, 0, 0, 10, 0, 0, 1, 10, 0, 0, 2], 12);
  f.set([sport >>> 8, sport & 255, dport >>> 8, dport & 255, 0, len - 34, 0, 0], 34);
  return f;
}

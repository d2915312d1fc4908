/**
 * The OpenFlow header every message starts with, framing (how long the
 * message at the front of a byte stream is), and the version-independent
 * messages: hello with its version bitmap and the negotiation OVS's
 * rconn/ofconn do with it (ofputil_decode_hello, ofputil_encode_hello),
 * echo and barrier. Follows lib/ofp-msgs.c and lib/ofp-protocol.c.
 */
import { WireReader, WireWriter } from "./_buf.ts";
import {
  OFP10_VERSION,
  OFPT10_BARRIER_REPLY,
  OFPT11_BARRIER_REPLY,
  OFPT_ECHO_REPLY,
  OFPT_HELLO,
} from "./types.ts";

export interface OfpHeader {
  version: number;
  type: number;
  length: number;
  xid: number;
}

/** Smallest message: the header alone; largest: what the 16-bit length allows. */
export const OFP_HEADER_LEN = 8;

export function decodeHeader(b: Uint8Array): OfpHeader {
  const r = new WireReader(b);
  return { version: r.u8(), type: r.u8(), length: r.u16(), xid: r.u32() };
}

/**
 * The length of the message at the front of `b`: 0 when more bytes are
 * needed, -1 when the header's length is below the header's own size
 * (the stream cannot be resynchronised; OVS drops the connection too).
 */
export function frameLength(b: Uint8Array): number {
  if (b.length < OFP_HEADER_LEN) return 0;
  const len = (b[2] << 8) | b[3];
  if (len < OFP_HEADER_LEN) return -1;
  return b.length >= len ? len : 0;
}

/** Starts a message; its length is filled in by `finishMessage`. */
export function encodeHeader(w: WireWriter, version: number, type: number, xid: number): void {
  w.u8(version).u8(type).u16(0).u32(xid >>> 0);
}

const OFPHET_VERSIONBITMAP = 1;

/**
 * The versions a hello offers: its bitmap when it has one, else every
 * version from 1.0 up to the header's (ofputil_decode_hello).
 */
export function helloVersions(msg: Uint8Array): Set<number> {
  const h = decodeHeader(msg);
  const r = new WireReader(msg, "OFPBRC_BAD_LEN", OFP_HEADER_LEN, Math.min(h.length, msg.length));
  while (r.remaining >= 4) {
    const type = r.u16();
    const len = r.u16();
    if (len < 4 || len - 4 > r.remaining) break;
    const body = r.sub(len - 4);
    // Elements are padded to 8 bytes; the last one's padding may be missing.
    r.skip(Math.min((8 - (len % 8)) % 8, r.remaining));
    if (type !== OFPHET_VERSIONBITMAP) continue;
    const out = new Set<number>();
    for (let word = 0; body.remaining >= 4; word++) {
      const bits = body.u32();
      for (let bit = 0; bit < 32; bit++) if ((bits >>> bit) & 1) out.add(word * 32 + bit);
    }
    return out;
  }
  const out = new Set<number>();
  for (let v = OFP10_VERSION; v <= h.version; v++) out.add(v);
  return out;
}

/**
 * A hello offering `versions`: the header carries the highest, and a
 * version bitmap follows unless the set is every version from 1.0 up.
 */
export function encodeHello(versions: ReadonlySet<number>, xid: number): Uint8Array {
  const max = Math.max(...versions);
  const w = new WireWriter();
  encodeHeader(w, max, OFPT_HELLO, xid);
  let contiguous = true;
  for (let v = OFP10_VERSION; v <= max; v++) if (!versions.has(v)) contiguous = false;
  if (!contiguous) {
    let bits = 0;
    for (const v of versions) bits |= 1 << v;
    w.u16(OFPHET_VERSIONBITMAP).u16(8).u32(bits >>> 0);
  }
  w.setU16(2, w.length);
  return w.finish();
}

/** The version both sides speak: the highest they share, if any. */
export function negotiateVersion(
  ours: ReadonlySet<number>,
  theirs: ReadonlySet<number>,
): number | undefined {
  let best: number | undefined;
  for (const v of ours) if (theirs.has(v) && (best === undefined || v > best)) best = v;
  return best;
}

/** A reply that repeats the request's body under another type (echo). */
export function encodeEchoReply(request: Uint8Array): Uint8Array {
  const out = request.slice();
  out[1] = OFPT_ECHO_REPLY;
  return out;
}

export function encodeBarrierReply(version: number, xid: number): Uint8Array {
  const w = new WireWriter();
  encodeHeader(
    w,
    version,
    version === OFP10_VERSION ? OFPT10_BARRIER_REPLY : OFPT11_BARRIER_REPLY,
    xid,
  );
  w.setU16(2, w.length);
  return w.finish();
}

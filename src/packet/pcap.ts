/**
 * libpcap capture files: a 24-byte global header (magic, version 2.4,
 * snaplen, link type), then per packet a 16-byte record header (seconds,
 * micro- or nanoseconds, captured length, original length) and the bytes.
 *
 * Files are written little-endian with the microsecond magic unless
 * nanoseconds are asked for; both magics are read in either byte order.
 * Writing goes into caller-provided buffers so a capture loop allocates
 * nothing per packet.
 */

export const PCAP_MAGIC_USEC = 0xa1b2c3d4;
export const PCAP_MAGIC_NSEC = 0xa1b23c4d;
export const PCAP_HEADER_LEN = 24;
export const PCAP_RECORD_HEADER_LEN = 16;
export const LINKTYPE_ETHERNET = 1;

export interface PcapFileInfo {
  nanos: boolean;
  littleEndian: boolean;
  snaplen: number;
  linkType: number;
}

export interface PcapPacket {
  tsSec: number;
  /** Microseconds or nanoseconds, as the file's magic says. */
  tsFrac: number;
  data: Uint8Array;
  origLen: number;
}

export class PcapError extends Error {
  override name = "PcapError";
}

/** Writes a global header at out[0..24); returns 24. */
export function writePcapHeader(
  out: Uint8Array,
  opts: { nanos?: boolean; snaplen?: number; linkType?: number } = {},
): number {
  const v = new DataView(out.buffer, out.byteOffset, PCAP_HEADER_LEN);
  v.setUint32(0, opts.nanos ? PCAP_MAGIC_NSEC : PCAP_MAGIC_USEC, true);
  v.setUint16(4, 2, true);
  v.setUint16(6, 4, true);
  v.setInt32(8, 0, true);
  v.setUint32(12, 0, true);
  v.setUint32(16, opts.snaplen ?? 65535, true);
  v.setUint32(20, opts.linkType ?? LINKTYPE_ETHERNET, true);
  return PCAP_HEADER_LEN;
}

/**
 * Writes one record (header and the first `len` bytes of `pkt`, cut to
 * `snaplen`) at out[off..]; returns the offset after it.
 */
export function writePcapRecord(
  out: Uint8Array,
  off: number,
  pkt: Uint8Array,
  len: number,
  tsSec: number,
  tsFrac: number,
  snaplen = 65535,
): number {
  const incl = Math.min(len, snaplen);
  if (off + PCAP_RECORD_HEADER_LEN + incl > out.length) throw new RangeError("pcap buffer full");
  const v = new DataView(out.buffer, out.byteOffset + off, PCAP_RECORD_HEADER_LEN);
  v.setUint32(0, tsSec, true);
  v.setUint32(4, tsFrac, true);
  v.setUint32(8, incl, true);
  v.setUint32(12, len, true);
  out.set(pkt.subarray(0, incl), off + PCAP_RECORD_HEADER_LEN);
  return off + PCAP_RECORD_HEADER_LEN + incl;
}

/** A whole file for the given packets (timestamps from `tsMs`, milliseconds). */
export function encodePcap(
  packets: ReadonlyArray<{ data: Uint8Array; tsMs?: number }>,
  opts: { nanos?: boolean; snaplen?: number } = {},
): Uint8Array {
  const snaplen = opts.snaplen ?? 65535;
  let size = PCAP_HEADER_LEN;
  for (const p of packets) size += PCAP_RECORD_HEADER_LEN + Math.min(p.data.length, snaplen);
  const out = new Uint8Array(size);
  let off = writePcapHeader(out, opts);
  for (const p of packets) {
    const ms = p.tsMs ?? 0;
    const sec = Math.floor(ms / 1000);
    const frac = Math.round((ms - sec * 1000) * (opts.nanos ? 1e6 : 1e3));
    off = writePcapRecord(out, off, p.data, p.data.length, sec, frac, snaplen);
  }
  return out;
}

export function readPcapHeader(b: Uint8Array): PcapFileInfo {
  if (b.length < PCAP_HEADER_LEN) throw new PcapError("file too short for a pcap header");
  const v = new DataView(b.buffer, b.byteOffset, b.byteLength);
  const le = v.getUint32(0, true);
  const be = v.getUint32(0, false);
  let littleEndian: boolean, magic: number;
  if (le === PCAP_MAGIC_USEC || le === PCAP_MAGIC_NSEC) [littleEndian, magic] = [true, le];
  else if (be === PCAP_MAGIC_USEC || be === PCAP_MAGIC_NSEC) [littleEndian, magic] = [false, be];
  else throw new PcapError(`bad pcap magic 0x${le.toString(16).padStart(8, "0")}`);
  const major = v.getUint16(4, littleEndian);
  if (major !== 2) throw new PcapError(`unsupported pcap version ${major}`);
  return {
    nanos: magic === PCAP_MAGIC_NSEC,
    littleEndian,
    snaplen: v.getUint32(16, littleEndian),
    linkType: v.getUint32(20, littleEndian),
  };
}

/** Reads a whole file. A truncated last record is an error naming its offset. */
export function readPcap(b: Uint8Array): { info: PcapFileInfo; packets: PcapPacket[] } {
  const { info, packets, error } = readPcapPrefix(b);
  if (error) throw error;
  return { info, packets };
}

/**
 * Reads the records of a pcap file up to the first bad one, as OVS's
 * ovs_pcap_read stops at a record it cannot read: `packets` are the whole
 * records before it and `error` names the bad record's offset (a record
 * cut by the end of the file, or longer than the snap length). A bad file
 * header throws, since then no record can be trusted.
 */
export function readPcapPrefix(
  b: Uint8Array,
): { info: PcapFileInfo; packets: PcapPacket[]; error?: PcapError } {
  const info = readPcapHeader(b);
  const v = new DataView(b.buffer, b.byteOffset, b.byteLength);
  const packets: PcapPacket[] = [];
  const maxLen = info.snaplen || 0xffff;
  let off = PCAP_HEADER_LEN;
  while (off < b.length) {
    if (off + PCAP_RECORD_HEADER_LEN > b.length) {
      return {
        info,
        packets,
        error: new PcapError(`truncated pcap record header at offset ${off}`),
      };
    }
    const le = info.littleEndian;
    const incl = v.getUint32(off + 8, le);
    const start = off + PCAP_RECORD_HEADER_LEN;
    if (incl > maxLen) {
      const error = new PcapError(
        `pcap record length ${incl} past the snap length ${maxLen} at offset ${off}`,
      );
      return { info, packets, error };
    }
    if (start + incl > b.length) {
      return { info, packets, error: new PcapError(`truncated pcap record at offset ${off}`) };
    }
    packets.push({
      tsSec: v.getUint32(off, le),
      tsFrac: v.getUint32(off + 4, le),
      data: b.subarray(start, start + incl),
      origLen: v.getUint32(off + 12, le),
    });
    off = start + incl;
  }
  return { info, packets };
}

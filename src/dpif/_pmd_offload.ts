/**
 * The PMD's software fallback for offloads (OVS's
 * dp_packet_ol_send_prepare, plus the software TSO OVS added later): a
 * packet that came from a `system` port with a partial checksum or as a
 * TCP super-frame, and that goes somewhere that cannot take offload
 * metadata (a ring port, an upcall, a socket without vnet header), has
 * its checksum completed in place, or is cut into segments built one at
 * a time in a scratch buffer.
 *
 * Thread-safety: owned by one Pmd and used only on its thread; nothing
 * allocates after construction.
 */
import {
  completeL4Checksum,
  GSO_NONE,
  locateHeaders,
  newHeaderOffsets,
  OL_L4_CSUM_PARTIAL,
  PACKET_GSO_MAX_LEN,
  type PacketBuffer,
  tcpHeadersLength,
  tcpSegment,
  tcpSegmentCount,
} from "../packet/mod.ts";

export class SoftwareOffload {
  readonly hdr = newHeaderOffsets();
  /** The segment `segment` built last; `seg32` is its word view. */
  readonly seg = new Uint8Array(PACKET_GSO_MAX_LEN);
  readonly seg32 = new Uint32Array(this.seg.buffer);
  /** The headers every segment of the super-frame `prepare` looked at repeats. */
  headersLen = 0;

  /**
   * Gets the first `len` bytes of `pkt` ready to leave without offloads:
   * completes a partial checksum in place (and clears the flag); for a
   * super-frame returns how many segments `segment` makes, else 1 (send
   * the packet itself), or 0 when it cannot be segmented (not TCP).
   */
  prepare(pkt: PacketBuffer, len: number): number {
    locateHeaders(pkt.data, len, this.hdr);
    if (pkt.gsoType !== GSO_NONE) {
      this.headersLen = tcpHeadersLength(pkt.data, len, this.hdr);
      if (this.headersLen < 0 || pkt.gsoSize === 0) return 0;
      return tcpSegmentCount(len, this.headersLen, pkt.gsoSize);
    }
    if (pkt.olFlags & OL_L4_CSUM_PARTIAL && len === pkt.len) {
      completeL4Checksum(pkt.data, len, this.hdr);
      pkt.olFlags &= ~OL_L4_CSUM_PARTIAL;
    }
    return 1;
  }

  /** Builds segment `index` of the super-frame `prepare` looked at; returns its length. */
  segment(pkt: PacketBuffer, len: number, index: number): number {
    return tcpSegment(pkt.data, len, this.hdr, this.headersLen, pkt.gsoSize, index, this.seg);
  }
}

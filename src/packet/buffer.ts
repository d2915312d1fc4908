/**
 * A packet buffer: a fixed-capacity byte array, the length in use, and the
 * metadata that travels with a packet through the datapath (OVS's
 * dp_packet + pkt_metadata). Buffers are allocated once and reused: the
 * receive path writes into `data` and sets `len`; nothing here allocates.
 */

/** Large enough for a jumbo frame; the dummy netdev never sends more. */
export const PACKET_MAX_LEN = 9216;
/**
 * Large enough for a TSO/GSO super-frame from a `system` port (64 KiB of
 * IP packet) plus Ethernet and VLAN headers pushed on it.
 */
export const PACKET_GSO_MAX_LEN = 65536 + 512;

/** `olFlags`: the L4 checksum is partial (virtio NEEDS_CSUM): only the pseudo-header is summed. */
export const OL_L4_CSUM_PARTIAL = 1;
/**
 * `gsoType` values: what `gsoSize` segments (as virtio_net_hdr's gso_type,
 * with its ECN bit 0x80 kept: the super-frame has CWR set).
 */
export const GSO_NONE = 0;
export const GSO_TCPV4 = 1;
export const GSO_TCPV6 = 4;

export class PacketBuffer {
  readonly data: Uint8Array;
  len = 0;
  inPort = 0;
  skbPriority = 0;
  pktMark = 0;
  recircId = 0;
  dpHash = 0;
  /**
   * Offload facts from the receiving netdev (OVS's dp_packet offload
   * flags): OL_* bits, and for a super-frame its GSO type and segment size.
   */
  olFlags = 0;
  gsoType = GSO_NONE;
  gsoSize = 0;

  constructor(capacity = PACKET_MAX_LEN) {
    this.data = new Uint8Array(capacity);
  }

  get capacity(): number {
    return this.data.length;
  }

  /** Copies `len` bytes of `src` in and resets the metadata. */
  load(src: Uint8Array, len = src.length, inPort = 0): boolean {
    if (len > this.data.length || len > src.length) return false;
    if (len === src.length) this.data.set(src);
    else for (let i = 0; i < len; i++) this.data[i] = src[i];
    this.len = len;
    this.inPort = inPort;
    this.resetMetadata();
    return true;
  }

  resetMetadata(): void {
    this.skbPriority = 0;
    this.pktMark = 0;
    this.recircId = 0;
    this.dpHash = 0;
    this.olFlags = 0;
    this.gsoType = GSO_NONE;
    this.gsoSize = 0;
  }

  /** True when the packet must be checksummed or segmented before it leaves as a plain frame. */
  get hasOffloads(): boolean {
    return this.olFlags !== 0 || this.gsoType !== GSO_NONE;
  }

  /** The bytes in use, as a view (for I/O, not for hot paths). */
  bytes(): Uint8Array {
    return this.data.subarray(0, this.len);
  }
}

/**
 * The packet layer: packet buffers and the wire formats of the headers
 * the switch looks at.
 *
 * A `PacketBuffer` is a reusable byte array with a length and the
 * metadata OVS keeps in `struct pkt_metadata` (in_port, skb_priority,
 * pkt_mark, recirc_id, dp_hash), plus the offload facts of dp_packet
 * (partial checksum, GSO type and segment size). headers.ts names the protocol constants
 * and gives big-endian accessors; checksum.ts computes and incrementally
 * updates Internet checksums; locate.ts finds the header offsets of a
 * frame and rewrite.ts changes headers in place for actions (masked
 * field sets with checksum updates, push_vlan, pop_vlan); offload.ts
 * finishes in software what a system port's kernel left to offloads
 * (partial checksums, TCP segmentation of super-frames); hex.ts reads
 * and writes packets as hex; pcap.ts reads and writes libpcap files.
 *
 * Nothing here knows about flows: the flow layer (src/flow) reads packets
 * into keys and composes packets from keys on top of this.
 *
 * Thread-safety: a buffer belongs to whichever worker is processing it
 * (the PMD on the fast path, a handler while it executes an upcall's
 * packet); buffers are never shared while in use. The per-packet
 * functions (locate, rewrite, checksum) allocate nothing; the hex and pcap
 * helpers that build whole arrays are for I/O, not the fast path.
 */
export * from "./headers.ts";
export * from "./buffer.ts";
export * from "./checksum.ts";
export * from "./hex.ts";
export * from "./pcap.ts";
export * from "./locate.ts";
export * from "./rewrite.ts";
export * from "./offload.ts";

/**
 * The PMD's packet metadata and the actions that use it, as dpif-netdev.c's
 * dp_execute_cb does for OVS_ACTION_ATTR_RECIRC and OVS_ACTION_ATTR_CT and
 * odp-execute.c for OVS_ACTION_ATTR_HASH and CT_CLEAR:
 *
 * - the metadata (recirc_id, dp_hash and the conntrack fields) is held in
 *   flow-key layout (`md`); a packet from a port or a dpif execute starts
 *   with none, a recirculated one has it laid over its freshly extracted
 *   key, so EMC, SMC, dpcls and a miss's upcall all see it;
 * - `recirculate` (dp_netdev_recirculate) sets recirc_id and runs the
 *   packet through the lookup again, at most MAX_RECIRC_DEPTH deep; a
 *   recirc that is not the last action works on a copy, as OVS clones the
 *   batch, and the packet and key are put back afterwards;
 * - `saveCopy` / `restoreCopy` are that copy (dp_packet_batch_clone): the
 *   packet's bytes, length, offload facts, key and metadata, kept on a
 *   stack so that a datapath `clone(...)` (odp_execute_clone) and a
 *   recirc inside it each put back their own;
 * - `hash` sets dp_hash: hash_int of the packet's 5-tuple hash (the RSS
 *   hash OVS computes at lookup, miniflow_hash_5tuple) with the basis for
 *   l4, flow_hash_symmetric_l3l4 for sym_l4;
 * - `ct` runs the conntrack action (src/conntrack) on the packet.
 *
 * Thread-safety: owned by one Pmd and used only on its thread; the
 * per-depth copies are made once, on the first copy at that depth.
 */
import { F, FLOW_BYTES, FLOW_WORDS } from "../flow/mod.ts";
import { Conntrack } from "../conntrack/mod.ts";
import { EXEC_MD_WORDS } from "./protocol.ts";
import { coverageCounter, getLogger, hashAdd, hashAdd64, hashFinish, hashInt } from "../lib/mod.ts";
import {
  IPPROTO_ICMP,
  IPPROTO_ICMPV6,
  IPPROTO_SCTP,
  IPPROTO_TCP,
  IPPROTO_UDP,
} from "../packet/mod.ts";
import { ETH_TYPE_ARP, ETH_TYPE_IP, ETH_TYPE_IPV6 } from "../packet/mod.ts";

/** dpif-netdev.c's MAX_RECIRC_DEPTH. */
export const MAX_RECIRC_DEPTH = 6;

const covRecircError = coverageCounter("datapath_drop_recirc_error");
/** odp-execute's sym_l4 hash runs flow_extract on the packet (the l4 one uses its RSS hash). */
const covFlowExtract = coverageCounter("flow_extract");
const log = getLogger("dpif_netdev");

const MD_WORDS = EXEC_MD_WORDS;
const CT_WORDS = MD_WORDS.filter((w) => w !== F.dp_hash.off >> 2 && w !== F.recirc_id.off >> 2);

interface SavedPacket {
  frame: Uint32Array;
  key: Uint32Array;
  md: Uint32Array;
  len: number;
  olFlags: number;
  gsoType: number;
  gsoSize: number;
}

/** What the PMD lends: its packet, key and a way to run a packet through the lookup. */
export interface RecircHost {
  readonly buf: Uint8Array;
  readonly bufU32: Uint32Array;
  readonly key: Uint32Array;
  readonly pkt: { len: number; olFlags: number; gsoType: number; gsoSize: number };
  readonly now: number;
  /** Runs the packet in `buf` through the lookup and its flow's actions. */
  processPacket(inPort: number): void;
  /** Counts one recirculated pass (PMD_STAT_RECIRC). */
  countRecirc(): void;
}

export class PmdRecirc {
  /** The packet's metadata, in flow-key layout. */
  readonly md = new Uint8Array(FLOW_BYTES);
  private readonly mdU32 = new Uint32Array(this.md.buffer);
  private readonly mdView = new DataView(this.md.buffer);
  readonly conntrack: Conntrack;
  depth = 0;
  /** Whether md's metadata words are all zero (every writer of md clears it). */
  private mdClear = true;
  /** The copies saveCopy keeps, one per nesting level, and how many are in use. */
  private readonly saved: SavedPacket[] = [];
  private nSaved = 0;

  constructor(conntrackBuffer: SharedArrayBuffer, private readonly host: RecircHost) {
    this.conntrack = new Conntrack(conntrackBuffer);
  }

  /** A packet enters the datapath: no metadata (nothing to do when no packet had any). */
  reset(): void {
    if (this.mdClear) return;
    const m = this.mdU32;
    for (let i = 0; i < MD_WORDS.length; i++) m[MD_WORDS[i]] = 0;
    this.mdClear = true;
  }

  /** Takes the metadata of an executed packet (EXEC_MD_WORDS at `src[at..]`) into md and its key. */
  load(src: Uint32Array, at: number, key: Uint32Array): void {
    this.mdClear = false;
    const m = this.mdU32;
    for (let i = 0; i < MD_WORDS.length; i++) key[MD_WORDS[i]] = m[MD_WORDS[i]] = src[at + i];
  }

  /** Lays the metadata over a key just extracted from the packet. */
  overlay(key: Uint32Array): void {
    const m = this.mdU32;
    for (let i = 0; i < MD_WORDS.length; i++) key[MD_WORDS[i]] = m[MD_WORDS[i]];
  }

  /** OVS_ACTION_ATTR_RECIRC. */
  recirculate(inPort: number, id: number, last: boolean): void {
    if (this.depth >= MAX_RECIRC_DEPTH) {
      covRecircError.inc();
      log.warn("Packet dropped. Max recirculation depth exceeded.");
      return;
    }
    const h = this.host;
    if (!last) this.saveCopy();
    this.mdClear = false;
    this.mdView.setUint32(F.recirc_id.off, id);
    this.depth++;
    h.countRecirc();
    try {
      h.processPacket(inPort);
    } finally {
      this.depth--;
      if (!last) this.restoreCopy();
    }
  }

  /** Keeps the packet, its key and metadata as they are now (restoreCopy puts them back). */
  saveCopy(): void {
    const h = this.host;
    const save = this.saved[this.nSaved++] ??= {
      frame: new Uint32Array(h.bufU32.length),
      key: new Uint32Array(FLOW_WORDS),
      md: new Uint32Array(FLOW_WORDS),
      len: 0,
      olFlags: 0,
      gsoType: 0,
      gsoSize: 0,
    };
    save.frame.set(h.bufU32.subarray(0, (h.pkt.len + 3) >> 2));
    save.key.set(h.key);
    save.md.set(this.mdU32);
    save.len = h.pkt.len;
    save.olFlags = h.pkt.olFlags;
    save.gsoType = h.pkt.gsoType;
    save.gsoSize = h.pkt.gsoSize;
  }

  /** Puts back the packet the matching saveCopy kept. */
  restoreCopy(): void {
    const h = this.host, save = this.saved[--this.nSaved];
    h.bufU32.set(save.frame.subarray(0, (save.len + 3) >> 2));
    h.key.set(save.key);
    this.mdU32.set(save.md);
    this.mdClear = false;
    h.pkt.len = save.len;
    h.pkt.olFlags = save.olFlags;
    h.pkt.gsoType = save.gsoType;
    h.pkt.gsoSize = save.gsoSize;
  }

  /** OVS_ACTION_ATTR_HASH: alg 0 (l4) or 1 (sym_l4), on the packet's current key. */
  hash(alg: number, basis: number): void {
    const key = this.host.key;
    if (alg !== 0) covFlowExtract.inc();
    const h = alg === 0
      ? hashInt(flowHash5Tuple(key, 0), basis)
      : flowHashSymmetricL3l4(key, basis);
    this.mdClear = false;
    this.mdView.setUint32(F.dp_hash.off, h >>> 0);
  }

  /** OVS_ACTION_ATTR_CT: the conntrack action whose payload is at `acts[at..]`. */
  ct(acts: Uint8Array, at: number): void {
    const h = this.host;
    this.mdClear = false;
    this.conntrack.execute(h.buf, h.pkt.len, acts, at, this.md, h.now);
    // Later actions (a userspace upcall) see the packet's new ct fields.
    const m = this.mdU32, key = h.key;
    for (let i = 0; i < CT_WORDS.length; i++) key[CT_WORDS[i]] = m[CT_WORDS[i]];
  }

  /** OVS_ACTION_ATTR_CT_CLEAR (conntrack_clear). */
  ctClear(): void {
    const m = this.mdU32, key = this.host.key;
    for (let i = 0; i < CT_WORDS.length; i++) m[CT_WORDS[i]] = key[CT_WORDS[i]] = 0;
  }
}

const be16 = (k: Uint32Array, off: number) => {
  const v = k[off >> 2];
  // Key words hold big-endian bytes; on a little-endian host byte 0 is the low byte.
  return off & 2 ? (((v >>> 16) & 0xff) << 8) | (v >>> 24) : ((v & 0xff) << 8) | ((v >>> 8) & 0xff);
};
const u8 = (k: Uint32Array, off: number) => (k[off >> 2] >>> ((off & 3) * 8)) & 0xff;

/** flow_hash_5tuple over a key (the words as OVS reads them from memory). */
export function flowHash5Tuple(key: Uint32Array, basis: number): number {
  let h = basis;
  const dl = be16(key, F.dl_type.off);
  if (dl === ETH_TYPE_IPV6) {
    for (let w = F.ipv6_src.off >> 2, end = w + 8; w < end; w += 2) {
      h = hashAdd64(h, key[w], key[w + 1]);
    }
  } else if (dl === ETH_TYPE_IP || dl === ETH_TYPE_ARP) {
    h = hashAdd(h, key[F.nw_src.off >> 2]);
    h = hashAdd(h, key[F.nw_dst.off >> 2]);
  } else {
    return hashFinish(h, 42);
  }
  const proto = u8(key, F.nw_proto.off);
  h = hashAdd(h, proto);
  if (
    proto === IPPROTO_TCP || proto === IPPROTO_UDP || proto === IPPROTO_SCTP ||
    proto === IPPROTO_ICMP || proto === IPPROTO_ICMPV6
  ) h = hashAdd(h, key[F.tp_src.off >> 2]);
  return hashFinish(h, 42);
}

/**
 * flow_hash_symmetric_l3l4 (without UDP ports): addresses and TCP/SCTP
 * ports combined so both directions hash alike. A non-IP packet hashes
 * its Ethertype only (OVS falls back to flow_hash_symmetric_l2).
 */
export function flowHashSymmetricL3l4(key: Uint32Array, basis: number): number {
  let h = basis;
  const dl = be16(key, F.dl_type.off);
  if (dl === ETH_TYPE_IP) {
    h = hashAdd(h, key[F.nw_src.off >> 2] ^ key[F.nw_dst.off >> 2]);
  } else if (dl === ETH_TYPE_IPV6) {
    const a = F.ipv6_src.off >> 2, b = F.ipv6_dst.off >> 2;
    for (let i = 0; i < 4; i += 2) {
      h = hashAdd64(h, key[a + i] ^ key[b + i], key[a + i + 1] ^ key[b + i + 1]);
    }
  } else {
    return hashFinish(hashAdd(h, dl), basis);
  }
  const proto = u8(key, F.nw_proto.off);
  h = hashAdd(h, proto);
  if (!(u8(key, F.nw_frag.off) & 3) && (proto === IPPROTO_TCP || proto === IPPROTO_SCTP)) {
    const w = key[F.tp_src.off >> 2];
    h = hashAdd(h, (w ^ (w >>> 16)) & 0xffff);
  }
  return hashFinish(h, basis);
}

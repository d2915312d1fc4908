/**
 * flowExtract: packet bytes to a flow key, the way OVS's miniflow_extract
 * reads them. Parsing stops quietly at the first header that is truncated
 * or malformed; the fields read up to there stay in the key and the rest
 * stay zero, which is what makes a truncated packet match OVS's megaflows.
 * It never throws and allocates nothing (the key is cleared and reused).
 *
 * A caller that extracts into the same key packet after packet (a PMD)
 * may pass a map of key words (`KeyWords`): the words the parse wrote are
 * recorded in it as it goes, a section at a time, so the next call zeroes
 * only those instead of the whole key and the caller's miniflow scan
 * (`miniflowOfWords`, packet_miniflow.ts) reads only them. The common
 * Ethernet/IPv4/TCP|UDP frame has a one-pass path of its own that builds
 * the miniflow while it parses, as OVS's miniflow_extract does
 * (extract_fast.ts).
 */
import { clearKey, type FlowKey } from "./key.ts";
import {
  addKeyWords,
  clearKeyWords,
  KEY_WORDS_LEN,
  KEY_WORDS_VALID,
  type KeyWords,
  keyWordsOf,
} from "./key_words.ts";
import { viewOf } from "./_bytes.ts";
import { F, FRAG_ANY, FRAG_LATER, VLAN_CFI, vlanOffset } from "./layout.ts";
import {
  ARP_ETH_HEADER_LEN,
  be16,
  ETH_HEADER_LEN,
  ETH_TYPE_ARP,
  ETH_TYPE_IP,
  ETH_TYPE_IPV6,
  ETH_TYPE_MIN,
  ETH_TYPE_RARP,
  ethTypeMpls,
  ethTypeVlan,
  FLOW_DL_TYPE_NONE,
  ICMP6_HEADER_LEN,
  ICMP_HEADER_LEN,
  IGMP_HEADER_LEN,
  IP6F_OFF_MASK,
  IP_FRAG_OFF_MASK,
  IP_HEADER_LEN,
  IP_MORE_FRAGMENTS,
  IPPROTO_AH,
  IPPROTO_DSTOPTS,
  IPPROTO_FRAGMENT,
  IPPROTO_HOPOPTS,
  IPPROTO_ICMP,
  IPPROTO_ICMPV6,
  IPPROTO_IGMP,
  IPPROTO_ROUTING,
  IPPROTO_SCTP,
  IPPROTO_TCP,
  IPPROTO_UDP,
  IPV6_HEADER_LEN,
  ND_LLA_OPT_LEN,
  ND_NEIGHBOR_ADVERT,
  ND_NEIGHBOR_SOLICIT,
  ND_OPT_SOURCE_LINKADDR,
  ND_OPT_TARGET_LINKADDR,
  SCTP_HEADER_LEN,
  TCP_FLAGS_MASK,
  TCP_HEADER_LEN,
  UDP_HEADER_LEN,
} from "../packet/mod.ts";

/** OVS's FLOW_MAX_VLAN_HEADERS and FLOW_MAX_MPLS_LABELS. */
export const FLOW_MAX_VLAN_HEADERS = 2;
export const FLOW_MAX_MPLS_LABELS = 3;

/** ovs-vswitchd's default other_config:vlan-limit (LEGACY_MAX_VLAN_HEADERS). */
export const DEFAULT_VLAN_LIMIT = 1;

let vlanLimit = DEFAULT_VLAN_LIMIT;

/**
 * How many VLAN headers flows see: OVS's other_config:vlan-limit, where 0
 * means FLOW_MAX_VLAN_HEADERS. It starts at ovs-vswitchd's default of 1,
 * so keys, flow specs and dumps match what the oracle prints; a QinQ
 * setup raises it to 2.
 */
export function setVlanLimit(n: number): void {
  vlanLimit = n === 0 ? FLOW_MAX_VLAN_HEADERS : Math.min(n, FLOW_MAX_VLAN_HEADERS);
}

export function getVlanLimit(): number {
  return vlanLimit;
}

/** What each part of the parse may write. */
const W_ETH = keyWordsOf([F.in_port, F.dl_dst, F.dl_src, F.dl_type]);
const W_VLAN = keyWordsOf([F.vlan0_tpid, F.vlan0_tci, F.vlan1_tpid, F.vlan1_tci]);
const W_MPLS = keyWordsOf([F.mpls_lse]);
const W_IP4 = keyWordsOf([F.nw_src, F.nw_dst, F.nw_tos]);
const W_IP6 = keyWordsOf([F.ipv6_src, F.ipv6_dst, F.ipv6_label, F.nw_tos]);
const W_ARP = keyWordsOf([F.nw_src, F.nw_dst, F.nw_proto, F.arp_sha, F.arp_tha]);
const W_L4 = keyWordsOf([F.tcp_flags, F.tp_src, F.tp_dst, F.igmp_group_ip4]);
const W_ND = keyWordsOf([F.nd_target, F.arp_sha, F.arp_tha]);
/** The map a call without one of its own records into (and never reads). */
const scratchWords = new Uint32Array(KEY_WORDS_LEN);

/**
 * Fills `key` from the first `len` bytes of `pkt` received on `inPort`.
 * Returns the offset of the L3 header, or -1 when parsing stopped before it.
 * With `words` (KeyWords), only the words it names are zeroed first, and
 * on return it names every word the parse wrote.
 */
export function flowExtract(
  pkt: Uint8Array,
  len: number,
  inPort: number,
  key: FlowKey,
  words?: KeyWords,
): number {
  let t: KeyWords = scratchWords;
  if (words === undefined) clearKey(key);
  else clearKeyWords(key, t = words);
  t[0] = W_ETH[0];
  t[1] = W_ETH[1];
  t[2] = W_ETH[2];
  t[KEY_WORDS_VALID] = 1;
  const k = viewOf(key);
  putU32(k, F.in_port.off, inPort);
  if (len > pkt.length) len = pkt.length;
  if (len < ETH_HEADER_LEN) return -1;

  copy(k, F.dl_dst.off, pkt, 0, 12);
  let p = 12;
  let n = 0;
  while (n < vlanLimit && ethTypeVlan(be16(pkt, p))) {
    if (len - p < 6) break;
    if (n === 0) addKeyWords(t, W_VLAN);
    const vo = vlanOffset(n);
    k[vo] = pkt[p];
    k[vo + 1] = pkt[p + 1];
    k[vo + 2] = pkt[p + 2] | (VLAN_CFI >> 8);
    k[vo + 3] = pkt[p + 3];
    p += 4;
    n++;
  }
  let dlType = be16(pkt, p);
  p += 2;
  if (dlType < ETH_TYPE_MIN) {
    dlType = FLOW_DL_TYPE_NONE;
    if (
      len - p >= 8 && pkt[p] === 0xaa && pkt[p + 1] === 0xaa && pkt[p + 2] === 0x03 &&
      pkt[p + 3] === 0 && pkt[p + 4] === 0 && pkt[p + 5] === 0
    ) {
      const snapType = be16(pkt, p + 6);
      p += 8;
      if (snapType >= ETH_TYPE_MIN) dlType = snapType;
    }
  }
  putU16(k, F.dl_type.off, dlType);

  if (ethTypeMpls(dlType)) {
    addKeyWords(t, W_MPLS);
    let count = 0;
    while (len - p >= 4) {
      if (count < FLOW_MAX_MPLS_LABELS) copy(k, F.mpls_lse.off + 4 * count, pkt, p, 4);
      count++;
      const bos = pkt[p + 2] & 1;
      p += 4;
      if (bos) break;
    }
    return -1;
  }

  const l3 = p;
  let size = len - p;
  let nwProto = 0;
  let nwFrag = 0;
  if (dlType === ETH_TYPE_IP) {
    if (size < IP_HEADER_LEN) return -1;
    const ipLen = (pkt[p] & 0x0f) * 4;
    if (ipLen < IP_HEADER_LEN || size < ipLen) return -1;
    const totLen = be16(pkt, p + 2);
    if (totLen > size || ipLen > totLen || size - totLen > 0xffff) return -1;
    size = totLen;
    addKeyWords(t, W_IP4);
    copy(k, F.nw_src.off, pkt, p + 12, 8);
    const fragOff = be16(pkt, p + 6);
    if (fragOff & (IP_MORE_FRAGMENTS | IP_FRAG_OFF_MASK)) {
      nwFrag = FRAG_ANY;
      if (fragOff & IP_FRAG_OFF_MASK) nwFrag |= FRAG_LATER;
    }
    nwProto = pkt[p + 9];
    k[F.nw_tos.off] = pkt[p + 1];
    k[F.nw_ttl.off] = pkt[p + 8];
    k[F.nw_proto.off] = nwProto;
    k[F.nw_frag.off] = nwFrag;
    p += ipLen;
    size -= ipLen;
  } else if (dlType === ETH_TYPE_IPV6) {
    if (size < IPV6_HEADER_LEN) return -1;
    const plen = be16(pkt, p + 4);
    if (plen + IPV6_HEADER_LEN > size) return -1;
    addKeyWords(t, W_IP6);
    copy(k, F.ipv6_src.off, pkt, p + 8, 32);
    const tcFlow = ((pkt[p] << 24) | (pkt[p + 1] << 16) | (pkt[p + 2] << 8) | pkt[p + 3]) >>> 0;
    const hlim = pkt[p + 7];
    nwProto = pkt[p + 6];
    p += IPV6_HEADER_LEN;
    size = plen;
    // Extension headers: each at least 8 bytes; only the first fragment
    // carries the transport header.
    for (;;) {
      if (
        nwProto !== IPPROTO_HOPOPTS && nwProto !== IPPROTO_ROUTING &&
        nwProto !== IPPROTO_DSTOPTS && nwProto !== IPPROTO_AH && nwProto !== IPPROTO_FRAGMENT
      ) break;
      if (size < 8) return -1;
      let hlen: number;
      if (nwProto === IPPROTO_AH) {
        hlen = (pkt[p + 1] + 2) * 4;
        nwProto = pkt[p];
      } else if (nwProto === IPPROTO_FRAGMENT) {
        hlen = 8;
        nwProto = pkt[p];
        const offlg = be16(pkt, p + 2);
        if (offlg !== 0) {
          nwFrag = FRAG_ANY;
          if (offlg & IP6F_OFF_MASK) {
            nwFrag |= FRAG_LATER;
            nwProto = IPPROTO_FRAGMENT;
            p += 8;
            size -= 8;
            break;
          }
        }
      } else {
        hlen = (pkt[p + 1] + 1) * 8;
        nwProto = pkt[p];
      }
      if (size < hlen) return -1;
      p += hlen;
      size -= hlen;
    }
    putU32(k, F.ipv6_label.off, tcFlow & 0xfffff);
    k[F.nw_tos.off] = (tcFlow >>> 20) & 0xff;
    k[F.nw_ttl.off] = hlim;
    k[F.nw_proto.off] = nwProto;
    k[F.nw_frag.off] = nwFrag;
  } else {
    if (dlType === ETH_TYPE_ARP || dlType === ETH_TYPE_RARP) {
      addKeyWords(t, W_ARP);
      extractArp(pkt, p, size, k);
    }
    return -1;
  }

  if (nwFrag & FRAG_LATER) return l3;
  addKeyWords(t, W_L4);
  if (nwProto === IPPROTO_ICMPV6) addKeyWords(t, W_ND);
  extractL4(pkt, p, size, nwProto, k);
  return l3;
}

function extractArp(pkt: Uint8Array, p: number, size: number, k: Uint8Array): void {
  if (size < ARP_ETH_HEADER_LEN) return;
  if (be16(pkt, p) !== 1 || be16(pkt, p + 2) !== ETH_TYPE_IP) return;
  if (pkt[p + 4] !== 6 || pkt[p + 5] !== 4) return;
  copy(k, F.nw_src.off, pkt, p + 14, 4);
  copy(k, F.nw_dst.off, pkt, p + 24, 4);
  const op = be16(pkt, p + 6);
  // Only the low 8 bits of the opcode fit; larger opcodes match as 0.
  if (op <= 0xff) k[F.nw_proto.off] = op;
  copy(k, F.arp_sha.off, pkt, p + 8, 6);
  copy(k, F.arp_tha.off, pkt, p + 18, 6);
}

function extractL4(
  pkt: Uint8Array,
  p: number,
  size: number,
  nwProto: number,
  k: Uint8Array,
): void {
  if (nwProto === IPPROTO_TCP) {
    if (size < TCP_HEADER_LEN) return;
    putU16(k, F.tcp_flags.off, be16(pkt, p + 12) & TCP_FLAGS_MASK);
    copyPorts(pkt, p, k);
  } else if (nwProto === IPPROTO_UDP) {
    if (size >= UDP_HEADER_LEN) copyPorts(pkt, p, k);
  } else if (nwProto === IPPROTO_SCTP) {
    if (size >= SCTP_HEADER_LEN) copyPorts(pkt, p, k);
  } else if (nwProto === IPPROTO_ICMP) {
    if (size >= ICMP_HEADER_LEN) typeCode(pkt, p, k);
  } else if (nwProto === IPPROTO_IGMP) {
    if (size < IGMP_HEADER_LEN) return;
    typeCode(pkt, p, k);
    copy(k, F.igmp_group_ip4.off, pkt, p + 4, 4);
  } else if (nwProto === IPPROTO_ICMPV6) {
    if (size < ICMP6_HEADER_LEN) return;
    typeCode(pkt, p, k);
    const type = pkt[p];
    if (pkt[p + 1] !== 0 || (type !== ND_NEIGHBOR_SOLICIT && type !== ND_NEIGHBOR_ADVERT)) return;
    extractNd(pkt, p, size, k);
  }
}

/** Neighbor discovery: target, then link-layer address options. */
function extractNd(pkt: Uint8Array, p: number, size: number, k: Uint8Array): void {
  copy(k, F.igmp_group_ip4.off, pkt, p + 4, 4);
  p += ICMP6_HEADER_LEN;
  size -= ICMP6_HEADER_LEN;
  if (size < 16) return;
  copy(k, F.nd_target.off, pkt, p, 16);
  p += 16;
  size -= 16;
  let haveSll = false;
  let haveTll = false;
  let optType = 0;
  while (size >= 8) {
    const optLen = pkt[p + 1] * ND_LLA_OPT_LEN;
    if (optLen === 0 || optLen > size) break;
    const t = pkt[p];
    if (optLen === 8 && (t === ND_OPT_SOURCE_LINKADDR || t === ND_OPT_TARGET_LINKADDR)) {
      const isSll = t === ND_OPT_SOURCE_LINKADDR;
      if (isSll ? haveSll : haveTll) {
        // A repeated option makes the whole ND payload invalid.
        k.fill(0, F.nd_target.off, F.nd_target.off + 16);
        k.fill(0, F.arp_sha.off, F.arp_tha.off + 6);
        break;
      }
      if (!allZero(pkt, p + 2, 6)) {
        copy(k, isSll ? F.arp_sha.off : F.arp_tha.off, pkt, p + 2, 6);
        if (isSll) haveSll = true;
        else haveTll = true;
      }
      if (optType === 0) optType = t;
    }
    p += optLen;
    size -= optLen;
  }
  putU16(k, F.tcp_flags.off, optType);
}

/** Byte copy without the view object `subarray` would allocate. */
function copy(d: Uint8Array, dOff: number, s: Uint8Array, sOff: number, n: number): void {
  for (let i = 0; i < n; i++) d[dOff + i] = s[sOff + i];
}

function allZero(b: Uint8Array, off: number, n: number): boolean {
  for (let i = 0; i < n; i++) if (b[off + i] !== 0) return false;
  return true;
}

function copyPorts(pkt: Uint8Array, p: number, k: Uint8Array): void {
  k[F.tp_src.off] = pkt[p];
  k[F.tp_src.off + 1] = pkt[p + 1];
  k[F.tp_dst.off] = pkt[p + 2];
  k[F.tp_dst.off + 1] = pkt[p + 3];
}

/** ICMP-like headers: type and code land in the low bytes of tp_src/tp_dst. */
function typeCode(pkt: Uint8Array, p: number, k: Uint8Array): void {
  k[F.tp_src.off + 1] = pkt[p];
  k[F.tp_dst.off + 1] = pkt[p + 1];
}

function putU16(k: Uint8Array, off: number, v: number): void {
  k[off] = v >>> 8;
  k[off + 1] = v;
}

function putU32(k: Uint8Array, off: number, v: number): void {
  k[off] = v >>> 24;
  k[off + 1] = v >>> 16;
  k[off + 2] = v >>> 8;
  k[off + 3] = v;
}

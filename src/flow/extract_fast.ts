/**
 * miniflow_extract's common case in one pass: an Ethernet frame, untagged
 * or with one 802.1Q/802.1ad tag (as the VLAN limit allows), carrying an
 * unfragmented IPv4 packet without options and a TCP or UDP header that
 * fits (OVS's AVX512 miniflow-extract profiles pick the same frames). It
 * reads the frame as 32-bit words, writes the ten or eleven key words such
 * a packet sets (whole words, no byte copies), and builds
 * the packet's miniflow and hash from them as it goes, as OVS's
 * miniflow_extract builds the miniflow while it parses: the PMD then
 * neither clears nor scans more of the key than the packet wrote.
 *
 * The key, miniflow and hash are exactly flowExtract's then
 * PacketMiniflow's for the same frame (extract_fast_test.ts checks it on
 * random frames); anything else (more tags, IP options, fragments, other
 * protocols, a short or inconsistent header, a big-endian host whose word
 * shifts would differ) is declined having written nothing, and the caller
 * runs flowExtract.
 */
import { getVlanLimit } from "./extract.ts";
import { clearKeyWords, KEY_WORDS_VALID, type KeyWords } from "./key_words.ts";
import { F, VLAN_CFI } from "./layout.ts";
import {
  MF_COUNT,
  MF_HASH_BASIS,
  MF_HASH_PRIME,
  MF_VALUES,
  type PacketMiniflow,
} from "./packet_miniflow.ts";
import { mhashFinish } from "../lib/mod.ts";
import { ETH_HEADER_LEN, IP_HEADER_LEN, IPPROTO_TCP, IPPROTO_UDP } from "../packet/mod.ts";

const LITTLE_ENDIAN = new Uint8Array(new Uint32Array([1]).buffer)[0] === 1;

/*
 * The key words written, in word order (the order the hash takes them
 * in), and each one's bit in its miniflow map word: in_port in map word 0;
 * the Ethernet words, the outer VLAN header's word (zero when untagged, so
 * a tagged and an untagged frame write the same words) and the IPv4 words
 * in map word 1; tcp_flags and the
 * ports in map word 2. extract_fast_test.ts compares every result with
 * miniflowOf's, so a layout change that moved a word would show there.
 */
const W_IN_PORT = F.in_port.off >> 2;
const W_ETH = F.dl_dst.off >> 2; // dl_dst, dl_src, dl_type: 4 words from here
const W_VLAN = F.vlan0_tpid.off >> 2; // vlan0_tpid, vlan0_tci
const W_NW_SRC = F.nw_src.off >> 2;
const W_NW_DST = F.nw_dst.off >> 2;
const W_NW = F.nw_frag.off >> 2; // nw_frag, nw_tos, nw_ttl, nw_proto
const W_TCP_FLAGS = F.tcp_flags.off >> 2;
const W_TP = F.tp_src.off >> 2; // tp_src, tp_dst
const BIT_IN_PORT = 1 << (W_IN_PORT & 31);
const BIT_ETH = 1 << (W_ETH & 31);
const BIT_VLAN = 1 << (W_VLAN & 31);
const BIT_NW_SRC = 1 << (W_NW_SRC & 31);
const BIT_NW_DST = 1 << (W_NW_DST & 31);
const BIT_NW = 1 << (W_NW & 31);
const BIT_TCP_FLAGS = 1 << (W_TCP_FLAGS & 31);
const BIT_TP = 1 << (W_TP & 31);
/** The written words as a KeyWords map, as a Uint32Array element reads. */
const MAP0 = BIT_IN_PORT >>> 0;
const MAP1 = (BIT_ETH * 15 | BIT_VLAN | BIT_NW_SRC | BIT_NW_DST | BIT_NW) >>> 0;
/** Bytes 12-13 (host-order low half of word 3) of an 802.1Q or 802.1ad tag, and the tci's CFI bit there. */
const TPID_8021Q = 0x0081;
const TPID_8021AD = 0xa888;
const TCI_CFI = (VLAN_CFI >> 8) << 16;
const MAP2 = (BIT_TCP_FLAGS | BIT_TP) >>> 0;

/** The shortest frame taken: Ethernet, IPv4 and a UDP header (a tag adds 4 bytes). */
const MIN_LEN = ETH_HEADER_LEN + IP_HEADER_LEN + 8;
const TCP_MIN = 20;
const UDP_MIN = 8;

/**
 * Extracts the frame whose first `len` bytes are in `p32` (as words,
 * host order, the frame at byte 0), received on `inPort`, into `key`,
 * `words` (KeyWords, as flowExtract keeps it) and `pm`; returns false,
 * having changed nothing, for a frame outside the common case.
 */
export function extractIpv4L4(
  p32: Uint32Array,
  len: number,
  inPort: number,
  key: Uint32Array,
  words: KeyWords,
  pm: PacketMiniflow,
): boolean {
  if (!LITTLE_ENDIAN || len < MIN_LEN || len > p32.length << 2) return false;
  // Bytes 12-15: a tag (then `o` is 1: everything after it is a word
  // later), or dl_type 0x0800, the IP version/IHL byte and tos.
  const tag = p32[3], tpid = tag & 0xffff;
  const o = tpid === TPID_8021Q || tpid === TPID_8021AD ? 1 : 0;
  if (o === 1 && (getVlanLimit() < 1 || len < MIN_LEN + 4)) return false;
  const w3 = p32[3 + o];
  if ((w3 & 0xffff) !== 0x0008 || ((w3 >>> 16) & 0x0f) !== IP_HEADER_LEN >> 2) return false;
  // Bytes 16-19: total length, id. Bytes 20-23: flags/fragment offset, ttl, proto.
  const w4 = p32[4 + o], w5 = p32[5 + o];
  const totLen = ((w4 & 0xff) << 8) | ((w4 >>> 8) & 0xff);
  const size = len - ETH_HEADER_LEN - (o << 2);
  if (totLen > size || totLen < IP_HEADER_LEN || size - totLen > 0xffff) return false;
  // More-fragments or a fragment offset: flowExtract's.
  if ((w5 & 0xff3f) !== 0) return false;
  const proto = w5 >>> 24, l4Size = totLen - IP_HEADER_LEN;
  let tcpFlags = 0;
  if (proto === IPPROTO_TCP) {
    if (l4Size < TCP_MIN) return false;
    // Bytes 46-47, the TCP flags under TCP_FLAGS_MASK, stored big-endian.
    tcpFlags = (p32[11 + o] >>> 16) & 0xff0f;
  } else if (proto !== IPPROTO_UDP || l4Size < UDP_MIN) return false;

  if (words[KEY_WORDS_VALID] !== 1 || words[0] !== MAP0 || words[1] !== MAP1 || words[2] !== MAP2) {
    clearKeyWords(key, words);
    words[0] = MAP0;
    words[1] = MAP1;
    words[2] = MAP2;
    words[KEY_WORDS_VALID] = 1;
  }
  // Each word: into the key, then (when nonzero) into the hash, the map
  // and the values, as miniflowOf would take it.
  const mf = pm.mf, prime = MF_HASH_PRIME;
  const w6 = p32[6 + o], w7 = p32[7 + o], w8 = p32[8 + o];
  let h = MF_HASH_BASIS, n = MF_VALUES, m1 = 0, m2 = 0;
  let v = (inPort >>> 24) | ((inPort >>> 8) & 0xff00) | ((inPort & 0xff00) << 8) | (inPort << 24);
  key[W_IN_PORT] = v;
  if (v !== 0) h = Math.imul(h ^ v ^ W_IN_PORT, prime), mf[n++] = v;
  const m0 = v !== 0 ? BIT_IN_PORT : 0;
  v = p32[0] | 0;
  key[W_ETH] = v;
  if (v !== 0) h = Math.imul(h ^ v ^ W_ETH, prime), m1 |= BIT_ETH, mf[n++] = v;
  v = p32[1] | 0;
  key[W_ETH + 1] = v;
  if (v !== 0) h = Math.imul(h ^ v ^ (W_ETH + 1), prime), m1 |= BIT_ETH << 1, mf[n++] = v;
  v = p32[2] | 0;
  key[W_ETH + 2] = v;
  if (v !== 0) h = Math.imul(h ^ v ^ (W_ETH + 2), prime), m1 |= BIT_ETH << 2, mf[n++] = v;
  // dl_type is 0x0800: never zero, nor is the word with nw_proto.
  v = w3 & 0xffff;
  key[W_ETH + 3] = v;
  h = Math.imul(h ^ v ^ (W_ETH + 3), prime), m1 |= BIT_ETH << 3, mf[n++] = v;
  // The tag as flowExtract keeps it: tpid, then the tci with CFI set.
  v = o === 1 ? tag | TCI_CFI : 0;
  key[W_VLAN] = v;
  if (v !== 0) h = Math.imul(h ^ v ^ W_VLAN, prime), m1 |= BIT_VLAN, mf[n++] = v;
  v = (w6 >>> 16) | (w7 << 16);
  key[W_NW_SRC] = v;
  if (v !== 0) h = Math.imul(h ^ v ^ W_NW_SRC, prime), m1 |= BIT_NW_SRC, mf[n++] = v;
  v = (w7 >>> 16) | (w8 << 16);
  key[W_NW_DST] = v;
  if (v !== 0) h = Math.imul(h ^ v ^ W_NW_DST, prime), m1 |= BIT_NW_DST, mf[n++] = v;
  // nw_frag 0, nw_tos (byte 15), nw_ttl and nw_proto (bytes 22-23).
  v = ((w3 >>> 16) & 0xff00) | (w5 & 0xffff0000);
  key[W_NW] = v;
  h = Math.imul(h ^ v ^ W_NW, prime), m1 |= BIT_NW, mf[n++] = v;
  key[W_TCP_FLAGS] = tcpFlags;
  if (tcpFlags !== 0) {
    h = Math.imul(h ^ tcpFlags ^ W_TCP_FLAGS, prime), m2 |= BIT_TCP_FLAGS, mf[n++] = tcpFlags;
  }
  v = (w8 >>> 16) | (p32[9 + o] << 16);
  key[W_TP] = v;
  if (v !== 0) h = Math.imul(h ^ v ^ W_TP, prime), m2 |= BIT_TP, mf[n++] = v;
  mf[0] = m0;
  mf[1] = m1;
  mf[2] = m2;
  mf[MF_COUNT] = n - MF_VALUES;
  pm.hash = mhashFinish(h >>> 0) | 0;
  return true;
}

/**
 * The flow layer: flow keys and masks, reading packets into keys, and the
 * datapath-flow text OVS prints and reads.
 *
 * - layout.ts / key.ts: the key, a fixed-layout Uint32Array laid out like
 *   OVS's `struct flow` after the tunnel, with big-endian fields; a mask
 *   is a key whose 1 bits say "this bit matters".
 * - extract.ts: `flowExtract`, packet bytes to key (miniflow_extract);
 *   given a `KeyWords` map (key_words.ts: which key words may be
 *   nonzero) it zeroes and records only the words it writes, so a PMD
 *   neither clears nor scans the whole key per packet.
 * - packet_miniflow.ts: a packet key's miniflow (map of nonzero words,
 *   their values) and hash, the exact-match cache's form of a key
 *   (netdev_flow_key); extract_fast.ts: `extractIpv4L4`, the common
 *   untagged IPv4 TCP/UDP frame extracted word by word with its miniflow
 *   and hash built in the same pass (flowExtract for everything else).
 * - wildcards.ts: the exact-match mask of a packet's key
 *   (flow_wildcards_init_for_packet), used when megaflows are off.
 * - odp_key_format.ts / odp_key_parse.ts: keys and masks as
 *   datapath-flow text, terse and verbose (`-m`); _key_scan.ts reads
 *   one attribute's values into key and mask (odp-util.c's scan_*).
 * - odp_key_fit.ts: whether a parsed key carries exactly the attributes
 *   its Ethertype and IP protocol call for (odp_flow_key_to_flow's
 *   fitness); dpctl/add-flow refuses a key that does not fit,
 *   netdev-dummy/receive ignores the attributes OVS would not read.
 * - odp_action*.ts: datapath actions, their text and a compact binary
 *   encoding that workers keep in shared memory; _odp_ct.ts is the
 *   conntrack action's part (`ct(...)`, read in place at CT_OFF_*).
 * - dump_flow.ts: a whole `dpctl/dump-flows` line.
 * - miniflow.ts: `miniflow_bits(A,B)` from a mask.
 * - compose.ts / packet_spec.ts: the packet `netdev-dummy/receive` builds
 *   from a flow spec (`... --len N`) or hex.
 * - odp_execute.ts: datapath actions run on a packet (odp-execute.c): sets,
 *   VLAN push/pop, trunc, check_pkt_len and clone (whose copy of the
 *   packet the datapath keeps); output and userspace go to the datapath.
 *
 * Thread-safety: everything here is a pure function of its arguments.
 * Keys live wherever their owner puts them (a PMD's flow table in shared
 * memory, a handler's upcall batch); the functions that take a key write
 * only to the key they are given. flowExtract, extractIpv4L4 (which
 * also writes the PacketMiniflow it is given) and the binary action codec
 * allocate nothing, so the PMD can call them per packet; a PacketMiniflow
 * belongs to the one thread that refills it. The VLAN limit
 * (setVlanLimit, default 1 as in ovs-vswitchd) is per worker and set once
 * at start-up, like OVS's global flow_vlan_limit.
 */
export * from "./layout.ts";
export * from "./key.ts";
export * from "./odp_action.ts";
export {
  DEFAULT_VLAN_LIMIT,
  FLOW_MAX_MPLS_LABELS,
  FLOW_MAX_VLAN_HEADERS,
  flowExtract,
  getVlanLimit,
  setVlanLimit,
} from "./extract.ts";
export {
  addKeyWords,
  allKeyWords,
  KEY_WORDS_LEN,
  KEY_WORDS_VALID,
  type KeyWords,
  keyWordsOf,
} from "./key_words.ts";
export {
  formatOdpKey,
  formatOdpKeyAttr,
  type OdpFormatOptions,
  ODPP_NONE,
} from "./odp_key_format.ts";
export { type OdpKeyLevel, parseOdpKey, parseOdpKeyAttr } from "./odp_key_parse.ts";
export {
  clearUnreadFields,
  odpKeyAndMaskFit,
  type OdpKeyFit,
  odpKeyFit,
  type OdpKeyFitness,
} from "./odp_key_fit.ts";
export { formatOdpAction, formatOdpActions } from "./odp_action_format.ts";
export { parseOdpActions } from "./odp_action_parse.ts";
export { SET_ATTR_SPANS, SET_ATTRS, setAttrBytes, setMaskIsExact } from "./set_attr.ts";
export { miniflowBits, miniflowBitsInfo } from "./miniflow.ts";
export {
  MF_COUNT,
  MF_MAX_VALUES,
  MF_VALUES,
  MINIFLOW_WORDS,
  miniflowOf,
  miniflowOfWords,
  PacketMiniflow,
} from "./packet_miniflow.ts";
export { extractIpv4L4 } from "./extract_fast.ts";
export {
  type DpFlow,
  type DpFlowStats,
  type DumpFormatOptions,
  formatDumpFlow,
  formatStats,
  parseDumpFlow,
} from "./dump_flow.ts";
export { OdpParseError } from "./_scan.ts";
export {
  CT_STATE_NAMES,
  formatFlags,
  formatFlagsMasked,
  formatTcpFlagsMasked,
  parseFlags,
  TCP_FLAG_NAMES,
  tcpFlagBit,
} from "./_flags.ts";
export { formatIp4, formatIp6, parseIp4, parseIp6 } from "./_addr.ts";
export { wildcardsForPacket } from "./wildcards.ts";
export { DEFAULT_L7_LEN, flowCompose } from "./compose.ts";
export { parsePacketKey, parsePacketSpec } from "./packet_spec.ts";
export * from "./odp_action_codec.ts";
export {
  CT_F_COMMIT,
  CT_F_FORCE,
  CT_F_LABEL,
  CT_F_MARK,
  CT_F_NAT,
  CT_FIXED_LEN,
  CT_NAT_DST,
  CT_NAT_F_HASH,
  CT_NAT_F_PERSISTENT,
  CT_NAT_F_RANDOM,
  CT_NAT_NONE,
  CT_NAT_SRC,
  CT_OFF_FLAGS,
  CT_OFF_LABEL,
  CT_OFF_LABEL_MASK,
  CT_OFF_MARK,
  CT_OFF_MARK_MASK,
  CT_OFF_NAT_ADDR_LEN,
  CT_OFF_NAT_ADDR_MAX,
  CT_OFF_NAT_ADDR_MIN,
  CT_OFF_NAT_FLAGS,
  CT_OFF_NAT_KIND,
  CT_OFF_NAT_PROTO_MAX,
  CT_OFF_NAT_PROTO_MIN,
  CT_OFF_ZONE,
  newCtAction,
  newCtNat,
} from "./_odp_ct.ts";
export { formatUfid, odpFormatUfid, parseUfid, UFID_BASIS, ufidFromKey, ufidHash } from "./ufid.ts";
export {
  executeSet,
  executeSetEncoded,
  odpExecuteActions,
  type OdpExecuteDatapath,
} from "./odp_execute.ts";
export { odpMaskNormalize } from "./odp_mask.ts";
export {
  CS_DST_NAT,
  CS_ESTABLISHED,
  CS_INVALID,
  CS_NEW,
  CS_RELATED,
  CS_REPLY_DIR,
  CS_SRC_NAT,
  CS_TRACKED,
} from "./ct_state.ts";

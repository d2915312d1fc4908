/**
 * Runs datapath actions on a packet, as OVS's lib/odp-execute.c does:
 * `odpExecuteActions` (odp_execute_actions) walks a flow's encoded action
 * list (odp_action_codec.ts) in place and does what needs only the packet
 * itself (set and masked set, push_vlan, pop_vlan, trunc), handing output
 * and userspace to the datapath through `OdpExecuteDatapath`, as OVS hands
 * them to dp_execute_action. The header rewrites of set actions
 * (odp_execute_set_action / odp_execute_masked_set_action) are here too,
 * built on the packet layer's rewrite helpers: this is the only place that
 * executes a set on a packet. `executeSetEncoded` takes a set as the
 * encoding stores it; `executeSet` takes key and mask in the flow key
 * layout. A set whose header the packet lacks does nothing, as in OVS.
 * `clone(...)` (odp_execute_clone) runs its actions on a copy of the
 * packet the datapath keeps (`cloneBegin`/`cloneEnd`), so the actions after
 * it see the packet as it was; as the last action it needs no copy.
 * Nothing here allocates.
 */
import type { OdpSetAttr } from "./odp_action.ts";
import { SET_ATTR_SPANS, SET_ATTRS } from "./set_attr.ts";
import { F, FLOW_BYTES } from "./layout.ts";
import {
  ACT_CHECK_PKT_LEN,
  ACT_CLONE,
  ACT_CT,
  ACT_CT_CLEAR,
  ACT_HASH,
  ACT_HEADER_LEN,
  ACT_OUTPUT,
  ACT_POP_VLAN,
  ACT_PUSH_VLAN,
  ACT_RECIRC,
  ACT_SET,
  ACT_SET_MASKED,
  ACT_TRUNC,
  ACT_USERSPACE,
} from "./odp_action_codec.ts";
import {
  ETH_TYPE_ARP,
  ETH_TYPE_IP,
  ETH_TYPE_IPV6,
  ETH_TYPE_RARP,
  HDR_DL_TYPE,
  HDR_L3,
  HDR_L4,
  HDR_L4_PROTO,
  HDR_MPLS,
  IPPROTO_ICMP,
  IPPROTO_ICMPV6,
  IPPROTO_SCTP,
  IPPROTO_TCP,
  IPPROTO_UDP,
  locateHeaders,
  ND_NEIGHBOR_ADVERT,
  ND_NEIGHBOR_SOLICIT,
  newHeaderOffsets,
  type PacketBuffer,
  popVlan,
  pushVlan,
  setBytesMasked,
  setIcmp,
  setIpv4,
  setIpv6,
  setPorts,
} from "../packet/mod.ts";

/** The actions only the datapath can do (OVS's dp_execute_action callback). */
export interface OdpExecuteDatapath {
  /** Sends the first `len` bytes of `pkt` (already truncated) to `odpPort`. */
  output(pkt: PacketBuffer, odpPort: number, len: number): void;
  /**
   * A userspace action: its userdata is `acts[udAt..udAt+udLen)` (udLen 0:
   * none); `last` when nothing follows it in the list.
   */
  userspace(
    pkt: PacketBuffer,
    acts: Uint8Array,
    udAt: number,
    udLen: number,
    last: boolean,
  ): void;
  /**
   * The actions that need the packet's datapath metadata (recirc_id,
   * dp_hash, the conntrack fields), which the datapath keeps: a datapath
   * without them skips these actions. `at` is the action's payload.
   */
  recirculate?(pkt: PacketBuffer, id: number, last: boolean): void;
  setDpHash?(pkt: PacketBuffer, alg: number, basis: number): void;
  conntrack?(pkt: PacketBuffer, acts: Uint8Array, at: number): void;
  conntrackClear?(pkt: PacketBuffer): void;
  /**
   * A clone(...) that is not the last action: `cloneBegin` keeps the
   * packet as it is now (its bytes, length and everything the datapath
   * knows of it: key, metadata); `cloneEnd`, after the clone's actions,
   * puts that back. Calls nest (a clone inside a clone).
   */
  cloneBegin(pkt: PacketBuffer): void;
  cloneEnd(pkt: PacketBuffer): void;
}

/**
 * Runs the encoded actions `acts[at..at+n)` on `pkt`. recirc, hash, ct
 * and ct_clear go to the datapath (skipped when it has no such hook);
 * the text-kept actions are skipped. `truncLen` is a pending trunc's
 * length (-1: none), which a clone's actions inherit.
 */
export function odpExecuteActions(
  pkt: PacketBuffer,
  acts: Uint8Array,
  at: number,
  n: number,
  dp: OdpExecuteDatapath,
  truncLen = -1,
): void {
  // Header offsets are found at the first set and kept until a VLAN push or
  // pop moves the headers (sets never do).
  let located = false;
  for (let p = at, end = at + n; p + ACT_HEADER_LEN <= end;) {
    const op = acts[p], len = (acts[p + 1] << 8) | acts[p + 2];
    const a = p + ACT_HEADER_LEN;
    switch (op) {
      case ACT_OUTPUT:
        dp.output(pkt, u32(acts, a), truncLen >= 0 && truncLen < pkt.len ? truncLen : pkt.len);
        truncLen = -1;
        break;
      case ACT_USERSPACE:
        // Payload: u32 pid, u8 flags (2: userdata follows), userdata.
        dp.userspace(pkt, acts, a + 5, acts[a + 4] & 2 ? len - 5 : 0, a + len >= end);
        break;
      case ACT_PUSH_VLAN: {
        const l = pushVlan(
          pkt.data,
          pkt.len,
          (acts[a] << 8) | acts[a + 1],
          (acts[a + 2] << 8) | acts[a + 3],
        );
        if (l >= 0) pkt.len = l;
        located = false;
        break;
      }
      case ACT_POP_VLAN:
        pkt.len = popVlan(pkt.data, pkt.len);
        located = false;
        break;
      case ACT_SET:
      case ACT_SET_MASKED:
        // Payload: attribute index, key bytes, then (masked) as many mask bytes.
        setEncoded(
          pkt,
          acts[a],
          acts,
          a + 1,
          op === ACT_SET ? -1 : a + 1 + (len - 1) / 2,
          !located,
        );
        located = true;
        break;
      case ACT_TRUNC:
        truncLen = u32(acts, a);
        break;
      case ACT_RECIRC:
        // The recirculated pass may run actions of its own: headers are
        // located afresh after it.
        dp.recirculate?.(pkt, u32(acts, a), a + len >= end);
        located = false;
        break;
      case ACT_HASH:
        dp.setDpHash?.(pkt, u32(acts, a), u32(acts, a + 4));
        break;
      case ACT_CT:
        dp.conntrack?.(pkt, acts, a);
        located = false;
        break;
      case ACT_CT_CLEAR:
        dp.conntrackClear?.(pkt);
        break;
      case ACT_CHECK_PKT_LEN: {
        // odp_execute_check_pkt_len: the branch runs on the packet as it is.
        const gt = (acts[a + 2] << 8) | acts[a + 3];
        if (pkt.len > ((acts[a] << 8) | acts[a + 1])) {
          odpExecuteActions(pkt, acts, a + 4, gt, dp);
        } else {
          odpExecuteActions(pkt, acts, a + 4 + gt, len - 4 - gt, dp);
        }
        located = false;
        break;
      }
      case ACT_CLONE:
        // odp_execute_clone: the copy keeps a pending trunc, the packet
        // after the clone has none.
        if (a + len >= end) {
          odpExecuteActions(pkt, acts, a, len, dp, truncLen);
        } else {
          dp.cloneBegin(pkt);
          try {
            odpExecuteActions(pkt, acts, a, len, dp, truncLen);
          } finally {
            dp.cloneEnd(pkt);
          }
        }
        truncLen = -1;
        located = false;
        break;
    }
    p = a + len;
  }
}

const hdr = newHeaderOffsets();
const scratchKey = new Uint8Array(FLOW_BYTES);
const scratchMask = new Uint8Array(FLOW_BYTES);
/** Per attribute index, the flow key offset of each encoded key byte (SET_ATTR_SPANS order). */
const KEY_OFFSETS: Int16Array[] = SET_ATTRS.map((attr) =>
  Int16Array.from(
    SET_ATTR_SPANS[attr].flatMap((sp) => [...Array(sp.len).keys()].map((i) => sp.off + i)),
  )
);

const u32 = (b: Uint8Array, o: number) =>
  ((b[o] << 24) | (b[o + 1] << 16) | (b[o + 2] << 8) | b[o + 3]) >>> 0;

function merge32(old: number, k: Uint8Array, m: Uint8Array | null, o: number): number {
  return m ? ((old & ~u32(m, o)) | (u32(k, o) & u32(m, o))) >>> 0 : u32(k, o);
}

/**
 * Runs a set whose key (and mask, for a masked set; maskOff -1 for a
 * plain set) sit packed in `enc` as the binary encoding stores them.
 */
export function executeSetEncoded(
  buf: PacketBuffer,
  attrIndex: number,
  enc: Uint8Array,
  keyOff: number,
  maskOff: number,
): void {
  setEncoded(buf, attrIndex, enc, keyOff, maskOff, true);
}

/** executeSetEncoded, finding the header offsets first only if `locate`. */
function setEncoded(
  buf: PacketBuffer,
  attrIndex: number,
  enc: Uint8Array,
  keyOff: number,
  maskOff: number,
  locate: boolean,
): void {
  const attr = SET_ATTRS[attrIndex];
  if (attr === undefined) return;
  const offs = KEY_OFFSETS[attrIndex];
  for (let i = 0; i < offs.length; i++) scratchKey[offs[i]] = enc[keyOff + i];
  if (maskOff >= 0) {
    for (let i = 0; i < offs.length; i++) {
      scratchMask[offs[i]] = enc[maskOff + i];
    }
  }
  if (locate) locateHeaders(buf.data, buf.len, hdr);
  setLocated(buf, attr, scratchKey, maskOff >= 0 ? scratchMask : null);
}

/** Runs a set with key and mask (null: plain set) in the flow key layout. */
export function executeSet(
  buf: PacketBuffer,
  attr: OdpSetAttr,
  k: Uint8Array,
  m: Uint8Array | null,
): void {
  locateHeaders(buf.data, buf.len, hdr);
  setLocated(buf, attr, k, m);
}

/** The set itself, on the header offsets in `hdr`. */
function setLocated(
  buf: PacketBuffer,
  attr: OdpSetAttr,
  k: Uint8Array,
  m: Uint8Array | null,
): void {
  const p = buf.data;
  const l3 = hdr[HDR_L3], l4 = hdr[HDR_L4], proto = hdr[HDR_L4_PROTO], dl = hdr[HDR_DL_TYPE];
  switch (attr) {
    case "skb_priority":
      buf.skbPriority = merge32(buf.skbPriority, k, m, F.skb_priority.off);
      return;
    case "skb_mark":
      buf.pktMark = merge32(buf.pktMark, k, m, F.pkt_mark.off);
      return;
    case "eth":
      if (buf.len >= 12) setBytesMasked(p, 0, k, F.dl_dst.off, m, F.dl_dst.off, 12);
      return;
    case "mpls":
      if (hdr[HDR_MPLS] >= 0) {
        setBytesMasked(p, hdr[HDR_MPLS], k, F.mpls_lse.off, m, F.mpls_lse.off, 4);
      }
      return;
    case "ipv4":
      if (dl === ETH_TYPE_IP && l3 >= 0) {
        setIpv4(p, l3, l4, k, F.nw_src.off, m, F.nw_src.off, F.nw_tos.off, F.nw_tos.off);
      }
      return;
    case "ipv6":
      if (dl === ETH_TYPE_IPV6 && l3 >= 0) {
        setIpv6(
          p,
          l3,
          l4,
          proto,
          k,
          F.ipv6_src.off,
          m,
          F.ipv6_src.off,
          F.ipv6_label.off,
          F.ipv6_label.off,
        );
      }
      return;
    case "tcp":
    case "udp":
    case "sctp": {
      const want = attr === "tcp" ? IPPROTO_TCP : attr === "udp" ? IPPROTO_UDP : IPPROTO_SCTP;
      if (l4 >= 0 && proto === want) {
        setPorts(p, buf.len, l4, proto, k, F.tp_src.off, m, F.tp_src.off);
      }
      return;
    }
    case "icmp":
    case "icmpv6": {
      const want = attr === "icmp" ? IPPROTO_ICMP : IPPROTO_ICMPV6;
      if (l4 >= 0 && proto === want && l4 + 4 <= buf.len) {
        setIcmp(
          p,
          l4,
          k,
          F.tp_src.off + 1,
          F.tp_dst.off + 1,
          m,
          F.tp_src.off + 1,
          F.tp_dst.off + 1,
        );
      }
      return;
    }
    case "arp":
      if ((dl === ETH_TYPE_ARP || dl === ETH_TYPE_RARP) && l3 >= 0) {
        if (!m || m[F.nw_proto.off] === 0xff) p[l3 + 6] = 0;
        setBytesMasked(p, l3 + 7, k, F.nw_proto.off, m, F.nw_proto.off, 1);
        setBytesMasked(p, l3 + 8, k, F.arp_sha.off, m, F.arp_sha.off, 6);
        setBytesMasked(p, l3 + 14, k, F.nw_src.off, m, F.nw_src.off, 4);
        setBytesMasked(p, l3 + 18, k, F.arp_tha.off, m, F.arp_tha.off, 6);
        setBytesMasked(p, l3 + 24, k, F.nw_dst.off, m, F.nw_dst.off, 4);
      }
      return;
    case "nd":
      if (l4 >= 0 && proto === IPPROTO_ICMPV6) setNd(p, buf.len, l4, k, m);
      return;
  }
}

/** ND target and, where the packet has the options, its link-layer addresses. */
function setNd(p: Uint8Array, len: number, l4: number, k: Uint8Array, m: Uint8Array | null): void {
  const type = p[l4];
  if ((type !== ND_NEIGHBOR_SOLICIT && type !== ND_NEIGHBOR_ADVERT) || l4 + 24 > len) return;
  const csum = l4 + 2;
  setBytesMasked(p, l4 + 8, k, F.nd_target.off, m, F.nd_target.off, 16, csum, l4);
  for (let o = l4 + 24; o + 8 <= len;) {
    const optLen = p[o + 1] * 8;
    if (optLen === 0 || o + optLen > len) break;
    if (optLen === 8 && (p[o] === 1 || p[o] === 2)) {
      const src = p[o] === 1 ? F.arp_sha.off : F.arp_tha.off;
      setBytesMasked(p, o + 2, k, src, m, src, 6, csum, l4);
    }
    o += optLen;
  }
}

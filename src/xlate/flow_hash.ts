/**
 * Hashes of selected flow fields (lib/flow.c: flow_hash_fields and its
 * symmetric helpers) and the wildcards they imply
 * (flow_mask_hash_fields), for multipath and bundle. Each hash is laid
 * out in memory as OVS lays out its struct (network-order fields, zeroed
 * padding) and hashed with the same function, so the chosen link or
 * member is OVS's.
 */
import { F, getUint, PT_ETH, vlanOffset } from "../flow/mod.ts";
import { hashAdd, hashAdd64, hashFinish, jhashBytes } from "../lib/mod.ts";
import type { HashFields } from "../ofproto/mod.ts";
import { isIpAny, maskField } from "./flow_ops.ts";

const ETH_TYPE_IP = 0x0800;
const ETH_TYPE_IPV6 = 0x86dd;
const IPPROTO_TCP = 6;
const IPPROTO_UDP = 17;
const IPPROTO_SCTP = 132;
const IPPROTO_ICMP = 1;
const FLOW_MAX_VLAN_HEADERS = 2;

/** Scratch for the structs OVS hashes (the largest is 32 bytes). */
const scratch = new Uint8Array(32);

const le32 = (b: Uint8Array, off: number): number =>
  (b[off] | (b[off + 1] << 8) | (b[off + 2] << 16) | (b[off + 3] << 24)) >>> 0;

/** The XOR of source and destination address (IPv4 or IPv6) into scratch[0..16). */
function xorAddrs(f: Uint8Array, dlType: number): void {
  if (dlType === ETH_TYPE_IP) {
    for (let i = 0; i < 4; i++) scratch[i] = f[F.nw_src.off + i] ^ f[F.nw_dst.off + i];
  } else if (dlType === ETH_TYPE_IPV6) {
    for (let i = 0; i < 16; i++) scratch[i] = f[F.ipv6_src.off + i] ^ f[F.ipv6_dst.off + i];
  }
}

/** XOR of the VLAN ids of every header, as two network-order bytes at `off`. */
function xorVids(f: Uint8Array, off: number): void {
  for (let i = 0; i < FLOW_MAX_VLAN_HEADERS; i++) {
    const t = vlanOffset(i) + 2;
    scratch[off] ^= f[t] & 0x0f;
    scratch[off + 1] ^= f[t + 1];
  }
}

function symmetricL4(f: Uint8Array, basis: number): number {
  scratch.fill(0);
  const dlType = getUint(f, F.dl_type.off, 2);
  // struct { union { be32; in6_addr } @0; eth_type @16; vlan_tci @18; tp_port @20; eth_addr @22; ip_proto @28 }
  for (let i = 0; i < 6; i++) scratch[22 + i] = f[F.dl_src.off + i] ^ f[F.dl_dst.off + i];
  xorVids(f, 18);
  scratch[16] = f[F.dl_type.off];
  scratch[17] = f[F.dl_type.off + 1];
  if (dlType === ETH_TYPE_IP || dlType === ETH_TYPE_IPV6) {
    xorAddrs(f, dlType);
    const proto = f[F.nw_proto.off];
    scratch[28] = proto;
    if (proto === IPPROTO_TCP || proto === IPPROTO_SCTP) {
      scratch[20] = f[F.tp_src.off] ^ f[F.tp_dst.off];
      scratch[21] = f[F.tp_src.off + 1] ^ f[F.tp_dst.off + 1];
    }
  }
  return jhashBytes(scratch, 0, 32, basis);
}

function symmetricL2(f: Uint8Array, basis: number): number {
  if (getUint(f, F.packet_type.off, 4) !== PT_ETH) return 0;
  scratch.fill(0);
  scratch[0] = f[F.dl_type.off];
  scratch[1] = f[F.dl_type.off + 1];
  xorVids(f, 2);
  for (let i = 0; i < 6; i++) scratch[4 + i] = f[F.dl_src.off + i] ^ f[F.dl_dst.off + i];
  let h = basis;
  for (let w = 0; w < 3; w++) h = hashAdd(h, le32(scratch, 4 * w));
  return hashFinish(h, basis);
}

function symmetricL3L4(f: Uint8Array, basis: number, udp: boolean): number {
  const dlType = getUint(f, F.dl_type.off, 2);
  let h = basis;
  if (dlType === ETH_TYPE_IP) {
    scratch.fill(0);
    xorAddrs(f, dlType);
    h = hashAdd(h, le32(scratch, 0));
  } else if (dlType === ETH_TYPE_IPV6) {
    scratch.fill(0);
    xorAddrs(f, dlType);
    for (let i = 0; i < 2; i++) h = hashAdd64(h, le32(scratch, 8 * i), le32(scratch, 8 * i + 4));
  } else {
    return symmetricL2(f, basis);
  }
  const proto = f[F.nw_proto.off];
  h = hashAdd(h, proto);
  if (
    !(f[F.nw_frag.off] & 3) &&
    (proto === IPPROTO_TCP || proto === IPPROTO_SCTP || (udp && proto === IPPROTO_UDP))
  ) {
    const b0 = f[F.tp_src.off] ^ f[F.tp_dst.off], b1 = f[F.tp_src.off + 1] ^ f[F.tp_dst.off + 1];
    h = hashAdd(h, b0 | (b1 << 8));
  }
  return hashFinish(h, basis);
}

function symmetricL3(f: Uint8Array, basis: number): number {
  scratch.fill(0);
  const dlType = getUint(f, F.dl_type.off, 2);
  scratch[16] = f[F.dl_type.off];
  scratch[17] = f[F.dl_type.off + 1];
  xorAddrs(f, dlType);
  return jhashBytes(scratch, 0, 20, basis);
}

/** flow_hash_fields. */
export function flowHashFields(f: Uint8Array, fields: HashFields, basis: number): number {
  const dlType = getUint(f, F.dl_type.off, 2);
  switch (fields) {
    case "eth_src":
      return jhashBytes(f, F.dl_src.off, 6, basis);
    case "symmetric_l4":
      return symmetricL4(f, basis);
    case "symmetric_l3l4":
      return symmetricL3L4(f, basis, false);
    case "symmetric_l3l4+udp":
      return symmetricL3L4(f, basis, true);
    case "nw_src":
    case "nw_dst": {
      const src = fields === "nw_src";
      if (dlType === ETH_TYPE_IP) return jhashBytes(f, (src ? F.nw_src : F.nw_dst).off, 4, basis);
      if (dlType === ETH_TYPE_IPV6) {
        return jhashBytes(f, (src ? F.ipv6_src : F.ipv6_dst).off, 16, basis);
      }
      return basis;
    }
    case "symmetric_l3":
      return symmetricL3(f, basis);
  }
}

function maskAddrs(f: Uint8Array, w: Uint8Array, src: boolean, dst: boolean): boolean {
  const dlType = getUint(f, F.dl_type.off, 2);
  if (dlType === ETH_TYPE_IP) {
    if (src) maskField(w, F.nw_src);
    if (dst) maskField(w, F.nw_dst);
  } else if (dlType === ETH_TYPE_IPV6) {
    if (src) maskField(w, F.ipv6_src);
    if (dst) maskField(w, F.ipv6_dst);
  } else return false;
  return true;
}

/** flow_mask_hash_fields: the bits `flowHashFields` looked at. */
export function flowMaskHashFields(f: Uint8Array, w: Uint8Array, fields: HashFields): void {
  const proto = f[F.nw_proto.off];
  const unfragmented = !(f[F.nw_frag.off] & 3);
  switch (fields) {
    case "eth_src":
      maskField(w, F.dl_src);
      return;
    case "symmetric_l4":
      maskField(w, F.dl_src);
      maskField(w, F.dl_dst);
      maskAddrs(f, w, true, true);
      if (isIpAny(f)) {
        w[F.nw_proto.off] = 0xff;
        if (proto !== IPPROTO_UDP) {
          // flow_unwildcard_tp_ports: ICMP type and code are one byte each.
          const m = proto === IPPROTO_ICMP ? 0 : 0xff;
          w[F.tp_src.off] = m, w[F.tp_dst.off] = m;
          w[F.tp_src.off + 1] = 0xff, w[F.tp_dst.off + 1] = 0xff;
        }
      }
      for (let i = 0; i < FLOW_MAX_VLAN_HEADERS; i++) {
        const t = vlanOffset(i) + 2;
        w[t] |= 0x1f;
        w[t + 1] = 0xff;
      }
      return;
    case "symmetric_l3l4+udp":
    case "symmetric_l3l4":
      if (fields === "symmetric_l3l4+udp" && isIpAny(f) && proto === IPPROTO_UDP && unfragmented) {
        maskField(w, F.tp_src);
        maskField(w, F.tp_dst);
      }
      if (!maskAddrs(f, w, true, true)) return;
      w[F.nw_proto.off] = 0xff;
      if ((proto === IPPROTO_TCP || proto === IPPROTO_SCTP) && unfragmented) {
        maskField(w, F.tp_src);
        maskField(w, F.tp_dst);
      }
      return;
    case "nw_src":
      maskAddrs(f, w, true, false);
      return;
    case "nw_dst":
      maskAddrs(f, w, false, true);
      return;
    case "symmetric_l3":
      maskAddrs(f, w, true, true);
      return;
  }
}

/**
 * The conntrack Nicira actions as OVS encodes them (lib/ofp-actions.c:
 * encode_CT / decode_NXAST_RAW_CT, encode_NAT / decode_NXAST_RAW_NAT,
 * NXAST_CT_CLEAR): nx_action_conntrack is 24 bytes (flags, zone source
 * header or immediate zone with its ofs/n_bits, recirculation table, ALG
 * port) followed by the nested actions, in the connection's version;
 * nx_action_nat is 16 bytes (flags, which range parts follow) and the
 * present range parts, padded to 8 bytes.
 */
import {
  type CtAction,
  type NatAction,
  NX_NAT_F_DST,
  NX_NAT_F_PROTO_HASH,
  NX_NAT_F_PROTO_RANDOM,
  NX_NAT_F_SRC,
  type OfAction,
} from "../ofproto/mod.ts";
import { OfpError } from "./errors.ts";
import type { WireReader, WireWriter } from "./_buf.ts";
import { fieldHeader, fieldOfHeader } from "./nx_match.ts";

export const NXAST_CT = 35;
export const NXAST_NAT = 36;
export const NXAST_CT_CLEAR = 43;

const NX_CT_F_COMMIT = 1;
const NX_CT_F_FORCE = 2;
const NX_NAT_F_MASK = 0x1f;

const RANGE_IPV4_MIN = 1;
const RANGE_IPV4_MAX = 2;
const RANGE_IPV6_MIN = 4;
const RANGE_IPV6_MAX = 8;
const RANGE_PROTO_MIN = 16;
const RANGE_PROTO_MAX = 32;

type PullList = (r: WireReader, len: number) => OfAction[];
type PutList = (w: WireWriter, actions: readonly OfAction[]) => void;
type Header = (w: WireWriter, len: number, subtype: number) => void;

/** decode_NXAST_RAW_CT; `r` is past the subtype, `pull` decodes the nested actions. */
export function pullCt(r: WireReader, pull: PullList): CtAction {
  const flags = r.u16();
  if (flags & NX_CT_F_FORCE && !(flags & NX_CT_F_COMMIT)) throw new OfpError("OFPBAC_BAD_ARGUMENT");
  const zoneSrc = r.u32();
  const zoneBits = r.u16();
  const table = r.u8();
  r.skip(3);
  const alg = r.u16();
  let zone: CtAction["zone"] = zoneBits;
  if (zoneSrc) {
    const f = fieldOfHeader(zoneSrc);
    if (!f) throw new OfpError("OFPBAC_BAD_SET_TYPE");
    const ofs = zoneBits >> 6, nBits = (zoneBits & 0x3f) + 1;
    if (ofs + nBits > f.mf.nBits) throw new OfpError("OFPBAC_BAD_SET_LEN");
    if (nBits !== 16) throw new OfpError("OFPBAC_BAD_SET_LEN");
    zone = { field: f.mf.name, ofs, nBits };
  }
  const actions = pull(r, r.remaining);
  const commit = (flags & NX_CT_F_COMMIT) !== 0;
  for (const a of actions) {
    if (!commit && (a.type !== "nat" || a.flags || a.af)) throw new OfpError("OFPBAC_BAD_ARGUMENT");
  }
  return { type: "ct", commit, force: (flags & NX_CT_F_FORCE) !== 0, table, zone, alg, actions };
}

/** encode_CT: the header, then the nested actions, with the total length patched in. */
export function putCt(w: WireWriter, a: CtAction, header: Header, put: PutList): void {
  const start = w.length;
  header(w, 24, NXAST_CT);
  w.u16((a.commit ? NX_CT_F_COMMIT : 0) | (a.force ? NX_CT_F_FORCE : 0));
  if (typeof a.zone === "number") {
    w.u32(0).u16(a.zone);
  } else {
    const h = fieldHeader(a.zone.field, false);
    if (h === undefined) throw new Error(`${a.zone.field}: no NXM header`);
    w.u32(h).u16((a.zone.ofs << 6) | (a.zone.nBits - 1));
  }
  w.u8(a.table).zeros(3).u16(a.alg);
  put(w, a.actions);
  w.setU16(start + 2, w.length - start);
}

/** decode_NXAST_RAW_NAT; `r` is past the subtype. */
export function pullNat(r: WireReader): NatAction {
  r.skip(2);
  const flags = r.u16();
  const present = r.u16();
  const bad = () => new OfpError("OFPBAC_BAD_ARGUMENT");
  if (
    flags & ~NX_NAT_F_MASK ||
    (flags & NX_NAT_F_SRC && flags & NX_NAT_F_DST) ||
    (flags & NX_NAT_F_PROTO_HASH && flags & NX_NAT_F_PROTO_RANDOM)
  ) throw bad();
  const nat: NatAction = {
    type: "nat",
    flags,
    af: 0,
    addrMin: 0n,
    addrMax: 0n,
    protoMin: 0,
    protoMax: 0,
  };
  const take = (n: number): bigint => {
    if (r.remaining < n) throw bad();
    return r.uint(n);
  };
  if (present & RANGE_IPV4_MIN) {
    if (present & (RANGE_IPV6_MIN | RANGE_IPV6_MAX)) throw bad();
    nat.af = 4;
    nat.addrMin = take(4);
    if (!nat.addrMin) throw bad();
    if (present & RANGE_IPV4_MAX) {
      nat.addrMax = take(4);
      if (nat.addrMax < nat.addrMin) throw bad();
    }
  } else if (present & RANGE_IPV4_MAX) {
    throw bad();
  } else if (present & RANGE_IPV6_MIN) {
    nat.af = 6;
    nat.addrMin = take(16);
    if (!nat.addrMin) throw bad();
    if (present & RANGE_IPV6_MAX) {
      nat.addrMax = take(16);
      if (nat.addrMax < nat.addrMin) throw bad();
    }
  } else if (present & RANGE_IPV6_MAX) {
    throw bad();
  }
  if (present & RANGE_PROTO_MIN) {
    if (!nat.af) throw bad();
    nat.protoMin = Number(take(2));
    if (!nat.protoMin) throw bad();
    if (present & RANGE_PROTO_MAX) {
      nat.protoMax = Number(take(2));
      if (nat.protoMax < nat.protoMin) throw bad();
    }
  } else if (present & RANGE_PROTO_MAX) {
    throw bad();
  }
  return nat;
}

/** encode_NAT: only the range parts that are set, then padding to 8 bytes. */
export function putNat(w: WireWriter, a: NatAction, header: Header): void {
  const start = w.length;
  header(w, 16, NXAST_NAT);
  w.zeros(2).u16(a.flags);
  const presentAt = w.length;
  w.u16(0);
  let present = 0;
  const addrLen = a.af === 4 ? 4 : 16;
  if (a.af) {
    if (a.addrMin) {
      w.uint(a.addrMin, addrLen);
      present |= a.af === 4 ? RANGE_IPV4_MIN : RANGE_IPV6_MIN;
    }
    if (a.addrMax) {
      w.uint(a.addrMax, addrLen);
      present |= a.af === 4 ? RANGE_IPV4_MAX : RANGE_IPV6_MAX;
    }
    if (a.protoMin) {
      w.u16(a.protoMin);
      present |= RANGE_PROTO_MIN;
    }
    if (a.protoMax) {
      w.u16(a.protoMax);
      present |= RANGE_PROTO_MAX;
    }
  }
  w.pad8();
  w.setU16(presentAt, present);
  w.setU16(start + 2, w.length - start);
}

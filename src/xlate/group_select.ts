/**
 * Which bucket of a group translation uses (ofproto-dpif-xlate.c's
 * bucket_is_alive, group_first_live_bucket, group_best_live_bucket and the
 * pick_*_group functions): fast-failover takes the first live bucket;
 * select hashes the flow, un-wildcarding what it hashed, and takes the
 * live bucket with the best score or, for dp_hash, the bucket the
 * datapath's hash maps to.
 */
import { F, getUint, VLAN_CFI, VLAN_VID_MASK, vlanOffset } from "../flow/mod.ts";
import { hashBytes, hashInt, hashUint64, jhashBytes } from "../lib/mod.ts";
import {
  type Bucket,
  bucketHasLiveness,
  type Group,
  type GroupSelection,
  mfByName,
  mfGet,
  mfSetMasked,
  OFPG_ANY,
  OFPP_CONTROLLER,
  OFPP_NONE,
} from "../ofproto/mod.ts";
import type { XlateCtx } from "./context.ts";
import { isIpAny, maskField, prereqsOk } from "./flow_ops.ts";

/** MAX_LIVENESS_RECURSION. */
const MAX_LIVENESS_DEPTH = 128;
const ETH_TYPE_IP = 0x0800;
const ETH_TYPE_IPV6 = 0x86dd;
const IPPROTO_TCP = 6;
const IPPROTO_UDP = 17;
const IPPROTO_SCTP = 132;

/** odp_port_is_alive: the port exists, may forward (not administratively down), and has carrier. */
function portIsAlive(ctx: XlateCtx, ofport: number): boolean {
  const port = ctx.xin.bridge.port(ofport);
  return port !== undefined && !port.noForward && !port.linkDown;
}

function groupIsAlive(ctx: XlateCtx, groupId: number, depth: number): boolean {
  const g = ctx.xin.tables.group?.(groupId);
  return g !== undefined && firstLiveBucket(ctx, g.group, depth) >= 0;
}

/** bucket_is_alive. */
export function bucketIsAlive(ctx: XlateCtx, g: Group, b: Bucket, depth: number): boolean {
  if (depth >= MAX_LIVENESS_DEPTH) {
    ctx.report("error", `bucket chaining exceeded ${MAX_LIVENESS_DEPTH} links`);
    return false;
  }
  if (g.type === "select" && b.weight === 0) return false;
  return !bucketHasLiveness(b) ||
    (b.watchPort !== OFPP_NONE && b.watchPort !== OFPP_CONTROLLER &&
      portIsAlive(ctx, b.watchPort)) ||
    (b.watchGroup !== OFPG_ANY && groupIsAlive(ctx, b.watchGroup, depth + 1));
}

/** xlate_report_bucket_not_live, with OVS's wording (a watched group reads "port N"). */
function reportNotLive(ctx: XlateCtx, b: Bucket): void {
  if (!ctx.trace) return;
  const why: string[] = [];
  if (b.watchPort !== OFPP_NONE) why.push(`port ${b.watchPort}`);
  if (b.watchGroup !== OFPG_ANY) why.push(`port ${b.watchGroup}`);
  ctx.report("detail", `bucket ${b.id}: not live due to ${why.join(" and ")}`);
}

/** group_first_live_bucket: the index of the first live bucket, or -1. */
export function firstLiveBucket(ctx: XlateCtx, g: Group, depth: number): number {
  for (let i = 0; i < g.buckets.length; i++) {
    if (bucketIsAlive(ctx, g, g.buckets[i], depth)) return i;
    reportNotLive(ctx, g.buckets[i]);
  }
  return -1;
}

/** group_best_live_bucket: the live bucket scoring highest for `basis` (ties: the later). */
function bestLiveBucket(ctx: XlateCtx, g: Group, basis: number): number {
  let best = -1, bestScore = 0;
  g.buckets.forEach((b, i) => {
    if (!bucketIsAlive(ctx, g, b, 0)) {
      reportNotLive(ctx, b);
      return;
    }
    const score = (hashInt(b.id, basis) & 0xffff) * b.weight;
    if (score >= bestScore) {
      best = i;
      bestScore = score;
    }
    ctx.report("detail", `bucket ${b.id}: score ${score}`);
  });
  return best;
}

/** flow_mask_hash_fields(NX_HASH_FIELDS_SYMMETRIC_L4) then flow_hash_symmetric_l4(flow, 0). */
function symmetricL4Hash(ctx: XlateCtx): number {
  const f = ctx.f, w = ctx.w;
  maskField(w, F.dl_src);
  maskField(w, F.dl_dst);
  const dlType = getUint(f, F.dl_type.off, 2);
  const proto = f[F.nw_proto.off];
  const l4 = proto === IPPROTO_TCP || proto === IPPROTO_SCTP;
  if (dlType === ETH_TYPE_IP) {
    maskField(w, F.nw_src);
    maskField(w, F.nw_dst);
  } else if (dlType === ETH_TYPE_IPV6) {
    maskField(w, F.ipv6_src);
    maskField(w, F.ipv6_dst);
  }
  if (isIpAny(f)) {
    w[F.nw_proto.off] = 0xff;
    if (proto !== IPPROTO_UDP) {
      maskField(w, F.tp_src);
      maskField(w, F.tp_dst);
    }
  }
  // struct { addr[16]; eth_type; vlan_tci; tp_port; eth_addr[6]; ip_proto; } padded to 32.
  const s = new Uint8Array(32);
  for (let i = 0; i < 2; i++) {
    const tci = vlanOffset(i) + 2;
    w[tci] |= (VLAN_VID_MASK | VLAN_CFI) >> 8;
    w[tci + 1] |= VLAN_VID_MASK & 0xff;
    s[18] ^= f[tci] & (VLAN_VID_MASK >> 8);
    s[19] ^= f[tci + 1];
  }
  for (let i = 0; i < 6; i++) s[22 + i] = f[F.dl_src.off + i] ^ f[F.dl_dst.off + i];
  s[16] = f[F.dl_type.off];
  s[17] = f[F.dl_type.off + 1];
  if (dlType === ETH_TYPE_IP || dlType === ETH_TYPE_IPV6) {
    const [src, dst, n] = dlType === ETH_TYPE_IP
      ? [F.nw_src.off, F.nw_dst.off, 4]
      : [F.ipv6_src.off, F.ipv6_dst.off, 16];
    for (let i = 0; i < n; i++) s[i] = f[src + i] ^ f[dst + i];
    s[28] = proto;
    if (l4) {
      s[20] = f[F.tp_src.off] ^ f[F.tp_dst.off];
      s[21] = f[F.tp_src.off + 1] ^ f[F.tp_dst.off + 1];
    }
  }
  return jhashBytes(s, 0, 32, 0);
}

/** pick_hash_fields_select_group: the `fields(...)` values, masked, hashed in turn. */
function hashFieldsBasis(ctx: XlateCtx, g: Group): number {
  const param = g.props.selectionMethodParam;
  let basis = hashUint64(Number(param & 0xffffffffn), Number(param >> 32n), 0);
  for (const hf of g.props.fields) {
    const fl = mfByName(hf.field)!;
    if (!prereqsOk(ctx, fl)) continue;
    // OVS hashes ip_dscp as the TOS byte's top six bits in place.
    const shift = fl.name === "ip_dscp" ? BigInt(fl.shift) : 0n;
    let v = (mfGet(fl, ctx.flow) & hf.mask) << shift;
    const bytes = new Uint8Array(fl.valueBytes);
    for (let i = bytes.length - 1; i >= 0; i--, v >>= 8n) bytes[i] = Number(v & 0xffn);
    basis = hashBytes(bytes, 0, bytes.length, basis);
    mfSetMasked(fl, ctx.wc, hf.mask, hf.mask);
  }
  return basis;
}

/**
 * The dp_hash method's bucket for the flow's dp_hash (pick_dp_hash_select_group
 * once the datapath has hashed): the first live bucket from the hash's
 * slot on, un-wildcarding the hash bits used.
 */
function dpHashBucket(ctx: XlateCtx, g: Group, sel: GroupSelection, dpHash: number): number {
  const w = ctx.w, off = F.dp_hash.off;
  const mask = (getUint(w, off, 4) | sel.hashMask) >>> 0;
  w[off] = mask >>> 24;
  w[off + 1] = (mask >>> 16) & 0xff;
  w[off + 2] = (mask >>> 8) & 0xff;
  w[off + 3] = mask & 0xff;
  for (let i = 0; i <= sel.hashMask; i++) {
    const idx = sel.hashMap[(dpHash + i) & sel.hashMask];
    if (bucketIsAlive(ctx, g, g.buckets[idx], 0)) return idx;
  }
  return -1;
}

/**
 * pick_select_group. A dp_hash group whose packet has no dp_hash yet has
 * the datapath hash and recirculate: `recirculate` freezes (returning
 * true: no bucket in this pass); when it cannot (group_freeze.ts), the
 * bucket is chosen by the symmetric L4 hash here, as the default method.
 */
export function pickSelectBucket(
  ctx: XlateCtx,
  g: Group,
  sel: GroupSelection,
  recirculate?: (alg: number, basis: number) => boolean,
): number {
  if (sel.method === "hash") return bestLiveBucket(ctx, g, hashFieldsBasis(ctx, g));
  if (sel.method === "dp_hash") {
    const dpHash = getUint(ctx.f, F.dp_hash.off, 4);
    if (dpHash) return dpHashBucket(ctx, g, sel, dpHash);
    if (recirculate?.(sel.hashAlg, sel.hashBasis)) return -1;
  }
  return bestLiveBucket(ctx, g, symmetricL4Hash(ctx));
}

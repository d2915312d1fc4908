/**
 * Group messages of OpenFlow 1.1 to 1.4 (lib/ofp-group.c): OFPT_GROUP_MOD
 * decoding (ofputil_decode_ofp11_group_mod, ofputil_pull_ofp11_buckets)
 * and the multipart replies OFPMP_GROUP (group stats), OFPMP_GROUP_DESC and
 * OFPMP_GROUP_FEATURES. Buckets carry no ids before OpenFlow 1.5: they
 * are numbered in order, as OVS numbers them.
 */
import {
  type Bucket,
  BUCKET_ALL,
  type Group,
  type GroupMod,
  type GroupModCommand,
  type GroupStats,
  type GroupType,
  OFPG_ALL,
  OFPP_NONE,
} from "../ofproto/mod.ts";
import { pullActions, putActions13 } from "./actions.ts";
import { OfpError } from "./errors.ts";
import { WireReader, type WireWriter } from "./_buf.ts";
import { portFromOf11, portToOf11 } from "./port_number.ts";

/** Multipart types (OFPMP_*). */
export const OFPMP_GROUP = 6;
export const OFPMP_GROUP_DESC = 7;
export const OFPMP_GROUP_FEATURES = 8;

const COMMANDS: readonly GroupModCommand[] = ["add", "modify", "delete"];
const TYPES: readonly GroupType[] = ["all", "select", "indirect", "ff"];
const OFPG_ANY = 0xffffffff;
const OFPP11_ANY = 0xffffffff;

function pullBucket(r: WireReader, index: number, version: number): Bucket {
  const len = r.u16();
  if (len < 16 || len % 8 || len - 2 > r.remaining) throw new OfpError("OFPBRC_BAD_LEN");
  const weight = r.u16();
  const watchPort11 = r.u32();
  const watchGroup = r.u32();
  r.skip(4);
  return {
    id: index,
    weight,
    watchPort: watchPort11 === OFPP11_ANY ? OFPP_NONE : portFromOf11(watchPort11),
    watchGroup,
    actions: pullActions(r, len - 16, version),
  };
}

/** OFPT_GROUP_MOD (1.1 to 1.4) into the group_mod `udpif ofctl` makes from text. */
export function decodeGroupMod(msg: Uint8Array, version: number): GroupMod {
  const r = new WireReader(msg, "OFPBRC_BAD_LEN", 8);
  const commandNo = r.u16();
  const typeNo = r.u8();
  r.skip(1);
  const id = r.u32();
  const command = COMMANDS[commandNo];
  if (command === undefined) throw new OfpError("OFPGMFC_BAD_COMMAND");
  const type = TYPES[typeNo];
  if (type === undefined) throw new OfpError("OFPGMFC_BAD_TYPE");
  const buckets: Bucket[] = [];
  while (r.remaining > 0) buckets.push(pullBucket(r, buckets.length, version));
  return {
    command,
    id,
    type,
    buckets,
    props: { selectionMethod: "", selectionMethodParam: 0n, fields: [] },
    commandBucketId: BUCKET_ALL,
  };
}

/**
 * The group id a group-stats (or OpenFlow 1.5 group-desc) request asks
 * for, OFPG_ALL for every group; its body starts at `bodyAt` (16 in a
 * multipart request, 24 in a Nicira stats request).
 */
export function decodeGroupStatsRequest(msg: Uint8Array, bodyAt = 16): number {
  const r = new WireReader(msg, "OFPBRC_BAD_LEN", bodyAt);
  return r.u32();
}

/** One ofp11_group_desc_stats entry. */
export function putGroupDesc(w: WireWriter, g: Group, version: number): void {
  const start = w.length;
  w.u16(0).u8(TYPES.indexOf(g.type)).u8(0).u32(g.id);
  for (const b of g.buckets) {
    const at = w.length;
    w.u16(0).u16(b.weight);
    w.u32(b.watchPort === OFPP_NONE ? OFPP11_ANY : portToOf11(b.watchPort));
    w.u32(b.watchGroup).zeros(4);
    putActions13(w, b.actions, version);
    w.setU16(at, w.length - at);
  }
  w.setU16(start, w.length - start);
}

/** One ofp13_group_stats entry (1.3 adds the duration). */
export function putGroupStats(
  w: WireWriter,
  id: number,
  refCount: number,
  st: GroupStats,
  ageMs: number,
  version: number,
): void {
  const start = w.length;
  w.u16(0).zeros(2).u32(id).u32(refCount).zeros(4);
  w.u64(BigInt(st.packets)).u64(BigInt(st.bytes));
  if (version >= 4) w.u32(Math.floor(ageMs / 1000)).u32((ageMs % 1000) * 1e6);
  for (const b of st.buckets) w.u64(BigInt(b.packets)).u64(BigInt(b.bytes));
  w.setU16(start, w.length - start);
}

/**
 * ofp12_group_features as ofproto-dpif announces them: every group type,
 * select weights and liveness, chaining, OFPG_MAX groups of each type,
 * and the action bitmaps (`actions`, per type).
 */
export function putGroupFeatures(w: WireWriter, version: number): void {
  w.u32(0xf).u32(0x7);
  for (let i = 0; i < 4; i++) w.u32(0xffffff00);
  // OpenFlow 1.0's bitmap: its action types 0 (output) to 11 (enqueue).
  for (let i = 0; i < 4; i++) w.u32(version === 1 ? 0xfff : GROUP_ACTIONS);
}

/** OpenFlow 1.1+ action types OVS offers in buckets: output, TTL copies, MPLS, VLAN, queue, group, TTLs, set_field, PBB. */
const GROUP_ACTIONS = [0, 11, 12, 15, 16, 17, 18, 19, 20, 21, 22, 23, 24, 25, 26, 27]
  .reduce((m, bit) => (m | (1 << bit)) >>> 0, 0);

export { OFPG_ALL, OFPG_ANY };

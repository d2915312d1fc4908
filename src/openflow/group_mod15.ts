/**
 * Group messages in OpenFlow 1.5's format, which OVS also speaks over
 * OpenFlow 1.0 as Nicira extensions (what `ovs-ofctl add-group` without
 * `-O` sends): NXT_GROUP_MOD (struct ofp15_group_mod, buckets with ids and
 * properties, the NTR selection-method property: lib/ofp-group.c
 * ofputil_pull_ofp15_buckets and parse_group_prop_ntr_selection_method)
 * and the NXST_GROUP_DESC reply entries (ofputil_append_ofp15_group_desc_reply).
 */
import {
  type Bucket,
  type Group,
  type GroupMod,
  type GroupModCommand,
  type GroupType,
  type HashField,
  newMatch,
  OFPG_ANY,
  OFPP_NONE,
} from "../ofproto/mod.ts";
import { pullActions, putActions10 } from "./actions.ts";
import { OfpError } from "./errors.ts";
import { WireReader, type WireWriter } from "./_buf.ts";
import { fieldHeader, fieldOfHeader } from "./nx_match.ts";
import { portFromOf11, portToOf11 } from "./port_number.ts";

/** Nicira subtypes: NXT_GROUP_MOD, and the NXST group stats over OpenFlow 1.0. */
export const NXT_GROUP_MOD = 31;
export const NXST_GROUP = 7;
export const NXST_GROUP_DESC = 8;
export const NXST_GROUP_FEATURES = 9;

const COMMANDS: Record<number, GroupModCommand> = {
  0: "add",
  1: "modify",
  2: "delete",
  3: "insert_bucket",
  5: "remove_bucket",
  0x8000: "add_or_mod",
};
const TYPES: readonly GroupType[] = ["all", "select", "indirect", "ff"];
const OFPGBPT15_WEIGHT = 0, OFPGBPT15_WATCH_PORT = 1, OFPGBPT15_WATCH_GROUP = 2;
const OFPPT_EXPERIMENTER = 0xffff;
const NTR_VENDOR_ID = 0x0000154d;
const NTRT_SELECTION_METHOD = 1;
const OFPP11_ANY = 0xffffffff;

const pad8 = (n: number) => (8 - (n % 8)) % 8;

function pullBucket(r: WireReader, type: GroupType, version: number): Bucket {
  const len = r.u16();
  const actionsLen = r.u16();
  if (len < 8 + actionsLen || len % 8) throw new OfpError("OFPGMFC_BAD_BUCKET");
  const id = r.u32();
  const actions = pullActions(r, actionsLen, version);
  const b: Bucket = {
    id,
    weight: type === "select" ? 1 : 0,
    watchPort: OFPP_NONE,
    watchGroup: OFPG_ANY,
    actions,
  };
  const props = r.sub(len - 8 - actionsLen);
  while (props.remaining > 0) {
    const pt = props.u16();
    const plen = props.u16();
    if (plen < 6) throw new OfpError("OFPBRC_BAD_LEN");
    const body = props.sub(plen - 4);
    if (pt === OFPGBPT15_WEIGHT) b.weight = body.u16();
    else if (pt === OFPGBPT15_WATCH_PORT) {
      const p = body.u32();
      b.watchPort = p === OFPP11_ANY ? OFPP_NONE : portFromOf11(p);
    } else if (pt === OFPGBPT15_WATCH_GROUP) b.watchGroup = body.u32();
    else throw new OfpError("OFPGMFC_BAD_BUCKET");
    props.skip(Math.min(pad8(plen), props.remaining));
  }
  return b;
}

/** The NTR selection-method property's fields: OXM headers and their masks. */
function pullFields(r: WireReader): HashField[] {
  const out: HashField[] = [];
  while (r.remaining >= 4) {
    // Each field is a header without a mask whose value is the mask hashed.
    const header = r.u32();
    const f = fieldOfHeader(header);
    if (!f || (header >>> 8) & 1) throw new OfpError("OFPBMC_BAD_FIELD");
    if (out.some((o) => o.field === f.mf.name)) throw new OfpError("OFPBMC_DUP_FIELD");
    out.push({ field: f.mf.name, mask: r.uint(f.len) & ((1n << BigInt(f.mf.nBits)) - 1n) });
  }
  return out;
}

/** NXT_GROUP_MOD (OpenFlow 1.0) in OpenFlow 1.5's layout. */
export function decodeGroupMod15(msg: Uint8Array, version: number): GroupMod {
  const r = new WireReader(msg, "OFPBRC_BAD_LEN", 16);
  const command = COMMANDS[r.u16()];
  if (command === undefined) throw new OfpError("OFPGMFC_BAD_COMMAND");
  const type = TYPES[r.u8()];
  if (type === undefined) throw new OfpError("OFPGMFC_BAD_TYPE");
  r.skip(1);
  const id = r.u32();
  const bucketsLen = r.u16();
  r.skip(2);
  const commandBucketId = r.u32();
  const br = r.sub(bucketsLen);
  const buckets: Bucket[] = [];
  while (br.remaining > 0) buckets.push(pullBucket(br, type, version));
  const gm: GroupMod = {
    command,
    id,
    type,
    buckets,
    props: { selectionMethod: "", selectionMethodParam: 0n, fields: [] },
    commandBucketId,
  };
  while (r.remaining >= 4) {
    const pt = r.u16();
    const plen = r.u16();
    if (pt !== OFPPT_EXPERIMENTER || plen < 40) throw new OfpError("OFPBPC_BAD_VALUE");
    const body = r.sub(plen - 4);
    if (body.u32() !== NTR_VENDOR_ID || body.u32() !== NTRT_SELECTION_METHOD) {
      throw new OfpError("OFPBPC_BAD_VALUE");
    }
    body.skip(4);
    const name = new TextDecoder().decode(body.bytesOf(16)).replace(/\0.*$/s, "");
    gm.props = {
      selectionMethod: name,
      selectionMethodParam: body.u64(),
      fields: pullFields(body),
    };
    r.skip(Math.min(pad8(plen), r.remaining));
  }
  return gm;
}

function putProp(w: WireWriter, type: number, value: (w: WireWriter) => void): void {
  const at = w.length;
  w.u16(type).u16(0);
  value(w);
  w.setU16(at + 2, w.length - at);
  w.zeros(pad8(w.length - at));
}

/** One ofp15_group_desc_stats entry (NXST_GROUP_DESC's), OpenFlow 1.0 actions. */
export function putGroupDesc15(w: WireWriter, g: Group): void {
  const start = w.length;
  w.u16(0).u8(TYPES.indexOf(g.type)).u8(0).u32(g.id).u16(0).zeros(6);
  const bucketsAt = w.length;
  for (const b of g.buckets) {
    const at = w.length;
    w.u16(0).u16(0).u32(b.id);
    putActions10(w, b.actions, newMatch());
    w.setU16(at + 2, w.length - at - 8);
    if (g.type === "select" || b.weight) {
      // OpenFlow gives 16-bit properties a length of 8.
      putProp(w, OFPGBPT15_WEIGHT, (p) => p.u16(b.weight).zeros(2));
    }
    if (b.watchPort !== OFPP_NONE) {
      putProp(w, OFPGBPT15_WATCH_PORT, (p) => p.u32(portToOf11(b.watchPort)));
    }
    if (b.watchGroup !== OFPG_ANY) putProp(w, OFPGBPT15_WATCH_GROUP, (p) => p.u32(b.watchGroup));
    w.setU16(at, w.length - at);
  }
  w.setU16(start + 8, w.length - bucketsAt);
  const p = g.props;
  if (p.selectionMethod) {
    putProp(w, OFPPT_EXPERIMENTER, (x) => {
      x.u32(NTR_VENDOR_ID).u32(NTRT_SELECTION_METHOD).zeros(4);
      x.str(p.selectionMethod, 16).u64(p.selectionMethodParam);
      for (const f of p.fields) {
        const header = fieldHeader(f.field, true)!;
        x.u32(header).uint(f.mask, header & 0xff);
      }
    });
  }
  w.setU16(start, w.length - start);
}

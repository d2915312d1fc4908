/**
 * The Nicira actions that learn, copy and choose, as OVS encodes them
 * (lib/ofp-actions.c: NXAST_LEARN and LEARN2, CLONE, SAMPLE/SAMPLE2/
 * SAMPLE3, MULTIPATH, BUNDLE and BUNDLE_LOAD, FIN_TIMEOUT,
 * CHECK_PKT_LARGER, RESUBMIT_TABLE_CT). Both OpenFlow 1.0 and 1.3 carry
 * them the same way; clone nests a list of the connection's version,
 * which the caller encodes and decodes.
 */
import {
  type FieldRange,
  type HashFields,
  LEARN_F_WRITE_RESULT,
  type LearnSpec,
  mfByName,
  type OfAction,
} from "../ofproto/mod.ts";
import { OfpError } from "./errors.ts";
import type { WireReader, WireWriter } from "./_buf.ts";
import { fieldHeader, fieldOfHeader } from "./nx_match.ts";
import { NX_VENDOR_ID } from "./types.ts";

const OFPAT_VENDOR = 0xffff;
const OFPP_IN_PORT = 0xfff8;
const OFPP_NONE = 0xffff;

const SUB = {
  MULTIPATH: 10,
  BUNDLE: 12,
  BUNDLE_LOAD: 13,
  LEARN: 16,
  FIN_TIMEOUT: 19,
  SAMPLE: 29,
  SAMPLE2: 38,
  OUTPUT_TRUNC: 39,
  SAMPLE3: 41,
  CLONE: 42,
  RESUBMIT_TABLE_CT: 44,
  LEARN2: 45,
  CHECK_PKT_LARGER: 49,
} as const;

const HASH_FIELDS: readonly HashFields[] = [
  "eth_src",
  "symmetric_l4",
  "symmetric_l3l4",
  "symmetric_l3l4+udp",
  "nw_src",
  "nw_dst",
  "symmetric_l3",
];
const MP_ALGS = ["modulo_n", "hash_threshold", "hrw", "iter_hash"] as const;
const BD_ALGS = ["active_backup", "hrw"] as const;
const DIRECTIONS = ["default", "ingress", "egress"] as const;

const LEARN_SRC_IMMEDIATE = 1 << 13;
const LEARN_DST_SHIFT = 11;
const LEARN_DSTS = ["match", "load", "output"] as const;

type PutList = (actions: readonly OfAction[]) => void;
type PullList = (r: WireReader, len: number) => OfAction[];

function headerOf(field: string): number {
  const h = fieldHeader(field, false);
  if (h === undefined) throw new Error(`${field}: no NXM header`);
  return h;
}

function fieldAt(header: number) {
  const f = fieldOfHeader(header);
  if (!f) throw new OfpError("OFPBAC_BAD_SET_TYPE");
  return f.mf;
}

function range(header: number, ofs: number, nBits: number): FieldRange {
  const fl = fieldAt(header);
  if (nBits < 1 || ofs + nBits > fl.nBits) throw new OfpError("OFPBAC_BAD_SET_ARGUMENT");
  return { field: fl.name, ofs, nBits };
}

const ofsNbits = (r: FieldRange): number => (r.ofs << 6) | (r.nBits - 1);

/** Writes an action whose length is only known at the end; pads it to 8 bytes. */
function framed(w: WireWriter, subtype: number, body: () => void): void {
  const start = w.length;
  w.u16(OFPAT_VENDOR).u16(0).u32(NX_VENDOR_ID).u16(subtype);
  body();
  while ((w.length - start) % 8) w.u8(0);
  w.setU16(start + 2, w.length - start);
}

function putLearn(w: WireWriter, a: OfAction & { type: "learn" }): void {
  const l = a.learn;
  const two = l.limit !== 0 || (l.flags & LEARN_F_WRITE_RESULT) !== 0;
  framed(w, two ? SUB.LEARN2 : SUB.LEARN, () => {
    w.u16(l.idleTimeout).u16(l.hardTimeout).u16(l.priority).u64(l.cookie);
    w.u16(l.flags).u8(l.tableId).u8(0).u16(l.finIdleTimeout).u16(l.finHardTimeout);
    if (two) {
      w.u32(l.limit).u16(l.resultDst?.ofs ?? 0).u16(0);
      if (l.resultDst) w.u32(headerOf(l.resultDst.field));
    }
    for (const s of l.specs) {
      const imm = "imm" in s.src;
      w.u16(
        s.nBits | (LEARN_DSTS.indexOf(s.dst) << LEARN_DST_SHIFT) | (imm ? LEARN_SRC_IMMEDIATE : 0),
      );
      if ("imm" in s.src) w.uint(s.src.imm, 2 * Math.ceil(s.nBits / 16));
      else w.u32(headerOf(s.src.field)).u16(s.src.ofs);
      if (s.dst !== "output") w.u32(headerOf(s.dstField!.field)).u16(s.dstField!.ofs);
    }
  });
}

function pullLearn(r: WireReader, two: boolean): OfAction {
  const idleTimeout = r.u16(), hardTimeout = r.u16(), priority = r.u16();
  const cookie = r.u64();
  const flags = r.u16(), tableId = r.u8();
  r.skip(1);
  const finIdleTimeout = r.u16(), finHardTimeout = r.u16();
  if (tableId === 0xff) throw new OfpError("OFPBAC_BAD_ARGUMENT");
  let limit = 0, resultDst: FieldRange | undefined;
  if (two) {
    limit = r.u32();
    const ofs = r.u16();
    r.skip(2);
    if (flags & LEARN_F_WRITE_RESULT) resultDst = range(r.u32(), ofs, 1);
  }
  const specs: LearnSpec[] = [];
  while (r.remaining >= 2) {
    const h = r.u16();
    if (h === 0) continue;
    const nBits = h & 0x7ff;
    const dst = LEARN_DSTS[(h >> LEARN_DST_SHIFT) & 3];
    if (!dst || h >> 14 || !nBits) throw new OfpError("OFPBAC_BAD_ARGUMENT");
    const src = h & LEARN_SRC_IMMEDIATE
      ? { imm: r.uint(2 * Math.ceil(nBits / 16)) }
      : range(r.u32(), r.u16(), nBits);
    const spec: LearnSpec = { src, dst, nBits };
    if (dst !== "output") spec.dstField = range(r.u32(), r.u16(), nBits);
    specs.push(spec);
  }
  return {
    type: "learn",
    learn: {
      tableId,
      priority,
      idleTimeout,
      hardTimeout,
      finIdleTimeout,
      finHardTimeout,
      cookie,
      flags,
      limit,
      resultDst,
      specs,
    },
  };
}

/** The encodings of this file's actions; false for any other action. */
export function putNxExt(w: WireWriter, a: OfAction, putList: PutList): boolean {
  switch (a.type) {
    case "learn":
      putLearn(w, a);
      return true;
    case "clone":
      framed(w, SUB.CLONE, () => {
        w.zeros(6);
        putList(a.actions);
      });
      return true;
    case "fin_timeout":
      framed(w, SUB.FIN_TIMEOUT, () => w.u16(a.idle).u16(a.hard).u16(0));
      return true;
    case "output_trunc":
      framed(w, SUB.OUTPUT_TRUNC, () => w.u16(a.port).u32(a.maxLen));
      return true;
    case "sample": {
      const sub = a.direction !== "default"
        ? SUB.SAMPLE3
        : a.samplingPort !== OFPP_NONE
        ? SUB.SAMPLE2
        : SUB.SAMPLE;
      framed(w, sub, () => {
        w.u16(a.probability).u32(a.collectorSetId).u32(a.obsDomainId).u32(a.obsPointId);
        if (sub !== SUB.SAMPLE) w.u16(a.samplingPort).u8(DIRECTIONS.indexOf(a.direction));
      });
      return true;
    }
    case "multipath":
      framed(w, SUB.MULTIPATH, () => {
        w.u16(HASH_FIELDS.indexOf(a.fields)).u16(a.basis).u16(0);
        w.u16(MP_ALGS.indexOf(a.algorithm)).u16(a.maxLink).u32(a.arg).u16(0);
        w.u16(ofsNbits(a.dst)).u32(headerOf(a.dst.field));
      });
      return true;
    case "bundle":
      framed(w, a.dst ? SUB.BUNDLE_LOAD : SUB.BUNDLE, () => {
        w.u16(BD_ALGS.indexOf(a.algorithm)).u16(HASH_FIELDS.indexOf(a.fields)).u16(a.basis);
        w.u32(headerOf("in_port")).u16(a.members.length);
        w.u16(a.dst ? ofsNbits(a.dst) : 0).u32(a.dst ? headerOf(a.dst.field) : 0).zeros(4);
        for (const m of a.members) w.u16(m);
      });
      return true;
    case "check_pkt_larger":
      framed(w, SUB.CHECK_PKT_LARGER, () => {
        w.u16(a.pktLen).u16(a.dst.ofs).u32(headerOf(a.dst.field)).zeros(6);
      });
      return true;
    case "resubmit":
      if (!a.ct) return false;
      framed(w, SUB.RESUBMIT_TABLE_CT, () => {
        w.u16(a.port ?? OFPP_IN_PORT).u8(a.table ?? 0xff).zeros(3);
      });
      return true;
  }
  return false;
}

function pick<T>(list: readonly T[], i: number): T {
  const v = list[i];
  if (v === undefined) throw new OfpError("OFPBAC_BAD_ARGUMENT");
  return v;
}

/**
 * Decodes one of this file's actions from `r` (just past the action's
 * type and length); undefined, with `r` untouched, for any other action.
 */
export function pullNxExt(r: WireReader, pullList: PullList): OfAction | undefined {
  const start = r.pos;
  if (r.remaining < 6 || r.u32() !== NX_VENDOR_ID) {
    r.pos = start;
    return undefined;
  }
  const sub = r.u16();
  switch (sub) {
    case SUB.LEARN:
    case SUB.LEARN2:
      return pullLearn(r, sub === SUB.LEARN2);
    case SUB.CLONE:
      r.skip(6);
      return { type: "clone", actions: pullList(r, r.remaining) };
    case SUB.FIN_TIMEOUT:
      return { type: "fin_timeout", idle: r.u16(), hard: r.u16() };
    case SUB.OUTPUT_TRUNC: {
      const port = r.u16(), maxLen = r.u32();
      // decode_NXAST_RAW_OUTPUT_TRUNC: shorter than an Ethernet header is refused.
      if (maxLen < 14) throw new OfpError("OFPBAC_BAD_ARGUMENT");
      return { type: "output_trunc", port, maxLen };
    }
    case SUB.SAMPLE:
    case SUB.SAMPLE2:
    case SUB.SAMPLE3: {
      const probability = r.u16();
      if (!probability) throw new OfpError("OFPBAC_BAD_ARGUMENT");
      const collectorSetId = r.u32(), obsDomainId = r.u32(), obsPointId = r.u32();
      const samplingPort = sub === SUB.SAMPLE ? OFPP_NONE : r.u16();
      const dir = sub === SUB.SAMPLE3 ? r.u8() : 0;
      return {
        type: "sample",
        probability,
        collectorSetId,
        obsDomainId,
        obsPointId,
        samplingPort,
        direction: pick(DIRECTIONS, dir),
      };
    }
    case SUB.MULTIPATH: {
      const fields = pick(HASH_FIELDS, r.u16()), basis = r.u16();
      r.skip(2);
      const algorithm = pick(MP_ALGS, r.u16()), maxLink = r.u16(), arg = r.u32();
      r.skip(2);
      const on = r.u16();
      const dst = range(r.u32(), on >> 6, (on & 0x3f) + 1);
      return { type: "multipath", fields, basis, algorithm, maxLink, arg, dst };
    }
    case SUB.BUNDLE:
    case SUB.BUNDLE_LOAD: {
      const algorithm = pick(BD_ALGS, r.u16()), fields = pick(HASH_FIELDS, r.u16());
      const basis = r.u16();
      if (r.u32() !== headerOf("in_port")) throw new OfpError("OFPBAC_BAD_ARGUMENT");
      const n = r.u16(), on = r.u16(), dstHeader = r.u32();
      r.skip(4);
      const members: number[] = [];
      for (let i = 0; i < n; i++) members.push(r.u16());
      const a: OfAction & { type: "bundle" } = {
        type: "bundle",
        fields,
        basis,
        algorithm,
        members,
      };
      if (sub === SUB.BUNDLE_LOAD) a.dst = range(dstHeader, on >> 6, (on & 0x3f) + 1);
      return a;
    }
    case SUB.CHECK_PKT_LARGER: {
      const pktLen = r.u16(), ofs = r.u16();
      const dst = range(r.u32(), ofs, 1);
      if (!mfByName(dst.field)!.writable) throw new OfpError("OFPBAC_BAD_SET_ARGUMENT");
      return { type: "check_pkt_larger", pktLen, dst };
    }
    case SUB.RESUBMIT_TABLE_CT: {
      const port = r.u16(), table = r.u8();
      const a: OfAction & { type: "resubmit" } = { type: "resubmit", ct: true };
      if (port !== OFPP_IN_PORT) a.port = port;
      if (table !== 0xff) a.table = table;
      return a;
    }
  }
  r.pos = start;
  return undefined;
}

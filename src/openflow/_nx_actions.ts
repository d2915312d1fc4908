/**
 * Nicira extension actions (vendor 0x00002320) as OVS encodes them
 * (lib/ofp-actions.c, NXAST_*): resubmit, set/pop queue, register move
 * and load, note, dec_ttl, controller with reason and id, write_metadata.
 * Both OpenFlow 1.0 and 1.3 carry them the same way.
 */
import type { OfAction } from "../ofproto/mod.ts";
import { OfpError } from "./errors.ts";
import type { WireReader, WireWriter } from "./_buf.ts";
import { fieldHeader, fieldOfHeader } from "./nx_match.ts";
import { NX_VENDOR_ID } from "./types.ts";
import {
  NXAST_CT,
  NXAST_CT_CLEAR,
  NXAST_NAT,
  pullCt,
  pullNat,
  putCt,
  putNat,
} from "./_ct_actions.ts";

/** Decodes or encodes a nested action list in the connection's version (ct's exec). */
export type PullNested = (r: WireReader, len: number) => OfAction[];
export type PutNested = (w: WireWriter, actions: readonly OfAction[]) => void;

export const OFPAT_VENDOR = 0xffff;
export const OFPP_IN_PORT = 0xfff8;

/** Nicira action subtypes. */
export const NXAST = {
  RESUBMIT: 1,
  SET_QUEUE: 4,
  POP_QUEUE: 5,
  REG_MOVE: 6,
  REG_LOAD: 7,
  NOTE: 8,
  RESUBMIT_TABLE: 14,
  DEC_TTL: 18,
  CONTROLLER: 20,
  WRITE_METADATA: 22,
  GROUP: 40,
} as const;

export const REASONS = ["no_match", "action", "invalid_ttl", "action_set", "group", "packet_out"];

const inPortOrUndefined = (p: number) => (p === OFPP_IN_PORT ? undefined : p);

export function fieldOf(header: number) {
  const f = fieldOfHeader(header);
  if (!f) throw new OfpError("OFPBAC_BAD_SET_TYPE");
  return f;
}

/** One Nicira action; `r` is past the vendor id, at the subtype. */
function pullNx(r: WireReader, nested?: PullNested): OfAction {
  const subtype = r.u16();
  switch (subtype) {
    case NXAST.RESUBMIT: {
      const port = r.u16();
      return { type: "resubmit", port: inPortOrUndefined(port) };
    }
    case NXAST.RESUBMIT_TABLE: {
      const port = r.u16();
      const table = r.u8();
      return {
        type: "resubmit",
        port: inPortOrUndefined(port),
        table: table === 0xff ? undefined : table,
      };
    }
    case NXAST.SET_QUEUE:
      r.skip(2);
      return { type: "set_queue", queue: r.u32() };
    case NXAST.POP_QUEUE:
      return { type: "pop_queue" };
    case NXAST.REG_MOVE: {
      const nBits = r.u16();
      const srcOfs = r.u16();
      const dstOfs = r.u16();
      const src = fieldOf(r.u32()).mf;
      const dst = fieldOf(r.u32()).mf;
      if (!nBits || srcOfs + nBits > src.nBits || dstOfs + nBits > dst.nBits) {
        throw new OfpError("OFPBAC_BAD_SET_ARGUMENT");
      }
      return {
        type: "move",
        src: { field: src.name, ofs: srcOfs, nBits },
        dst: { field: dst.name, ofs: dstOfs, nBits },
      };
    }
    case NXAST.REG_LOAD: {
      const ofsNbits = r.u16();
      const dst = fieldOf(r.u32()).mf;
      const value = r.u64();
      const ofs = ofsNbits >> 6;
      const nBits = (ofsNbits & 0x3f) + 1;
      if (ofs + nBits > dst.nBits || (nBits < 64 && value >> BigInt(nBits))) {
        throw new OfpError("OFPBAC_BAD_SET_ARGUMENT");
      }
      return { type: "load", dst: { field: dst.name, ofs, nBits }, value };
    }
    case NXAST.NOTE:
      return { type: "note", bytes: r.bytesOf(r.remaining).slice() };
    case NXAST.DEC_TTL:
      return { type: "dec_ttl" };
    case NXAST.GROUP:
      r.skip(2);
      return { type: "group", groupId: r.u32() };
    case NXAST.CONTROLLER: {
      const maxLen = r.u16();
      const id = r.u16();
      const reason = REASONS[r.u8()];
      if (reason === undefined) throw new OfpError("OFPBAC_BAD_ARGUMENT");
      const a: OfAction & { type: "controller" } = { type: "controller", maxLen };
      if (reason !== "action") a.reason = reason;
      if (id) a.id = id;
      return a;
    }
    case NXAST.WRITE_METADATA: {
      r.skip(6);
      return { type: "write_metadata", value: r.u64(), mask: r.u64() };
    }
    case NXAST_CT:
      if (!nested) break;
      return pullCt(r, nested);
    case NXAST_NAT:
      return pullNat(r);
    case NXAST_CT_CLEAR:
      return { type: "ct_clear" };
  }
  throw new OfpError("OFPBAC_BAD_VENDOR_TYPE");
}

export function pullVendor(r: WireReader, nested?: PullNested): OfAction {
  if (r.u32() !== NX_VENDOR_ID) throw new OfpError("OFPBAC_BAD_VENDOR");
  return pullNx(r, nested);
}

export function vendorHeader(w: WireWriter, len: number, subtype: number): void {
  w.u16(OFPAT_VENDOR).u16(len).u32(NX_VENDOR_ID).u16(subtype);
}

function headerOf(field: string): number {
  const h = fieldHeader(field, false);
  if (h === undefined) throw new Error(`${field}: no NXM header`);
  return h;
}

/** Nicira encodings both versions share; false when `a` has none. */
export function putNx(w: WireWriter, a: OfAction, nested?: PutNested): boolean {
  switch (a.type) {
    case "resubmit":
      if (a.table === undefined) {
        vendorHeader(w, 16, NXAST.RESUBMIT);
        w.u16(a.port ?? OFPP_IN_PORT).zeros(4);
      } else {
        vendorHeader(w, 16, NXAST.RESUBMIT_TABLE);
        w.u16(a.port ?? OFPP_IN_PORT).u8(a.table).zeros(3);
      }
      return true;
    case "pop_queue":
      vendorHeader(w, 16, NXAST.POP_QUEUE);
      w.zeros(6);
      return true;
    case "move":
      vendorHeader(w, 24, NXAST.REG_MOVE);
      w.u16(a.src.nBits).u16(a.src.ofs).u16(a.dst.ofs);
      w.u32(headerOf(a.src.field)).u32(headerOf(a.dst.field));
      return true;
    case "load":
      vendorHeader(w, 24, NXAST.REG_LOAD);
      w.u16((a.dst.ofs << 6) | (a.dst.nBits - 1)).u32(headerOf(a.dst.field)).u64(a.value);
      return true;
    case "note":
      vendorHeader(w, 10 + a.bytes.length, NXAST.NOTE);
      w.bytes(a.bytes);
      return true;
    case "controller":
      vendorHeader(w, 16, NXAST.CONTROLLER);
      w.u16(a.maxLen).u16(a.id ?? 0).u8(REASONS.indexOf(a.reason ?? "action")).u8(0);
      return true;
    case "group":
      vendorHeader(w, 16, NXAST.GROUP);
      w.zeros(2).u32(a.groupId);
      return true;
    case "write_metadata":
      vendorHeader(w, 32, NXAST.WRITE_METADATA);
      w.zeros(6).u64(a.value).u64(a.mask);
      return true;
    case "ct":
      if (!nested) return false;
      putCt(w, a, vendorHeader, nested);
      return true;
    case "nat":
      putNat(w, a, vendorHeader);
      return true;
    case "ct_clear":
      vendorHeader(w, 16, NXAST_CT_CLEAR);
      w.zeros(6);
      return true;
  }
  return false;
}

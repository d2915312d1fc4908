/**
 * Translation of the actions that choose or copy (ofproto-dpif-xlate.c):
 * multipath (multipath_execute), bundle and bundle_load
 * (xlate_bundle_action over lib/bundle.c's bundle_execute), sample
 * (xlate_sample_action: nothing without an IPFIX exporter, which udpif has
 * not) and fin_timeout (xlate_fin_timeout). clone is in clone.ts.
 */
import { type FieldRange, mfByName, mfSetMasked, type OfAction } from "../ofproto/mod.ts";
import { hash2Words } from "../lib/mod.ts";
import type { XlateCtx } from "./context.ts";
import { flowHashFields, flowMaskHashFields } from "./flow_hash.ts";

const OFPP_IN_PORT = 0xfff8;
const OFPP_TABLE = 0xfff9;
const OFPP_NORMAL = 0xfffa;
const OFPP_FLOOD = 0xfffb;
const OFPP_ALL = 0xfffc;
const OFPP_NONE = 0xffff;

const ones = (n: number): bigint => (1n << BigInt(n)) - 1n;

/** nxm_reg_load: `value` into `dst`, whose bits the megaflow then matches. */
export function regLoad(ctx: XlateCtx, dst: FieldRange, value: number | bigint): void {
  const fl = mfByName(dst.field)!;
  const m = ones(dst.nBits) << BigInt(dst.ofs);
  mfSetMasked(fl, ctx.wc, m, m);
  mfSetMasked(fl, ctx.flow, (BigInt(value) & ones(dst.nBits)) << BigInt(dst.ofs), m);
}

/** xlate_report_subfield: "NXM_NX_REG0[0..3] is now 0x5". */
export function reportSubfield(ctx: XlateCtx, dst: FieldRange, value: number | bigint): void {
  if (!ctx.trace) return;
  const fl = mfByName(dst.field)!;
  const whole = dst.ofs === 0 && dst.nBits === fl.nBits;
  const name = whole
    ? `${fl.nxm}[]`
    : dst.nBits === 1
    ? `${fl.nxm}[${dst.ofs}]`
    : `${fl.nxm}[${dst.ofs}..${dst.ofs + dst.nBits - 1}]`;
  const v = BigInt(value) & ones(dst.nBits);
  ctx.report("detail", `${name} is now ${v ? `0x${v.toString(16)}` : "0"}`);
}

function hrw(hash: number, nLinks: number): number {
  let best = 0, bestWeight = hash2Words(hash, 0);
  for (let link = 1; link < nLinks; link++) {
    const w = hash2Words(hash, link);
    if (w > bestWeight) best = link, bestWeight = w;
  }
  return best;
}

function iterHash(hash: number, nLinks: number, modulo: number): number {
  if (modulo < nLinks || modulo / 2 > nLinks) {
    modulo = 1;
    while (modulo < nLinks) modulo *= 2;
  }
  let i = 0, link: number;
  do link = hash2Words(hash, i++) % modulo; while (link >= nLinks);
  return link;
}

/** multipath_algorithm. */
export function multipathLink(
  hash: number,
  algorithm: (OfAction & { type: "multipath" })["algorithm"],
  nLinks: number,
  arg: number,
): number {
  switch (algorithm) {
    case "modulo_n":
      return hash % nLinks;
    case "hash_threshold":
      return nLinks === 1 ? 0 : Math.floor(hash / (Math.floor(0xffffffff / nLinks) + 1));
    case "hrw":
      return nLinks <= 64 ? hrw(hash, nLinks) : iterHash(hash, nLinks, 0);
    case "iter_hash":
      return iterHash(hash, nLinks, arg);
  }
}

/** multipath_execute. */
export function xlateMultipath(ctx: XlateCtx, a: OfAction & { type: "multipath" }): void {
  const hash = flowHashFields(ctx.f, a.fields, a.basis);
  const link = multipathLink(hash, a.algorithm, a.maxLink + 1, a.arg);
  flowMaskHashFields(ctx.f, ctx.w, a.fields);
  regLoad(ctx, a.dst, link);
}

/** member_enabled_cb: reserved ports count as live, CONTROLLER never, a port if it may forward. */
function memberEnabled(ctx: XlateCtx, ofport: number): boolean {
  switch (ofport) {
    case OFPP_IN_PORT:
    case OFPP_TABLE:
    case OFPP_NORMAL:
    case OFPP_FLOOD:
    case OFPP_ALL:
    case OFPP_NONE:
      return true;
    case 0xfffd:
      return false;
  }
  const p = ctx.xin.bridge.port(ofport);
  return p !== undefined && !p.noForward && !p.linkDown;
}

/** bundle_execute: the chosen member, or OFPP_NONE when none is live. */
export function bundleMember(ctx: XlateCtx, a: OfAction & { type: "bundle" }): number {
  if (a.algorithm === "active_backup") {
    return a.members.find((m) => memberEnabled(ctx, m)) ?? OFPP_NONE;
  }
  if (a.members.length > 1) flowMaskHashFields(ctx.f, ctx.w, a.fields);
  const flowHash = flowHashFields(ctx.f, a.fields, a.basis);
  let best = -1, bestHash = 0;
  a.members.forEach((m, i) => {
    if (!memberEnabled(ctx, m)) return;
    const h = hash2Words(i, flowHash);
    if (best < 0 || h > bestHash) best = i, bestHash = h;
  });
  return best >= 0 ? a.members[best] : OFPP_NONE;
}

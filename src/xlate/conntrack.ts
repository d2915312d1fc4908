/**
 * ct(), nat and ct_clear in translation (ofproto-dpif-xlate.c:
 * compose_conntrack_action, put_ct_mark, put_ct_label, put_ct_helper,
 * put_ct_nat, compose_ct_clear_action). ct() commits pending header
 * changes, runs its nested actions (nat, and the writes of ct_mark and
 * ct_label whose wildcard bits become the datapath action's mark and
 * label masks), emits the datapath `ct(...)`, and with table= forks a
 * recirculation that resumes there while this pass goes on untracked.
 */
import {
  bytesOf,
  F,
  getUint,
  newCtAction,
  newCtNat,
  type OdpCtAction,
  type OdpCtNat,
  setUint,
} from "../flow/mod.ts";
import {
  CT_RECIRC_NONE,
  type CtAction,
  mfByName,
  mfGet,
  mfSetMasked,
  type NatAction,
  NX_NAT_F_DST,
  NX_NAT_F_PERSISTENT,
  NX_NAT_F_PROTO_HASH,
  NX_NAT_F_PROTO_RANDOM,
  NX_NAT_F_SRC,
} from "../ofproto/mod.ts";
import type { XlateCtx } from "./context.ts";
import { doXlateActions } from "./actions.ts";
import { allocRecircId, clearConntrack, clearConntrackFields, frozenStateOf } from "./freeze.ts";
import { commitActions } from "./output.ts";

const IPPORT_FTP = 21;
const savedLabelMask = new Uint8Array(16);
const IPPORT_TFTP = 69;

function putAddr(out: Uint8Array, v: bigint, len: number): void {
  for (let i = len - 1; i >= 0; i--, v >>= 8n) out[i] = Number(v & 0xffn);
}

/** put_ct_nat: the datapath nat(...) of an OpenFlow nat. */
function odpNat(n: NatAction): OdpCtNat {
  const nat = newCtNat();
  if (!(n.flags & (NX_NAT_F_SRC | NX_NAT_F_DST))) return nat;
  nat.kind = n.flags & NX_NAT_F_SRC ? "src" : "dst";
  nat.persistent = (n.flags & NX_NAT_F_PERSISTENT) !== 0;
  nat.hash = (n.flags & NX_NAT_F_PROTO_HASH) !== 0;
  nat.random = !nat.hash && (n.flags & NX_NAT_F_PROTO_RANDOM) !== 0;
  if (n.af) {
    const len = n.af === 4 ? 4 : 16;
    nat.addrLen = len;
    putAddr(nat.addrMin, n.addrMin, len);
    if (n.addrMax > n.addrMin) putAddr(nat.addrMax, n.addrMax, len);
    if (n.protoMin) {
      nat.protoMin = n.protoMin;
      if (n.protoMax > n.protoMin) nat.protoMax = n.protoMax;
    }
  }
  return nat;
}

/** The datapath ct action: flags, zone, the mark and label the nested actions set. */
function odpCt(ctx: XlateCtx, a: CtAction, zone: number): OdpCtAction {
  const ct = newCtAction();
  ct.commit = a.commit && !a.force;
  ct.forceCommit = a.commit && a.force;
  ct.zone = zone;
  const f = ctx.f, w = ctx.w;
  const markMask = getUint(w, F.ct_mark.off, 4);
  if (markMask) {
    ct.mark = (getUint(f, F.ct_mark.off, 4) & markMask) >>> 0;
    ct.markMask = markMask;
  }
  const lo = F.ct_label.off;
  let labelMasked = false;
  for (let i = 0; i < 16 && !labelMasked; i++) labelMasked = w[lo + i] !== 0;
  if (labelMasked) {
    const label = new Uint8Array(32);
    for (let i = 0; i < 16; i++) {
      label[i] = f[lo + i] & w[lo + i];
      label[16 + i] = w[lo + i];
    }
    ct.label = label;
  }
  if (a.alg === IPPORT_FTP) ct.helper = "ftp";
  else if (a.alg === IPPORT_TFTP) ct.helper = "tftp";
  else if (a.alg) ctx.report("error", `cannot serialize ct_helper ${a.alg}`);
  if (ctx.ctNat) ct.nat = odpNat(ctx.ctNat);
  return ct;
}

/** The zone: immediate, or read from a field whose bits the megaflow then matches. */
function ctZone(ctx: XlateCtx, a: CtAction): number {
  if (typeof a.zone === "number") return a.zone;
  const fl = mfByName(a.zone.field);
  if (!fl) return 0;
  const bits = ((1n << BigInt(a.zone.nBits)) - 1n) << BigInt(a.zone.ofs);
  mfSetMasked(fl, ctx.wc, bits, bits);
  return Number((mfGet(fl, ctx.flow) & bits) >> BigInt(a.zone.ofs));
}

/** compose_conntrack_action. */
export function composeConntrack(ctx: XlateCtx, a: CtAction): void {
  const zone = ctZone(ctx, a);
  const w = ctx.w;
  // ct() never nests, so one saved copy of the two masks is enough.
  const oldMark = getUint(w, F.ct_mark.off, 4);
  savedLabelMask.set(w.subarray(F.ct_label.off, F.ct_label.off + 16));
  commitActions(ctx);
  // The nested actions write the key the datapath action carries.
  ctx.ctNat = null;
  w.fill(0, F.ct_mark.off, F.ct_mark.off + 4);
  w.fill(0, F.ct_label.off, F.ct_label.off + 16);
  doXlateActions(ctx, a.actions);
  ctx.actions.push(odpCt(ctx, a, zone));
  setUint(w, F.ct_mark.off, 4, oldMark);
  w.set(savedLabelMask, F.ct_label.off);
  if (a.table !== CT_RECIRC_NONE) {
    ctx.conntracked = true;
    forkRecirculation(ctx, a.table, zone);
  }
  ctx.ctNat = null;
  // The ct_* fields exist only in the recirculated pass.
  clearConntrackFields(ctx.f);
  ctx.report(
    "detail",
    "Sets the packet to an untracked state, and clears all the conntrack fields.",
  );
  ctx.conntracked = false;
}

/** compose_recirculate_and_fork, and the trace's note of the fork. */
function forkRecirculation(ctx: XlateCtx, table: number, zone: number): void {
  const state = frozenStateOf(ctx, table);
  const id = allocRecircId(ctx, state);
  if (!id) return;
  ctx.actions.push({ type: "recirc", id });
  if (!ctx.trace) return;
  // The tracer follows the fork later and holds the id until then.
  ctx.xin.recircIds.idFor(state);
  const flow = ctx.flow.slice();
  const f = bytesOf(flow);
  setUint(f, F.recirc_id.off, 4, id);
  setUint(f, F.ct_zone.off, 2, zone);
  ctx.traceRecircs.push({ id, flow, nat: ctx.ctNat });
  ctx.report(
    "detail",
    "A clone of the packet is forked to recirculate. The forked pipeline will be resumed at " +
      `table ${table}.`,
  );
}

/** ct_clear: only a conntracked packet has anything to clear. */
export function composeCtClear(ctx: XlateCtx): void {
  if (!ctx.conntracked) return;
  clearConntrack(ctx);
  ctx.actions.push({ type: "ct_clear" });
}

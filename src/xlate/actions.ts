/**
 * The OpenFlow action loop (do_xlate_actions): each action rewrites the
 * flow, emits datapath actions, or descends into another table, and sets
 * in the wildcards every bit its outcome depended on, exactly where OVS
 * does (rewrites of IP fields also look at nw_proto, for example).
 */
import {
  F,
  getUint,
  keyUint,
  setUint,
  VLAN_CFI,
  VLAN_PCP_MASK,
  VLAN_PCP_SHIFT,
  VLAN_VID_MASK,
} from "../flow/mod.ts";
import {
  type FieldRange,
  formatFieldValue,
  mfByName,
  type MfField,
  mfGet,
  mfSetMasked,
  type OfAction,
  OFPP_CONTROLLER,
  OFPP_IN_PORT,
} from "../ofproto/mod.ts";
import { OFPR_ACTION, OFPR_INVALID_TTL, type XlateCtx } from "./context.ts";
import {
  isIpAny,
  maskField,
  popVlan,
  prereqsOk,
  pushVlanUninit,
  setMaskL3Prereqs,
} from "./flow_ops.ts";
import {
  composeOutput,
  inPort,
  xlateController,
  xlateOutputAction,
  xlateOutputTrunc,
} from "./output.ts";
import { xlateTable } from "./table.ts";
import { xlateGroupAction } from "./group.ts";
import { composeConntrack, composeCtClear } from "./conntrack.ts";
import { bundleMember, regLoad, reportSubfield, xlateMultipath } from "./ext_actions.ts";
import { xlateFinTimeout, xlateLearn } from "./learn.ts";
import { xlateCheckPktLarger } from "./check_pkt_len.ts";
import { xlateClone } from "./clone.ts";

const ETH_TYPE_IP = 0x0800;
const IP_DSCP_MASK = 0xfc;
const IP_ECN_MASK = 0x03;

const REASONS: Record<string, number> = {
  no_match: 0,
  action: OFPR_ACTION,
  invalid_ttl: OFPR_INVALID_TTL,
  action_set: 3,
  group: 4,
  packet_out: 5,
};

function field(name: string): MfField {
  const fl = mfByName(name);
  if (!fl) throw new Error(`${name}: unknown field`);
  return fl;
}

const ones = (n: number): bigint => (1n << BigInt(n)) - 1n;

/**
 * mf_set_flow_value's VLAN rules: OpenFlow 1.0 VLAN fields imply a header
 * (CFI), and a VLAN header written without a TPID gets 802.1Q's.
 */
export function fixVlanPresence(f: Uint8Array, fl: MfField): void {
  if (fl.off !== F.vlan0_tci.off) return;
  const off = F.vlan0_tci.off;
  if (fl.name === "dl_vlan" || fl.name === "dl_vlan_pcp" || fl.name === "vlan_pcp") {
    setUint(f, off, 2, getUint(f, off, 2) | VLAN_CFI);
  }
  if (!getUint(f, F.vlan0_tpid.off, 2) && getUint(f, off, 2)) {
    setUint(f, F.vlan0_tpid.off, 2, 0x8100);
  }
}

/**
 * The bits of a field a write can change: NXM_OF_IP_TOS (OVS's MFF_IP_DSCP)
 * is a whole byte whose ECN bits belong to another field.
 */
const writableBits = (fl: MfField): bigint => fl.name === "nw_tos" ? 0xfcn : ones(fl.nBits);

/** set_field and load (OVS's OFPACT_SET_FIELD, masked or not). */
function setField(ctx: XlateCtx, fl: MfField, value: bigint, mask: bigint): void {
  mask &= writableBits(fl);
  if (!prereqsOk(ctx, fl)) {
    ctx.report("warn", `unmet prerequisites for ${fl.name}, set_field ignored`);
    return;
  }
  setMaskL3Prereqs(ctx, fl);
  mfSetMasked(fl, ctx.wc, mask, mask);
  mfSetMasked(fl, ctx.flow, value, mask);
  fixVlanPresence(ctx.f, fl);
}

function formatSubfield(fl: MfField, r: FieldRange): string {
  if (r.ofs === 0 && r.nBits >= fl.nBits) return `${fl.nxm}[]`;
  if (r.nBits === 1) return `${fl.nxm}[${r.ofs}]`;
  return `${fl.nxm}[${r.ofs}..${r.ofs + r.nBits - 1}]`;
}

/** move:SRC->DST (mf_subfield_copy) and its "is now" trace line. */
function move(ctx: XlateCtx, src: FieldRange, dst: FieldRange): void {
  const sf = field(src.field), df = field(dst.field);
  if (prereqsOk(ctx, df) && prereqsOk(ctx, sf)) {
    const n = Math.min(src.nBits, dst.nBits);
    mfSetMasked(sf, ctx.wc, ones(n) << BigInt(src.ofs), ones(n) << BigInt(src.ofs));
    mfSetMasked(df, ctx.wc, ones(n) << BigInt(dst.ofs), ones(n) << BigInt(dst.ofs));
    const v = (mfGet(sf, ctx.flow) >> BigInt(src.ofs)) & ones(n);
    mfSetMasked(df, ctx.flow, v << BigInt(dst.ofs), ones(n) << BigInt(dst.ofs));
    fixVlanPresence(ctx.f, df);
  }
  if (ctx.trace) {
    let text = `${formatSubfield(df, dst)} is now `;
    const whole = dst.ofs === 0 && dst.nBits >= df.nBits;
    const v = (mfGet(df, ctx.flow) >> BigInt(dst.ofs)) & ones(dst.nBits);
    // Hex values print as ds_put_hex does: "0" for zero.
    text += whole && df.format !== "hex"
      ? formatFieldValue(df, v)
      : v
      ? `0x${v.toString(16)}`
      : "0";
    ctx.report("detail", text);
  }
}

/** The OpenFlow 1.0 "mod_*" rewrites, with OVS's guards and wildcards. */
function mod(ctx: XlateCtx, name: string, value: bigint): void {
  const f = ctx.f, w = ctx.w;
  const v = Number(value);
  const dlType = getUint(f, F.dl_type.off, 2);
  const l4Ok = isIpAny(f) && !(f[F.nw_frag.off] & 2);
  switch (name) {
    case "mod_dl_src":
    case "mod_dl_dst": {
      const span = name === "mod_dl_src" ? F.dl_src : F.dl_dst;
      w.fill(0xff, span.off, span.off + 6);
      for (let i = 0; i < 6; i++) f[span.off + i] = Number((value >> BigInt(40 - 8 * i)) & 0xffn);
      return;
    }
    case "mod_nw_src":
    case "mod_nw_dst": {
      if (dlType !== ETH_TYPE_IP) return;
      const span = name === "mod_nw_src" ? F.nw_src : F.nw_dst;
      w.fill(0xff, span.off, span.off + 4);
      w[F.nw_proto.off] = 0xff;
      setUint(f, span.off, 4, v >>> 0);
      return;
    }
    case "mod_nw_tos":
    case "mod_nw_ecn": {
      if (!isIpAny(f)) return;
      const m = name === "mod_nw_tos" ? IP_DSCP_MASK : IP_ECN_MASK;
      w[F.nw_proto.off] = 0xff;
      w[F.nw_tos.off] |= m;
      f[F.nw_tos.off] = (f[F.nw_tos.off] & ~m) | (v & m);
      return;
    }
    case "mod_nw_ttl":
      if (!isIpAny(f)) return;
      w[F.nw_proto.off] = 0xff;
      w[F.nw_ttl.off] = 0xff;
      f[F.nw_ttl.off] = v;
      return;
    case "mod_tp_src":
    case "mod_tp_dst": {
      if (!l4Ok) return;
      const span = name === "mod_tp_src" ? F.tp_src : F.tp_dst;
      w[F.nw_proto.off] = 0xff;
      w.fill(0xff, span.off, span.off + 2);
      setUint(f, span.off, 2, v);
      return;
    }
    case "mod_vlan_vid":
    case "mod_vlan_pcp": {
      const vid = name === "mod_vlan_vid";
      const off = F.vlan0_tci.off;
      const m = vid ? VLAN_VID_MASK : VLAN_PCP_MASK;
      setUint(w, off, 2, getUint(w, off, 2) | m | VLAN_CFI);
      // OpenFlow 1.0 semantics: push a header if there is none.
      if (!getUint(f, F.vlan0_tpid.off, 2)) setUint(f, F.vlan0_tpid.off, 2, 0x8100);
      const bits = vid ? v & VLAN_VID_MASK : (v << VLAN_PCP_SHIFT) & VLAN_PCP_MASK;
      setUint(f, off, 2, (getUint(f, off, 2) & ~m) | bits | VLAN_CFI);
      return;
    }
    default:
      ctx.report("error", `${name}: unsupported action`);
  }
}

/** dec_ttl: at TTL 1 or 0, a controller packet-in and the end of this table. */
function decTtl(ctx: XlateCtx): boolean {
  const f = ctx.f;
  ctx.w[F.nw_ttl.off] = 0xff;
  ctx.w[F.nw_proto.off] = 0xff;
  if (!isIpAny(f)) return false;
  if (f[F.nw_ttl.off] > 1) {
    f[F.nw_ttl.off]--;
    return false;
  }
  xlateController(ctx, 0xffff, OFPR_INVALID_TTL, 0);
  const v = getUint(f, F.dl_type.off, 2) === ETH_TYPE_IP ? 4 : 6;
  ctx.report("warn", `IPv${v} decrement TTL exception`);
  return true;
}

function enqueue(ctx: XlateCtx, port: number, queue: number, isLast: boolean): void {
  maskField(ctx.w, F.skb_priority);
  let out = port;
  if (out === OFPP_IN_PORT) out = inPort(ctx);
  else if (out === inPort(ctx)) return;
  // The userspace datapath maps queue N to skb_priority N.
  const old = getUint(ctx.f, F.skb_priority.off, 4);
  setUint(ctx.f, F.skb_priority.off, 4, queue);
  composeOutput(ctx, out, isLast);
  setUint(ctx.f, F.skb_priority.off, 4, old);
}

/**
 * Translates `actions` in order; stops at an error or an exit. `isLast`:
 * nothing follows these actions (OVS's is_last_action), so their own
 * last action may work on the packet itself (clone.ts, patch.ts).
 */
export function doXlateActions(
  ctx: XlateCtx,
  actions: readonly OfAction[],
  isLast = true,
): void {
  if (!actions.length) {
    ctx.report("action", "drop");
    return;
  }
  for (let i = 0; i < actions.length; i++) {
    const a = actions[i];
    const last = isLast && i === actions.length - 1;
    if (ctx.error || ctx.exit) break;
    if (ctx.trace) ctx.report("action", ctx.xin.formatAction?.(a) ?? a.type);
    switch (a.type) {
      case "output":
        // output:CONTROLLER sends whole packets unless told otherwise.
        xlateOutputAction(
          ctx,
          a.port,
          a.maxLen ?? (a.port === OFPP_CONTROLLER ? 0xffff : 0),
          last,
        );
        break;
      case "output_trunc":
        xlateOutputTrunc(ctx, a.port, a.maxLen, last);
        break;
      case "controller":
        xlateController(ctx, a.maxLen, REASONS[a.reason ?? "action"] ?? OFPR_ACTION, a.id ?? 0);
        break;
      case "enqueue":
        enqueue(ctx, a.port, a.queue, last);
        break;
      case "set_queue":
        // xlate_set_queue_action: the userspace datapath's priority is the queue.
        setUint(ctx.f, F.skb_priority.off, 4, a.queue);
        break;
      case "pop_queue":
        maskField(ctx.w, F.skb_priority);
        setUint(
          ctx.f,
          F.skb_priority.off,
          4,
          keyUint(ctx.xin.flow, F.skb_priority.off, 4),
        );
        break;
      case "mod":
        mod(ctx, a.name, a.value);
        break;
      case "strip_vlan":
      case "pop_vlan":
        popVlan(ctx);
        break;
      case "push_vlan":
        pushVlanUninit(ctx);
        setUint(ctx.f, F.vlan0_tpid.off, 2, a.ethertype);
        setUint(ctx.f, F.vlan0_tci.off, 2, VLAN_CFI);
        break;
      case "set_field": {
        const fl = field(a.field);
        setField(ctx, fl, a.value, a.mask ?? ones(fl.nBits));
        break;
      }
      case "load": {
        const fl = field(a.dst.field);
        const sh = BigInt(a.dst.ofs);
        setField(ctx, fl, a.value << sh, ones(a.dst.nBits) << sh);
        break;
      }
      case "move":
        move(ctx, a.src, a.dst);
        break;
      case "dec_ttl":
        if (decTtl(ctx)) return;
        break;
      case "resubmit": {
        let port = a.port ?? OFPP_IN_PORT;
        if (port === OFPP_IN_PORT) port = inPort(ctx);
        xlateTable(ctx, port, a.table ?? ctx.tableId, false, a.ct === true, last);
        break;
      }
      case "goto_table":
        xlateTable(ctx, inPort(ctx), a.table, true, false, last);
        break;
      case "write_metadata": {
        const off = F.metadata.off;
        const md = (BigInt(getUint(ctx.f, off, 4)) << 32n) | BigInt(getUint(ctx.f, off + 4, 4));
        const nmd = (md & ~a.mask) | (a.value & a.mask);
        setUint(ctx.f, off, 4, Number(nmd >> 32n));
        setUint(ctx.f, off + 4, 4, Number(nmd & 0xffffffffn));
        break;
      }
      case "note":
      case "sample":
        // sample: only an IPFIX exporter gives it meaning, and udpif has none.
        break;
      case "group":
        if (xlateGroupAction(ctx, a, last)) return;
        break;
      case "ct":
        composeConntrack(ctx, a);
        break;
      case "nat":
        // compose_conntrack_action reads it.
        ctx.ctNat = a;
        break;
      case "ct_clear":
        composeCtClear(ctx);
        break;
      case "learn":
        xlateLearn(ctx, a.learn);
        break;
      case "fin_timeout":
        xlateFinTimeout(ctx, a.idle, a.hard);
        break;
      case "clone":
        xlateClone(ctx, a.actions, last);
        break;
      case "multipath":
        xlateMultipath(ctx, a);
        break;
      case "bundle": {
        const port = bundleMember(ctx, a);
        if (a.dst) {
          regLoad(ctx, a.dst, port);
          reportSubfield(ctx, a.dst, port);
        } else xlateOutputAction(ctx, port, 0, last);
        break;
      }
      case "check_pkt_larger":
        // The rest of the actions run in both branches of the datapath action.
        xlateCheckPktLarger(ctx, a, actions.slice(i + 1));
        return;
    }
  }
}

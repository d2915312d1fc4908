/**
 * xlate: one translation, start to finish (xlate_actions). It sets the
 * fields every megaflow matches on (recirc_id, in_port, packet_type,
 * dl_type, and nw_frag for IP), looks table 0 up, runs the rule's actions,
 * and finishes the wildcards the way OVS does before they become a mask:
 * registers and metadata never reach the datapath, ICMP type/code are
 * 8-bit, a later fragment has no L4 ports, and VLAN headers the packet did
 * not have are not matched.
 */
import {
  bytesOf,
  CS_TRACKED,
  F,
  type FlowKey,
  FRAG_LATER,
  FRAG_MASK,
  getUint,
  keyUint,
  VLAN_CFI,
  VLAN_VID_MASK,
  vlanOffset,
} from "../flow/mod.ts";
import { coverageCounter } from "../lib/mod.ts";
import { newOutput, XlateCtx, type XlateInput, type XlateOutput } from "./context.ts";
import { isIpAny, maskField } from "./flow_ops.ts";
import { inPort } from "./output.ts";
import { lookupRule, xlateRule } from "./table.ts";
import { doXlateActions } from "./actions.ts";
import { thaw } from "./freeze.ts";
import { resumeFrozen } from "./group_freeze.ts";
import { processSpecial } from "./special.ts";

const covXlateActions = coverageCounter("xlate_actions");

const ETH_TYPE_IP = 0x0800;
const ETH_TYPE_IPV6 = 0x86dd;
const ETH_TYPE_VLAN = 0x8100;
const ETH_TYPE_VLAN_8021AD = 0x88a8;

function wcInit(ctx: XlateCtx): void {
  const w = ctx.w;
  maskField(w, F.packet_type);
  maskField(w, F.in_port);
  maskField(w, F.dl_type);
  if (isIpAny(ctx.f)) w[F.nw_frag.off] |= FRAG_MASK;
  maskField(w, F.recirc_id);
}

// Word spans of `wcFinish`'s zeroing, written as words: nine short
// Uint8Array.fill calls per translation cost more than the words they clear.
const META_REGS_END = (F.regs.off + F.regs.len) >> 2;
const CONJ_ID_WORD = F.conj_id.off >> 2;
const ACTSET_OUTPUT_WORD = F.actset_output.off >> 2;
const MPLS_WORD = F.mpls_lse.off >> 2;
const MPLS_WORDS_END = (F.mpls_lse.off + F.mpls_lse.len) >> 2;

function wcFinish(ctx: XlateCtx, upcall: FlowKey): void {
  const w = ctx.w, f = ctx.f, wc = ctx.wc;
  // metadata and regs are one span from word 0 (F.metadata.off).
  for (let i = F.metadata.off >> 2; i < META_REGS_END; i++) wc[i] = 0;
  wc[ACTSET_OUTPUT_WORD] = 0;
  wc[CONJ_ID_WORD] = 0;
  if (keyUint(upcall, F.packet_type.off, 4) !== 0) {
    w.fill(0, F.dl_dst.off, F.dl_src.off + 6);
  }
  const dlType = getUint(f, F.dl_type.off, 2);
  const proto = f[F.nw_proto.off];
  if ((dlType === ETH_TYPE_IP && proto === 1) || (dlType === ETH_TYPE_IPV6 && proto === 58)) {
    w[F.tp_src.off] = 0;
    w[F.tp_dst.off] = 0;
  }
  for (let i = 0; i < 2; i++) {
    const off = vlanOffset(i) + 2;
    if (w[off] || w[off + 1]) w[off] |= VLAN_CFI >> 8;
  }
  if (f[F.nw_frag.off] & FRAG_LATER) w.fill(0, F.tp_src.off, F.tp_dst.off + 2);
  const upcallType = keyUint(upcall, F.dl_type.off, 2);
  if (upcallType !== 0x8847 && upcallType !== 0x8848) {
    for (let i = MPLS_WORD; i < MPLS_WORDS_END; i++) wc[i] = 0;
  }
  for (let i = 0; i < 2; i++) {
    const tpid = keyUint(upcall, vlanOffset(i), 2);
    // A VLAN header (TPID and TCI) is one aligned word.
    if (tpid !== ETH_TYPE_VLAN && tpid !== ETH_TYPE_VLAN_8021AD) wc[vlanOffset(i) >> 2] = 0;
  }
}

/**
 * Translates `xin.flow` through the tables. Pure apart from MAC learning
 * (when `sideEffects`) and recirculation ids; never throws on any flow.
 */
export function xlate(xin: XlateInput): XlateOutput {
  covXlateActions.inc();
  const ctx = xin.keys ? xin.keys.ctxFor(xin) : new XlateCtx(xin);
  const upcall = xin.flow;
  wcInit(ctx);
  if (ctx.trace) ctx.trace = ctx.report("bridge", `bridge("${xin.bridge.name}")`);
  // A recirculated packet resumes from its frozen state; another one that
  // carries a tracked ct_state (from ofproto/trace) counts as conntracked.
  const table = keyUint(upcall, F.recirc_id.off, 4) ? thaw(ctx) : 0;
  if (!keyUint(upcall, F.recirc_id.off, 4) && keyUint(upcall, F.ct_state.off, 1) & CS_TRACKED) {
    ctx.conntracked = true;
  }
  if (table >= 0 && ctx.resumeRule) resumeFrozen(ctx, table);
  else if (table >= 0 && xin.ofpacts) doXlateActions(ctx, xin.ofpacts);
  else if (table >= 0) {
    // The rule is looked up (its wildcards count) even for a packet the switch consumes.
    const rule = lookupRule(ctx, table, inPort(ctx));
    if (keyUint(upcall, F.recirc_id.off, 4) || !processSpecial(ctx)) {
      xlateRule(ctx, rule, table, false, true, true);
    } else if (rule) {
      // As OVS credits the rule it looked up before process_special.
      ctx.cache.addLookup(table, rule.id);
      ctx.cache.addRule(rule.id);
    }
  }
  if (ctx.error) ctx.actions.length = 0;
  wcFinish(ctx, upcall);
  ctx.cache.seal();
  // With lent keys, the output object is theirs too (XlateInput.keys).
  const out = xin.keys ? xin.keys.outputOf(ctx) : newOutput(ctx);
  out.actions = ctx.actions;
  out.wc = ctx.wc;
  out.slow = ctx.slow;
  out.error = ctx.error;
  out.cache = ctx.cache;
  out.finalFlow = ctx.flow;
  out.macChanged = ctx.macChanged;
  out.avoidCaching = ctx.avoidCaching;
  out.packetIns = ctx.packetIns;
  out.recircs = ctx.recircs;
  out.trace = ctx.traceRoot;
  out.traceRecircs = ctx.traceRecircs;
  return out;
}

/**
 * The mask a megaflow gets in the userspace datapath for wildcards `wc`
 * translated from `upcall`: a packet without a VLAN header matches "no
 * VLAN header" exactly (odp_flow_key_to_mask), and a VLAN TCI the
 * translation ignored still matches the VLAN id (dpif-netdev's flow put),
 * because the datapath key format cannot wildcard a tag's presence.
 */
export function megaflowMask(upcall: FlowKey, wc: FlowKey): FlowKey {
  const mask = wc.slice();
  const m = bytesOf(mask);
  if (!(getUint(bytesOf(upcall), F.vlan0_tci.off, 2) & VLAN_CFI)) {
    m.fill(0xff, F.vlan0_tpid.off, F.vlan0_tci.off + 2);
  } else if (!getUint(m, F.vlan0_tci.off, 2)) {
    m[F.vlan0_tci.off] = (VLAN_CFI | VLAN_VID_MASK) >> 8;
    m[F.vlan0_tci.off + 1] = VLAN_VID_MASK & 0xff;
  }
  return mask;
}

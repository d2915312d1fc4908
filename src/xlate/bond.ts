/**
 * NORMAL's bond parts (ofproto-dpif-xlate.c is_admissible's bond branch
 * and output_normal's member choice): whether a packet received on a
 * bond member may be switched, and which member a packet leaves a bond
 * through. The decisions themselves are the bond's (ofproto/bond.ts);
 * this file reports them in traces and un-wildcards what they read.
 */
import { F } from "../flow/mod.ts";
import { commitActions } from "./output.ts";
import { bundlePort, type XPort } from "./bridge.ts";
import type { XlateCtx } from "./context.ts";
import { maskField } from "./flow_ops.ts";

/**
 * bond_check_admissibility as NORMAL applies it to a packet from member
 * `in_` in `vlan`: false (reported) when the packet is to be dropped.
 * `gratArp` says whether it is a gratuitous ARP, which an SLB bond lets
 * move a MAC.
 */
export function bondAdmissible(ctx: XlateCtx, in_: XPort, vlan: number, gratArp: boolean): boolean {
  const bond = in_.bond;
  if (!bond) return true;
  const f = ctx.f;
  const verdict = bond.admissibility(in_.ofport, (f[F.dl_dst.off] & 1) !== 0);
  if (verdict === "accept") return true;
  if (verdict === "drop") {
    ctx.report("detail", "bonding refused admissibility, dropping");
    return false;
  }
  const ml = ctx.xin.ml;
  const learned = ml ? ml.lookup(f, F.dl_src.off, vlan, ctx.xin.nowMs) : -1;
  if (learned >= 0 && learned !== bundlePort(in_) && !gratArp) {
    ctx.report("detail", "SLB bond thinks this packet looped back, dropping");
    return false;
  }
  return true;
}

/** bondOutputPort's answer for a bond that recirculates instead of choosing now. */
export const BOND_RECIRC = -2;

/** OVS_HASH_ALG_L4. */
const HASH_ALG_L4 = 0;

/**
 * bond_choose_output_member for output to bond member `port`'s bond in
 * output VLAN `vid`: the member's OpenFlow port, BOND_RECIRC for a
 * balance-tcp bond that recirculates (nothing un-wildcarded: the
 * datapath hashes), or -1 when no member is enabled (the packet is then
 * dropped).
 */
export function bondOutputPort(ctx: XlateCtx, port: XPort, vid: number): number {
  const bond = port.bond!;
  if (bond.recirculates) return BOND_RECIRC;
  const ofport = bond.chooseOutput(ctx.f, F.dl_src.off, vid, () => maskField(ctx.w, F.dl_src));
  // The load balancing sees the flow's bytes through its bucket (XC_BOND);
  // recirculating bonds count them by their post-recirculation rules.
  if (ofport >= 0 && bond.isBalanced && bond.config.mode === "balance-slb") {
    ctx.cache.addBond(bond, bond.slbBucket(ctx.f, F.dl_src.off, vid));
  }
  return ofport;
}

/**
 * compose_output_action's bond recirculation: the header changes so far,
 * then `hash(l4(basis)),recirc(id)`; the recirculated packet meets the
 * bond's post-recirculation rules (recirc_id and dp_hash bucket to member
 * output) in the internal table.
 */
export function composeBondRecirc(ctx: XlateCtx, port: XPort): void {
  const bond = port.bond!;
  commitActions(ctx);
  ctx.actions.push(
    { type: "hash", alg: HASH_ALG_L4, basis: bond.config.basis },
    { type: "recirc", id: bond.recircId },
  );
}

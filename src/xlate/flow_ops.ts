/**
 * Small flow operations translation shares, each setting the wildcard bits
 * OVS sets for it: prerequisite checks (mf_are_prereqs_ok), VLAN push and
 * pop on the flow (flow_push_vlan_uninit, flow_pop_vlan).
 */
import { F, type FieldSpan, getUint, VLAN_CFI, vlanOffset } from "../flow/mod.ts";
import { type MfField, prereqOk } from "../ofproto/mod.ts";
import { countVlans } from "./commit.ts";
import type { XlateCtx } from "./context.ts";

const ETH_TYPE_IP = 0x0800;
const ETH_TYPE_IPV6 = 0x86dd;
const ETH_TYPE_ARP = 0x0806;
const IPPROTO_ICMPV6 = 58;

export function maskField(w: Uint8Array, span: FieldSpan): void {
  // A loop: fields are a few bytes, and a builtin fill call costs more than they do.
  const end = span.off + span.len;
  for (let i = span.off; i < end; i++) w[i] = 0xff;
}

export function isIpAny(f: Uint8Array): boolean {
  const t = getUint(f, F.dl_type.off, 2);
  return t === ETH_TYPE_IP || t === ETH_TYPE_IPV6;
}

/** Whether the flow has the field, unwildcarding what the check looked at. */
export function prereqsOk(ctx: XlateCtx, fl: MfField): boolean {
  switch (fl.prereq) {
    case "tcp":
    case "udp":
    case "sctp":
    case "icmp":
    case "icmp6":
      if (isIpAny(ctx.f)) ctx.w[F.nw_proto.off] = 0xff;
      if (ctx.f[F.nw_frag.off] & 2 && fl.prereq !== "icmp" && fl.prereq !== "icmp6") {
        return false;
      }
      break;
    case "vlan":
      ctx.w[F.vlan0_tci.off] |= VLAN_CFI >> 8;
      break;
    case "nd":
    case "nd_ns":
    case "nd_na":
      // is_nd: an ICMPv6 packet's code is read, and its type if the code is 0.
      if (getUint(ctx.f, F.dl_type.off, 2) !== ETH_TYPE_IPV6) break;
      ctx.w[F.nw_proto.off] = 0xff;
      if (ctx.f[F.nw_proto.off] !== IPPROTO_ICMPV6) break;
      maskField(ctx.w, F.tp_dst);
      if (getUint(ctx.f, F.tp_dst.off, 2) === 0) maskField(ctx.w, F.tp_src);
      break;
  }
  return prereqOk(fl.prereq, ctx.f);
}

const L3_IP_FIELDS = new Set(["ip_src", "ip_dst", "ipv6_src", "ipv6_dst", "ipv6_label"]);
const L3_TOS_FIELDS = new Set(["nw_tos", "ip_dscp", "nw_ecn", "nw_ttl"]);
const ARP_FIELDS = new Set(["arp_op", "arp_sha", "arp_tha", "arp_spa", "arp_tpa"]);

/** mf_set_mask_l3_prereqs: rewriting L3 fields also depends on nw_proto. */
export function setMaskL3Prereqs(ctx: XlateCtx, fl: MfField): void {
  const f = ctx.f;
  if (isIpAny(f) && (L3_IP_FIELDS.has(fl.name) || L3_TOS_FIELDS.has(fl.name))) {
    ctx.w[F.nw_proto.off] = 0xff;
  } else if (getUint(f, F.dl_type.off, 2) === ETH_TYPE_ARP && ARP_FIELDS.has(fl.name)) {
    ctx.w[F.nw_proto.off] = 0xff;
  }
}

/** Moves the VLAN headers in, leaving the outer one blank (flow_push_vlan_uninit). */
export function pushVlanUninit(ctx: XlateCtx): void {
  const f = ctx.f;
  const n = countVlans(f);
  if (n) ctx.w.fill(0xff, vlanOffset(0), vlanOffset(n));
  f.copyWithin(vlanOffset(1), vlanOffset(0), vlanOffset(1));
  f.fill(0, vlanOffset(0), vlanOffset(1));
}

/** Removes the outer VLAN header (flow_pop_vlan). */
export function popVlan(ctx: XlateCtx): void {
  const f = ctx.f;
  const n = countVlans(f);
  if (n > 1) {
    ctx.w.fill(0xff, vlanOffset(1), vlanOffset(n));
    f.copyWithin(vlanOffset(0), vlanOffset(1), vlanOffset(n));
  }
  if (n > 0) f.fill(0, vlanOffset(n - 1), vlanOffset(n));
}

/**
 * Actions carried over an OpenFlow connection of one version: encoded as
 * that version's wire actions and decoded back by the other side. A
 * flow-mod leaves the switch holding its actions in this form, and a
 * flow-stats reply gives ovs-ofctl the stored actions in this form again,
 * so what `ovs-ofctl dump-flows` and `ofproto/trace` print depends on the
 * versions both went through. Follows ofpacts_put_openflow_actions and
 * ofpacts_pull_openflow_actions, action by action: encode_SET_FIELD
 * (set_field_to_legacy_openflow, set_field_to_nxast,
 * set_field_to_set_field), encode_SET_VLAN_VID / encode_SET_VLAN_PCP (a
 * push_vlan first where the flow has no VLAN), encode_SET_ETH_SRC and the
 * other OF1.0 rewrites (a set_field from OpenFlow 1.2 on),
 * encode_SET_IP_TTL / encode_SET_IP_ECN (NXM loads in OpenFlow 1.0),
 * encode_STRIP_VLAN, encode_PUSH_VLAN (nothing in OpenFlow 1.0: the
 * VLAN comes from the mod_vlan_* that follows), encode_ENQUEUE and
 * encode_GOTO_TABLE. OpenFlow 1.1 is handled as 1.2-1.4 are.
 */
import { bytesOf, F, getUint, VLAN_CFI } from "../flow/mod.ts";
import type { OfAction } from "./of_action.ts";
import type { Match } from "./match.ts";
import { mfByName, type MfField } from "./meta_flow.ts";
import { modAction } from "./field_action_parse.ts";
import { OFP10_VERSION } from "./action_format.ts";

/** NXAST_REG_LOAD: one load per contiguous run of mask bits, 64 bits at most. */
function regLoads(fl: MfField, value: bigint, mask: bigint): OfAction[] {
  const out: OfAction[] = [];
  let bit = 0;
  while (bit < fl.nBits) {
    while (bit < fl.nBits && !((mask >> BigInt(bit)) & 1n)) bit++;
    if (bit >= fl.nBits) break;
    const start = bit;
    while (bit < fl.nBits && bit - start < 64 && (mask >> BigInt(bit)) & 1n) bit++;
    const nBits = bit - start;
    const v = (value >> BigInt(start)) & ((1n << BigInt(nBits)) - 1n);
    out.push({ type: "load", dst: { field: fl.name, ofs: start, nBits }, value: v });
  }
  return out;
}

const fullMask = (fl: MfField) => (1n << BigInt(fl.nBits)) - 1n;

/**
 * set_field_to_legacy_openflow: OpenFlow 1.0 has no set_field, so the
 * fields it has actions for become those actions, whole-field whatever
 * the mask was; the others go as NXM loads.
 */
function setFieldOf10(fl: MfField, value: bigint, mask: bigint): OfAction[] {
  switch (fl.name) {
    case "vlan_tci":
      return value & BigInt(VLAN_CFI)
        ? [modAction("mod_vlan_vid", value & 0xfffn), modAction("mod_vlan_pcp", value >> 13n)]
        : [{ type: "strip_vlan" }];
    case "vlan_vid":
      return [modAction("mod_vlan_vid", value & 0xfffn)];
    case "vlan_pcp":
      return [modAction("mod_vlan_pcp", value)];
    case "eth_src":
      return [modAction("mod_dl_src", value)];
    case "eth_dst":
      return [modAction("mod_dl_dst", value)];
    case "ip_src":
      return [modAction("mod_nw_src", value)];
    case "ip_dst":
      return [modAction("mod_nw_dst", value)];
    case "nw_tos":
      return [modAction("mod_nw_tos", value)];
    case "ip_dscp":
      return [modAction("mod_nw_tos", value << 2n)];
    case "tcp_src":
    case "udp_src":
      return [modAction("mod_tp_src", value)];
    case "tcp_dst":
    case "udp_dst":
      return [modAction("mod_tp_dst", value)];
  }
  return regLoads(fl, value, mask);
}

/** One OF1.0 rewrite (an ofpact of its own) as OpenFlow 1.2+ carries it. */
function modOf12(a: OfAction & { type: "mod" }, flowHasVlan: boolean): OfAction[] {
  const set = (field: string, value: bigint): OfAction => ({ type: "set_field", field, value });
  switch (a.name) {
    case "mod_vlan_vid":
    case "mod_vlan_pcp": {
      const out: OfAction[] = flowHasVlan ? [] : [{ type: "push_vlan", ethertype: 0x8100 }];
      out.push(
        a.name === "mod_vlan_vid"
          ? set("vlan_vid", a.value | BigInt(VLAN_CFI))
          : set("vlan_pcp", a.value),
      );
      return out;
    }
    case "mod_dl_src":
      return [set("eth_src", a.value)];
    case "mod_dl_dst":
      return [set("eth_dst", a.value)];
    case "mod_nw_src":
      return [set("ip_src", a.value)];
    case "mod_nw_dst":
      return [set("ip_dst", a.value)];
    case "mod_nw_tos":
      return [set("ip_dscp", a.value >> 2n)];
    case "mod_nw_ttl":
      // OFPAT11_SET_NW_TTL decodes to the same ofpact.
      return [a];
    default:
      return [set(a.field, a.value)];
  }
}

function overOf10(a: OfAction): OfAction[] {
  switch (a.type) {
    case "pop_vlan":
      return [{ type: "strip_vlan" }];
    case "push_vlan":
      return [];
    case "goto_table":
      return [{ type: "resubmit", table: a.table }];
    case "mod":
      if (a.name === "mod_nw_ttl" || a.name === "mod_nw_ecn") {
        const fl = mfByName(a.field)!;
        return regLoads(fl, a.value, fullMask(fl));
      }
      return [a];
    case "set_field": {
      const fl = mfByName(a.field)!;
      return setFieldOf10(fl, a.value, a.mask ?? fullMask(fl));
    }
    case "ct":
      return [{ ...a, actions: a.actions.flatMap(overOf10) }];
    default:
      return [a];
  }
}

function overOf12(a: OfAction, flowHasVlan: boolean): OfAction[] {
  switch (a.type) {
    case "strip_vlan":
      return [{ type: "pop_vlan" }];
    case "enqueue":
      return [
        { type: "set_queue", queue: a.queue },
        { type: "output", port: a.port },
        { type: "pop_queue" },
      ];
    case "mod":
      return modOf12(a, flowHasVlan);
    case "set_field": {
      // A partial write cannot be an OFPAT_SET_FIELD before OpenFlow 1.5.
      const fl = mfByName(a.field)!;
      return a.mask === undefined || a.mask === fullMask(fl) ? [a] : regLoads(fl, a.value, a.mask);
    }
    case "ct":
      return [{ ...a, actions: a.actions.flatMap((n) => overOf12(n, flowHasVlan)) }];
    default:
      return [a];
  }
}

/**
 * `actions` as the receiving side decodes them after they were sent in
 * OpenFlow `version`, for a rule matching `match` (whose VLAN match tells
 * whether mod_vlan_vid must push a header, as ofpacts_check records it).
 */
export function actionsOverWire(
  actions: readonly OfAction[],
  version: number,
  match: Match,
): OfAction[] {
  const out: OfAction[] = [];
  let flowHasVlan = (getUint(bytesOf(match.key), F.vlan0_tci.off, 2) & VLAN_CFI) !== 0;
  for (const a of actions) {
    if (a.type === "clone") {
      out.push({ type: "clone", actions: actionsOverWire(a.actions, version, match) });
      continue;
    }
    out.push(...(version === OFP10_VERSION ? overOf10(a) : overOf12(a, flowHasVlan)));
    if (a.type === "push_vlan" || (a.type === "mod" && a.name.startsWith("mod_vlan"))) {
      flowHasVlan = true;
    } else if (a.type === "strip_vlan" || a.type === "pop_vlan") {
      flowHasVlan = false;
    }
  }
  return out;
}

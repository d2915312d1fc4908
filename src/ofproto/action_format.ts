/**
 * OfAction lists printed as OVS prints ofpacts (ofpacts_format): each
 * action in the spelling of the form it has, which depends on the
 * OpenFlow version it came over (see action_wire.ts): mod_* and strip_vlan
 * from OpenFlow 1.0, set_field and pop_vlan from 1.2+, load for NXM loads.
 */
import { type FieldRange, type OfAction, OFPP_MAX } from "./of_action.ts";
import { mfByName } from "./meta_flow.ts";
import { formatFieldValue, formatIpv4, formatMac, formatPort } from "./field_value.ts";
import { formatCt, formatNat } from "./ct_action.ts";
import { formatExtAction } from "./ext_actions.ts";
import { formatLearn } from "./learn_action.ts";

/** OpenFlow wire versions as ovs-ofctl's `-O` selects them. */
export const OFP10_VERSION = 0x01;
export const OFP13_VERSION = 0x04;

const altHex = (v: bigint): string => (v ? `0x${v.toString(16)}` : "0");

export function formatSubfield(r: FieldRange): string {
  const fl = mfByName(r.field);
  const name = fl ? fl.nxm : r.field;
  if (fl && r.ofs === 0 && r.nBits === fl.nBits) return `${name}[]`;
  if (r.nBits === 1) return `${name}[${r.ofs}]`;
  return `${name}[${r.ofs}..${r.ofs + r.nBits - 1}]`;
}

/**
 * An OF1.0 rewrite as format_SET_ETH_SRC and its siblings print it. The
 * TTL and ECN ones appear only in rules that came over OpenFlow 1.1+ (in
 * 1.0 they travel as NXM loads).
 */
function formatMod(a: OfAction & { type: "mod" }): string {
  if (a.name === "mod_dl_src" || a.name === "mod_dl_dst") return `${a.name}:${formatMac(a.value)}`;
  if (a.name === "mod_nw_src" || a.name === "mod_nw_dst") {
    return `${a.name}:${formatIpv4(a.value)}`;
  }
  return `${a.name}:${a.value}`;
}

function formatController(a: OfAction & { type: "controller" }): string {
  if (!a.reason && !a.id) return `CONTROLLER:${a.maxLen}`;
  const parts: string[] = [];
  if (a.reason) parts.push(`reason=${a.reason}`);
  if (a.maxLen !== 65535) parts.push(`max_len=${a.maxLen}`);
  if (a.id) parts.push(`id=${a.id}`);
  return `controller(${parts.join(",")})`;
}

function formatOne(a: OfAction, names?: ReadonlyMap<number, string>): string {
  switch (a.type) {
    case "output":
      return a.port < OFPP_MAX ? `output:${formatPort(a.port, names)}` : formatPort(a.port);
    case "output_trunc":
      return `output(port=${formatPort(a.port, names)},max_len=${a.maxLen})`;
    case "controller":
      return formatController(a);
    case "enqueue":
      return `enqueue:${formatPort(a.port, names)}:${a.queue}`;
    case "set_queue":
      return `set_queue:${a.queue}`;
    case "pop_queue":
      return "pop_queue";
    case "mod":
      return formatMod(a);
    case "strip_vlan":
      return "strip_vlan";
    case "pop_vlan":
      return "pop_vlan";
    case "push_vlan":
      return `push_vlan:0x${a.ethertype.toString(16)}`;
    case "set_field": {
      const fl = mfByName(a.field)!;
      return `set_field:${formatFieldValue(fl, a.value, a.mask)}->${fl.name}`;
    }
    case "load":
      return `load:${altHex(a.value)}->${formatSubfield(a.dst)}`;
    case "move":
      return `move:${formatSubfield(a.src)}->${formatSubfield(a.dst)}`;
    case "dec_ttl":
      return "dec_ttl";
    case "resubmit": {
      const port = a.port === undefined ? "" : formatPort(a.port, names);
      if (a.port !== undefined && a.table === undefined && !a.ct) return `resubmit:${port}`;
      return `resubmit(${port},${a.table ?? ""}${a.ct ? ",ct" : ""})`;
    }
    case "goto_table":
      return `goto_table:${a.table}`;
    case "write_metadata":
      return `write_metadata:${altHex(a.value)}` +
        (a.mask === (1n << 64n) - 1n ? "" : `/${altHex(a.mask)}`);
    case "note":
      return `note:${[...a.bytes].map((b) => b.toString(16).padStart(2, "0")).join(".")}`;
    case "group":
      return `group:${a.groupId}`;
    case "ct":
      return formatCt(a, (list) => formatActions(list, names), formatSubfield);
    case "nat":
      return formatNat(a);
    case "ct_clear":
      return "ct_clear";
    case "learn":
      return formatLearn(a.learn);
    default:
      return formatExtAction(a, names, formatActions)!;
  }
}

/**
 * The text after `actions=` for actions as the switch holds them
 * (ofpacts_format): `drop` for an empty list; `names` as with --names.
 * What a dump in a given OpenFlow version shows is these actions after
 * actionsOverWire.
 */
export function formatActions(
  actions: readonly OfAction[],
  names?: ReadonlyMap<number, string>,
): string {
  if (actions.length === 0) return "drop";
  return actions.map((a) => formatOne(a, names)).join(",");
}

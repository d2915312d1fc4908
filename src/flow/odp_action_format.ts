/**
 * Datapath actions to text, as OVS 3.1's format_odp_actions prints them:
 * comma-separated, `drop` for an empty list, ports by name when a name
 * map is given.
 */
import type { OdpAction } from "./odp_action.ts";
import { formatOdpKeyAttr } from "./odp_key_format.ts";
import { formatUserspace } from "./_userspace.ts";
import { formatCtAction } from "./_odp_ct.ts";

export function formatOdpActions(
  actions: readonly OdpAction[],
  portNames?: ReadonlyMap<number, string> | null,
): string {
  if (actions.length === 0) return "drop";
  return actions.map((a) => formatOdpAction(a, portNames ?? null)).join(",");
}

export function formatOdpAction(
  a: OdpAction,
  portNames: ReadonlyMap<number, string> | null,
): string {
  switch (a.type) {
    case "output":
      return portNames?.get(a.port) ?? String(a.port);
    case "userspace":
      return formatUserspace(a, portNames);
    case "set":
      return `set(${formatOdpKeyAttr(a.attr, a.key, null, true)})`;
    case "set_masked":
      return `set(${formatOdpKeyAttr(a.attr, a.key, a.mask, false)})`;
    case "push_vlan": {
      const parts: string[] = [];
      if (a.tpid !== 0x8100) parts.push("tpid=0x" + a.tpid.toString(16).padStart(4, "0"));
      const vid = a.tci & 0xfff, pcp = a.tci >>> 13;
      parts.push(`vid=${vid}`);
      parts.push(`pcp=${pcp}`);
      if (!(a.tci & 0x1000)) parts.push("cfi=0");
      return `push_vlan(${parts.join(",")})`;
    }
    case "pop_vlan":
      return "pop_vlan";
    case "recirc":
      return `recirc(${a.id === 0 ? "0" : "0x" + (a.id >>> 0).toString(16)})`;
    case "hash":
      return a.alg === 0
        ? `hash(l4(${a.basis >>> 0}))`
        : a.alg === 1
        ? `hash(sym_l4(${a.basis >>> 0}))`
        : `hash(Unknown hash algorithm(${a.alg}))`;
    case "trunc":
      return `trunc(${a.maxLen})`;
    case "ct":
      return formatCtAction(a);
    case "ct_clear":
      return "ct_clear";
    case "check_pkt_len":
      return `check_pkt_len(size=${a.size},gt(${formatOdpActions(a.gt, portNames)}),le(${
        formatOdpActions(a.le, portNames)
      }))`;
    case "clone":
      // format_odp_clone_action: an empty clone prints its list as `drop`.
      return `clone(${formatOdpActions(a.actions, portNames)})`;
    default:
      return a.text;
  }
}

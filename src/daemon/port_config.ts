/**
 * Per-port VLAN settings, as `ovs-vsctl set port` has them: `tag=VLAN`,
 * `trunks=V1,V2,...`, `vlan_mode=access|trunk|native-tagged|native-untagged`
 * (an empty value clears a setting). `port/set` changes them; NORMAL
 * reads the result through the bridge.
 *
 * Thread-safety: main thread; the bridge pushes changes to the tables
 * the handlers read.
 */

export type VlanMode = "access" | "trunk" | "native-tagged" | "native-untagged";
export const VLAN_MODES: readonly VlanMode[] = [
  "access",
  "trunk",
  "native-tagged",
  "native-untagged",
];

/** A port's VLAN settings; unset fields take OVS's implicit behaviour. */
export interface PortVlanConfig {
  tag?: number;
  trunks?: number[];
  vlanMode?: VlanMode;
}

export class PortConfigError extends Error {
  override name = "PortConfigError";
}

function parseVlan(key: string, text: string): number {
  if (!/^[0-9]+$/.test(text) || Number(text) > 4095) {
    throw new PortConfigError(`${key}: "${text}" is not a VLAN (0 to 4095)`);
  }
  return Number(text);
}

/**
 * `current` with the `KEY=VALUE` settings applied; throws naming the bad
 * part, in which case nothing is applied.
 */
export function applyPortSettings(current: PortVlanConfig, settings: string[]): PortVlanConfig {
  const next: PortVlanConfig = { ...current };
  for (const setting of settings) {
    const eq = setting.indexOf("=");
    if (eq <= 0) throw new PortConfigError(`"${setting}": expected KEY=VALUE`);
    const key = setting.slice(0, eq);
    const value = setting.slice(eq + 1);
    switch (key) {
      case "tag":
        if (value === "") delete next.tag;
        else next.tag = parseVlan("tag", value);
        break;
      case "trunks":
        if (value === "") delete next.trunks;
        else {
          next.trunks = [...new Set(value.split(",").map((v) => parseVlan("trunks", v.trim())))]
            .sort((a, b) => a - b);
        }
        break;
      case "vlan_mode":
        if (value === "") delete next.vlanMode;
        else if ((VLAN_MODES as readonly string[]).includes(value)) {
          next.vlanMode = value as VlanMode;
        } else {
          throw new PortConfigError(
            `vlan_mode: "${value}" is not one of ${VLAN_MODES.join(", ")}`,
          );
        }
        break;
      default:
        throw new PortConfigError(`unknown port setting "${key}" (known: tag, trunks, vlan_mode)`);
    }
  }
  return next;
}

/** The settings as `ovs-vsctl list port` would show the three columns. */
export function formatPortVlanConfig(name: string, c: PortVlanConfig): string {
  return `${name}: tag=${c.tag ?? "[]"} trunks=[${(c.trunks ?? []).join(", ")}] vlan_mode=${
    c.vlanMode ?? "[]"
  }`;
}

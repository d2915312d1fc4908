/**
 * `--port NAME,type=bond,members=M1[:OFPORT]+M2[:OFPORT]...[,KEY=VALUE]...`:
 * a bond as `ovs-vsctl add-bond BRIDGE NAME M1 M2 ... COLUMN=VALUE` makes
 * it (vswitchd/bridge.c port_configure_bond). The members are dummy
 * ports of their own, numbered as any port; the keys are the Port
 * columns and other_config keys OVS reads for a bond:
 *
 *     bond_mode=active-backup|balance-slb|balance-tcp   (active-backup)
 *     lacp=off|active|passive                           (off)
 *     bond_updelay=MS, bond_downdelay=MS                 (0)
 *     other_config:bond-hash-basis=N                     (0)
 *     other_config:bond-rebalance-interval=MS            (10000; 0 never, else at least 1000)
 *     other_config:bond-primary=MEMBER
 *     other_config:lacp-fallback-ab=true|false           (false)
 *     other_config:all-members-active=true|false         (false)
 *     other_config:lacp-system-id=MAC                    (the bridge's address)
 *     other_config:lacp-system-priority=N                (65534)
 *     other_config:lacp-time=fast|slow                   (slow)
 *   and each member Interface's other_config, as
 *     iface_other_config:MEMBER:lacp-port-id=N           (its OpenFlow port; 1 to 65535)
 *     iface_other_config:MEMBER:lacp-port-priority=N     (65535; 1 to 65535)
 *     iface_other_config:MEMBER:lacp-aggregation-key=N   (none; 0 to 65535)
 */
import {
  BOND_MODES,
  type BondConfig,
  type BondMode,
  defaultBondConfig,
  type LacpMode,
  type MemberLacpConfig,
} from "../ofproto/mod.ts";
import { PortSpecError } from "./port_spec.ts";

/** A bond as parsed, its members not numbered yet. */
export interface BondSpec {
  config: Omit<BondConfig, "members">;
  members: { name: string; ofport: number | undefined }[];
}

const NAME = /^[A-Za-z0-9_.-]{1,64}$/;
const LACP_MODES: readonly LacpMode[] = ["off", "active", "passive"];
const OTHER_CONFIG = [
  "bond-hash-basis",
  "bond-rebalance-interval",
  "bond-primary",
  "lacp-fallback-ab",
  "all-members-active",
  "lacp-system-id",
  "lacp-system-priority",
  "lacp-time",
];

/** Parses the options after `NAME,` of a `type=bond` port; throws naming the bad part. */
export function parseBondSpec(
  text: string,
  name: string,
  items: readonly string[],
  ofportMax: number,
): BondSpec {
  const bad = (what: string) => new PortSpecError(`--port ${text}: ${what}`);
  const { members: _none, ...config }: BondConfig = defaultBondConfig(name);
  let members: BondSpec["members"] | undefined;
  const int = (key: string, v: string, max = 0x7fffffff) => {
    if (!/^[0-9]+$/.test(v) || Number(v) > max) throw bad(`${key} must be a number, not "${v}"`);
    return Number(v);
  };
  const bool = (key: string, v: string) => {
    if (v !== "true" && v !== "false") throw bad(`${key} must be true or false, not "${v}"`);
    return v === "true";
  };
  const perMember: Record<string, MemberLacpConfig> = {};
  const memberLacp = (key: string, value: string) => {
    const [, member, setting] = key.split(":");
    if (!NAME.test(member ?? "")) throw bad(`bad member in "${key}"`);
    const conf = perMember[member] ??= {};
    switch (setting) {
      case "lacp-port-id":
        conf.portId = int(key, value, 65535);
        if (!conf.portId) throw bad(`${key} must be 1 to 65535, not "${value}"`);
        break;
      case "lacp-port-priority":
        conf.portPriority = int(key, value, 65535);
        if (!conf.portPriority) throw bad(`${key} must be 1 to 65535, not "${value}"`);
        break;
      case "lacp-aggregation-key":
        conf.aggregationKey = int(key, value, 65535);
        break;
      default:
        throw bad(
          `unknown member setting "${
            setting ?? ""
          }" (lacp-port-id, lacp-port-priority, lacp-aggregation-key)`,
        );
    }
  };
  for (const item of items) {
    const eq = item.indexOf("=");
    const key = eq < 0 ? item : item.slice(0, eq);
    const value = eq < 0 ? "" : item.slice(eq + 1);
    switch (key) {
      case "type":
        break;
      case "members":
        members = value.split("+").map((m) => {
          const [mname, n, extra] = m.split(":");
          if (!NAME.test(mname ?? "") || extra !== undefined) throw bad(`bad member "${m}"`);
          if (n !== undefined && (!/^[0-9]+$/.test(n) || +n < 1 || +n > ofportMax)) {
            throw bad(`bad OpenFlow port number "${n}" for member ${mname} (1 to ${ofportMax})`);
          }
          return { name: mname, ofport: n === undefined ? undefined : Number(n) };
        });
        break;
      case "bond_mode":
        if (!(BOND_MODES as readonly string[]).includes(value)) {
          throw bad(`bad bond_mode "${value}" (${BOND_MODES.join(", ")})`);
        }
        config.mode = value as BondMode;
        break;
      case "lacp":
        if (!(LACP_MODES as readonly string[]).includes(value)) {
          throw bad(`bad lacp "${value}" (off, active or passive)`);
        }
        config.lacp = value as LacpMode;
        break;
      case "bond_updelay":
        config.updelay = int(key, value);
        break;
      case "bond_downdelay":
        config.downdelay = int(key, value);
        break;
      case "other_config:bond-hash-basis":
        config.basis = int(key, value, 0xffffffff);
        break;
      case "other_config:bond-rebalance-interval": {
        const ms = int(key, value);
        config.rebalanceInterval = ms && ms < 1000 ? 1000 : ms;
        break;
      }
      case "other_config:bond-primary":
        if (!NAME.test(value)) throw bad(`bad bond-primary "${value}"`);
        config.primary = value;
        break;
      case "other_config:lacp-fallback-ab":
        config.lacpFallbackAb = bool(key, value);
        break;
      case "other_config:lacp-system-id":
        if (!/^[0-9a-fA-F]{2}(:[0-9a-fA-F]{2}){5}$/.test(value) || /^[0:]*$/.test(value)) {
          throw bad(`lacp-system-id must be a nonzero Ethernet address, not "${value}"`);
        }
        config.lacpSystemId = value.toLowerCase();
        break;
      case "other_config:lacp-system-priority":
        config.lacpSystemPriority = int(key, value, 65535);
        break;
      case "other_config:lacp-time":
        if (value !== "fast" && value !== "slow") {
          throw bad(`lacp-time must be fast or slow, not "${value}"`);
        }
        config.lacpFast = value === "fast";
        break;
      case "other_config:all-members-active":
        config.allMembersActive = bool(key, value);
        break;
      default:
        if (key.startsWith("iface_other_config:")) {
          memberLacp(key, value);
          break;
        }
        throw bad(
          `unknown bond option "${key}" (members, bond_mode, lacp, bond_updelay, bond_downdelay, ${
            OTHER_CONFIG.map((k) => `other_config:${k}`).join(", ")
          }, iface_other_config:MEMBER:KEY)`,
        );
    }
  }
  if (!members) throw bad("type=bond needs members=M1+M2...");
  if (members.length < 2) throw bad("a bond needs at least two members");
  for (const m of Object.keys(perMember)) {
    if (!members.some((x) => x.name === m)) {
      throw bad(`iface_other_config names "${m}", not a member`);
    }
  }
  config.memberLacp = perMember;
  // bridge.c takes the primary only where it can matter.
  if (config.mode !== "active-backup" && !config.lacpFallbackAb) config.primary = null;
  return { config, members };
}

/**
 * A bond's configuration (vswitchd/bridge.c port_configure_bond and
 * iface_configure_lacp): the Port columns and other_config keys OVS reads
 * for a bond, with OVS's defaults.
 *
 * Thread-safety: plain immutable data, cloned into each worker with the
 * bond's shared state.
 */
export type BondMode = "active-backup" | "balance-slb" | "balance-tcp";
export const BOND_MODES: readonly BondMode[] = ["active-backup", "balance-slb", "balance-tcp"];
export type LacpMode = "off" | "active" | "passive";

/** A bond as configured (the Port columns of bridge.c port_configure_bond). */
export interface BondConfig {
  name: string;
  mode: BondMode;
  lacp: LacpMode;
  /** Member interfaces in configuration order. */
  members: readonly { name: string; ofport: number }[];
  /** other_config:bond-hash-basis. */
  basis: number;
  updelay: number;
  downdelay: number;
  /** other_config:bond-rebalance-interval (ms; 0 = never; at least 1000). */
  rebalanceInterval: number;
  /** other_config:bond-primary (active-backup, or with lacp-fallback-ab). */
  primary: string | null;
  lacpFallbackAb: boolean;
  allMembersActive: boolean;
  /** other_config:lacp-system-id (default: the bridge's address). */
  lacpSystemId: string | null;
  /** other_config:lacp-system-priority (0: OVS's default). */
  lacpSystemPriority: number;
  /** other_config:lacp-time=fast. */
  lacpFast: boolean;
  /**
   * Each member Interface's LACP other_config (lacp-port-id,
   * lacp-port-priority, lacp-aggregation-key), by member name; a member
   * left out takes OVS's defaults (its OpenFlow port, 65535, none).
   */
  memberLacp: Readonly<Record<string, MemberLacpConfig>>;
}

/** A member Interface's other_config:lacp-* (bridge.c iface_configure_lacp). */
export interface MemberLacpConfig {
  portId?: number;
  portPriority?: number;
  aggregationKey?: number;
}

/** A bond's configuration with OVS's defaults (Port columns left empty). */
export function defaultBondConfig(name: string, mode: BondMode = "active-backup"): BondConfig {
  return {
    name,
    mode,
    lacp: "off",
    members: [],
    basis: 0,
    updelay: 0,
    downdelay: 0,
    rebalanceInterval: 10000,
    primary: null,
    lacpFallbackAb: false,
    allMembersActive: false,
    lacpSystemId: null,
    lacpSystemPriority: 0,
    lacpFast: false,
    memberLacp: {},
  };
}

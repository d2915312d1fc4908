/**
 * The switch as an OpenFlow connection sees it (the part of OVS's
 * ofproto-provider.h that ofproto.c's request handlers call): the
 * provider interface `Ofconn` and the stats answers use, implemented by
 * the bridge (bridge_openflow.ts). Every operation runs on the main
 * thread and returns without blocking; changes are published to the
 * workers by the bridge, not by the caller.
 *
 * Thread-safety: main thread only.
 */
import type { FlowMod, GroupMod, Rule, RuleRemovedReason } from "../ofproto/mod.ts";
import type {
  DescStats,
  PacketOut,
  PortDesc,
  PortMod,
  PortStats,
  SwitchFeatures,
  TableStats,
} from "../openflow/mod.ts";
import type { GroupView } from "./ofconn_groups.ts";
import type { PacketIn } from "./packet_in_queue.ts";

/**
 * What a connection may do to the switch. Called on the main thread; none
 * blocks. `flowMod` throws OfctlError (as `udpif ofctl` would report it).
 */
export interface OfSwitch {
  features(): SwitchFeatures;
  ports(): PortDesc[];
  /** Every port's counters, in the order OVS lists them (LOCAL first). */
  portStats(): PortStats[];
  desc(): DescStats;
  tableStats(): TableStats[];
  /** Changes a port's config (down, no-flood); throws OfpError for a bad port or address. */
  portMod(pm: PortMod): void;
  /** Runs a packet-out's actions on its packet (translated, then executed by the datapath). */
  packetOut(po: PacketOut): void;
  /**
   * Calls `notify` for each rule with send_flow_rem that a delete or an
   * expiry removes, after the change (on the main thread, synchronously).
   */
  watchRemovals(notify: (rule: Rule, reason: RuleRemovedReason, nowMs: number) => void): void;
  /**
   * Calls `deliver` on the main thread for each packet-in the handlers'
   * controller upcalls produce, until the returned function is called.
   */
  watchPacketIns(deliver: (pin: PacketIn) => void): () => void;
  /**
   * Calls `notify` for each port added (OFPPR_ADD), about to be deleted
   * (OFPPR_DELETE) or whose config changed (OFPPR_MODIFY), with the port
   * as it is then, on the main thread, synchronously.
   */
  watchPorts(notify: (reason: number, port: PortDesc) => void): void;
  /** How many connections want table misses as packet-ins (0: misses drop). */
  setMissWanted(count: number): void;
  /** Applies one flow-mod to the master tables and publishes the change. */
  flowMod(fm: FlowMod): void;
  /** The rules a stats filter selects, with fresh counters. */
  selectRules(filter: FlowMod): Rule[];
  /** Applies a group-mod and publishes the change; throws OfpError (OFPGMFC_*) when refused. */
  groupMod(gm: GroupMod): void;
  /** The groups in dump order, with fresh counters, rule references and age. */
  groups(): GroupView[];
  nowMs(): number;
}

/**
 * The bridge as OpenFlow connections see it (the `OfSwitch` of
 * ofconn.ts): its features and ports, desc and table stats, and flow-mods
 * and flow stats going through the same master tables, publication
 * (`tablesChanged`, which bumps reval_seq so the revalidators re-check
 * datapath flows) and rule-stats draining as `udpif ofctl` uses.
 *
 * Port addresses follow OVS's dummy netdevs (aa:55:aa:55:00:NN, NN the
 * OpenFlow port number; LOCAL aa:55:aa:55:00:00) and the datapath id is
 * OVS's default for that bridge address (0000 + the 48-bit address).
 *
 * Thread-safety: main thread.
 */
import { timeMsec } from "../lib/mod.ts";
import {
  FF_SEND_FLOW_REM,
  type FlowMod,
  type GroupMod,
  N_TABLES,
  OFPP_LOCAL,
  type Rule,
  type RuleRemovedReason,
} from "../ofproto/mod.ts";
import {
  type DescStats,
  OfpError,
  OFPPC10_NO_FLOOD,
  OFPPC_PORT_DOWN,
  type PacketOut,
  type PortDesc,
  type PortMod,
  type PortStats,
  type SwitchFeatures,
  type TableStats,
} from "../openflow/mod.ts";
import type { Bridge } from "./bridge.ts";
import { executePacketOut } from "./packet_out.ts";
import type { OfSwitch } from "./of_switch.ts";
import type { PacketIn } from "./packet_in_queue.ts";
import { groupModOn, type GroupView, groupViewsOf } from "./ofconn_groups.ts";
import { VERSION } from "../unixctl/mod.ts";

/** How long the packet-in drain sleeps between checks for being stopped. */
const PACKET_IN_WAIT_MS = 200;
const DUMMY_MAC_BASE = 0xaa55aa550000n;
/** Tables 0..253 are visible; 254 is OVS's hidden table. */
const VISIBLE_TABLES = N_TABLES - 1;

export class BridgeOpenFlow implements OfSwitch {
  readonly #createdMs = timeMsec();

  constructor(private readonly bridge: Bridge) {}

  /**
   * The bridge's ports, patch ports included, LOCAL first, then by number
   * (the order OVS's replies had); each with its counters, the
   * datapath's or, for a patch port, translation's (patch_counters.ts).
   */
  #sortedPorts() {
    const rank = (ofport: number) => (ofport === OFPP_LOCAL ? -1 : ofport);
    const dp = this.bridge.dp;
    const counters = this.bridge.backer.patchCounters;
    return [
      ...this.bridge.allPorts().map((p) => ({
        name: p.name,
        ofport: p.ofport,
        up: p.up,
        // The bridge's own tap is described as up, as before (its admin
        // state is not followed); a system port's carrier is.
        carrier: p.carrier || p.type !== "system",
        flood: p.flood,
        counts: () => {
          const [rxPackets, rxBytes, txPackets, txBytes] = dp.portStats(p.odpPort);
          return { rxPackets, rxBytes, txPackets, txBytes };
        },
      })),
      ...this.bridge.patchPorts.map((p) => ({
        name: p.name,
        ofport: p.ofport,
        up: true,
        carrier: true,
        flood: p.flood,
        counts: () => counters.read(p.patchSlot),
      })),
    ].sort((a, b) => rank(a.ofport) - rank(b.ofport));
  }

  ports(): PortDesc[] {
    const all = this.#sortedPorts();
    return all.map((p) => ({
      portNo: p.ofport,
      name: p.name,
      hwAddr: DUMMY_MAC_BASE + (p.ofport === OFPP_LOCAL ? 0n : BigInt(p.ofport & 0xff)),
      config: (p.up ? 0 : OFPPC_PORT_DOWN) | (p.flood ? 0 : OFPPC10_NO_FLOOD),
      // A port taken down has its link down too, as OVS's netdevs do; so
      // has a system port without carrier (netdev_get_carrier).
      linkDown: !p.up || !p.carrier,
    }));
  }

  /**
   * Each port's counters. Ports are created with the bridge, so their
   * duration counts from when this endpoint was made with it.
   */
  portStats(): PortStats[] {
    const duration = Math.max(0, timeMsec() - this.#createdMs);
    return this.#sortedPorts().map((p) => ({
      portNo: p.ofport,
      ...p.counts(),
      durationMs: duration,
    }));
  }

  features(): SwitchFeatures {
    return { datapathId: DUMMY_MAC_BASE, nTables: VISIBLE_TABLES, ports: this.ports() };
  }

  desc(): DescStats {
    return {
      manufacturer: "udpif",
      hardware: "udpif userspace switch",
      software: VERSION,
      serial: "None",
      datapath: this.bridge.name,
    };
  }

  tableStats(): TableStats[] {
    const active = new Array<number>(VISIBLE_TABLES).fill(0);
    for (const r of this.bridge.tables.rules()) if (r.tableId < VISIBLE_TABLES) active[r.tableId]++;
    return active.map((activeCount, tableId) => ({
      tableId,
      activeCount,
      lookupCount: 0n,
      matchedCount: 0n,
    }));
  }

  /** OFPT_PORT_MOD: `udpif ofctl mod-port`'s up/down and flood/no-flood. */
  portMod(pm: PortMod): void {
    const port = this.ports().find((p) => p.portNo === pm.portNo);
    if (!port) throw new OfpError("OFPPMFC_BAD_PORT");
    if (port.hwAddr !== pm.hwAddr) throw new OfpError("OFPPMFC_BAD_HW_ADDR");
    if (pm.mask & OFPPC_PORT_DOWN) {
      this.bridge.modPort(port.name, pm.config & OFPPC_PORT_DOWN ? "down" : "up");
    }
    if (pm.mask & OFPPC10_NO_FLOOD) {
      this.bridge.modPort(port.name, pm.config & OFPPC10_NO_FLOOD ? "no-flood" : "flood");
    }
  }

  /** OFPT_PACKET_OUT (packet_out.ts). */
  packetOut(po: PacketOut): void {
    executePacketOut(this.bridge, po);
  }

  watchRemovals(notify: (rule: Rule, reason: RuleRemovedReason, nowMs: number) => void): void {
    this.bridge.tables.onRemoved = (rule, reason, nowMs) => {
      if (rule.flags & FF_SEND_FLOW_REM) notify(rule, reason, nowMs);
    };
  }

  /** Port statuses from the bridge's port changes (port/add, port/del, mod-port). */
  watchPorts(notify: (reason: number, port: PortDesc) => void): void {
    this.bridge.onPortStatus = (reason, name) => {
      const port = this.ports().find((p) => p.name === name);
      if (port) notify(reason, port);
    };
  }

  /**
   * Drains the bridge's packet-in queue whenever a handler publishes into
   * it; stops at the returned function.
   */
  watchPacketIns(deliver: (pin: PacketIn) => void): () => void {
    let stopped = false;
    const queue = this.bridge.packetIns;
    (async () => {
      while (!stopped) {
        queue.drain(this.bridge.recircIds, deliver);
        await queue.waitAsync(PACKET_IN_WAIT_MS);
      }
    })();
    return () => {
      stopped = true;
      queue.wake();
    };
  }

  setMissWanted(count: number): void {
    this.bridge.packetIns.setMissWanted(count);
  }

  flowMod(fm: FlowMod): void {
    this.bridge.tablesChanged(this.bridge.tables.flowMods([fm], fm.strict, timeMsec()));
  }

  selectRules(filter: FlowMod): Rule[] {
    this.bridge.drainStats();
    return this.bridge.tables.selectRules(filter);
  }

  groupMod(gm: GroupMod): void {
    this.bridge.tablesChanged(groupModOn(this.bridge.tables, gm, timeMsec()));
  }

  groups(): GroupView[] {
    this.bridge.drainStats();
    return groupViewsOf(this.bridge.tables, timeMsec());
  }

  nowMs(): number {
    return timeMsec();
  }
}

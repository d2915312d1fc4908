/**
 * An `OfSwitch` over real OfTables and nothing else (one port, p1): what
 * the Ofconn unit tests and the OpenFlow fuzz target run connections
 * against, without a daemon. Packet-outs and port-mods are recorded.
 */
import { type FlowMod, type GroupMod, OfTables, type Rule } from "../../../src/ofproto/mod.ts";
import { OfpError, type PacketOut, type PortMod } from "../../../src/openflow/mod.ts";
import type { OfSwitch } from "../../../src/daemon/of_switch.ts";
import { groupModOn, groupViewsOf } from "../../../src/daemon/ofconn_groups.ts";

export class TablesSwitch implements OfSwitch {
  tables = new OfTables();
  now = 1000;
  /** `nTables`: how many tables the features reply announces (OVS's 254 by default). */
  constructor(private readonly nTables = 254) {}
  features() {
    return { datapathId: 1n, nTables: this.nTables, ports: this.ports() };
  }
  ports() {
    return [{ portNo: 1, name: "p1", hwAddr: 0xaa55aa550001n, config: 0, linkDown: false }];
  }
  desc() {
    return { manufacturer: "m", hardware: "h", software: "s", serial: "n", datapath: "d" };
  }
  tableStats() {
    return [{ tableId: 0, activeCount: this.tables.nRules, lookupCount: 0n, matchedCount: 0n }];
  }
  watchRemovals() {}
  watchPorts() {}
  watchPacketIns() {
    return () => {};
  }
  setMissWanted() {}
  portStats() {
    return [{ portNo: 1, rxPackets: 1, rxBytes: 60, txPackets: 2, txBytes: 120, durationMs: 1500 }];
  }
  packetOuts: PacketOut[] = [];
  packetOut(po: PacketOut) {
    this.packetOuts.push(po);
  }
  portMods: PortMod[] = [];
  portMod(pm: PortMod) {
    if (pm.portNo !== 1) throw new OfpError("OFPPMFC_BAD_PORT");
    this.portMods.push(pm);
  }
  flowMod(fm: FlowMod) {
    this.tables.flowMods([fm], fm.strict, this.now);
  }
  selectRules(filter: FlowMod): Rule[] {
    return this.tables.selectRules(filter);
  }
  groupMod(gm: GroupMod) {
    groupModOn(this.tables, gm, this.now);
  }
  groups() {
    return groupViewsOf(this.tables, this.now);
  }
  nowMs() {
    return this.now;
  }
}

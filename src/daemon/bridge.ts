/**
 * The bridge: one OpenFlow switch (OVS's ofproto-dpif) on a datapath
 * backer (backer.ts) that it may share with other bridges. It owns the
 * port list (names, OpenFlow and datapath numbers, netdevs, VLAN
 * settings, flood/up flags), the OpenFlow tables and the MAC table, and
 * connects them to the backer's datapath and udpif:
 *
 *     ports --netdevs--> the backer's datapath (DpifNetdev, PMD worker)
 *     datapath --upcalls--> the backer's udpif (handler + revalidator workers)
 *     udpif --BackerXlate--> this bridge's BridgeXlate over its tables + MAC learning
 *     OpenFlow tables (master, here) --TablesUpdate + bridge id--> every worker's replica
 *     workers --the backer's RuleStatsQueue--> rule counters in the master tables
 *
 * Port changes become a new port list for translation, and any change
 * that can alter a translation bumps the udpif's revalidation sequence.
 *
 * Thread-safety: main thread. Workers are started by the datapath and
 * the udpif; this object only talks to them through their interfaces.
 */
import type { DpifNetdev } from "../dpif/mod.ts";
import { CommandError, type CoverageCounter, coverageCounter, timeMsec } from "../lib/mod.ts";
import type { Netdev } from "../netdev/mod.ts";
import { MacLearning, OFPP_LOCAL, OfTables, type TablesUpdate } from "../ofproto/mod.ts";
import { OFPPR_ADD, OFPPR_DELETE, OFPPR_MODIFY } from "../openflow/mod.ts";
import type { Udpif } from "../upcall/mod.ts";
import { type PortSpec as XPortSpec, type RecircIdPool, XBridge } from "../xlate/mod.ts";
import { Backer } from "./backer.ts";
import type { BackerSupport } from "./backer_support.ts";
import type { BridgeXlateInit } from "./bridge_xlate.ts";
import { PacketInQueue } from "./packet_in_queue.ts";
import type { OtherConfig } from "./other_config.ts";
import { applyPortSettings, PortConfigError, type PortVlanConfig } from "./port_config.ts";
import type { PortSpec, PortType } from "./port_spec.ts";
import type { PortIo } from "./port_io.ts";
import { openBridgePort } from "./port_runtime.ts";
import { BridgeLearning } from "./bridge_learn.ts";
import { BridgeBonds } from "./bridge_bonds.ts";
import { modPatchPort, type PatchPort, patchPortsOf, patchPortSpec } from "./patch_port.ts";

/*
 * Why the bridge asked for revalidation (OVS's need_revalidate reasons),
 * counted once per change, as ofproto-dpif's type_run counts once per main
 * loop run that needed revalidating.
 */
const covRevReconfigure = coverageCounter("rev_reconfigure");
const covRevPortToggled = coverageCounter("rev_port_toggled");
const covRevFlowTable = coverageCounter("rev_flow_table");

export type DatapathType = "netdev" | "dummy";

/** OpenFlow port config bits that `ofctl mod-port` changes. */
export type PortModAction = "flood" | "no-flood" | "up" | "down";

export interface BridgePort {
  name: string;
  ofport: number;
  /** The datapath's number for the port. */
  odpPort: number;
  type: PortType | "internal";
  options: Record<string, string>;
  netdev: Netdev;
  /** The pcap files and sockets its options name. */
  io: PortIo;
  vlan: PortVlanConfig;
  /** False after `mod-port ... no-flood`: left out of flooding. */
  flood: boolean;
  /** False after `mod-port ... down`: nothing is forwarded to it. */
  up: boolean;
  /** A Linux port's carrier (IFF_RUNNING, port_link.ts); other ports always have it. */
  carrier: boolean;
}

export interface BridgeOptions {
  name: string;
  datapathType: DatapathType;
  ports: PortSpec[];
  config: OtherConfig;
}

export class Bridge {
  readonly name: string;
  /** The datapath backer the bridge is on, with the bridges it shares it with. */
  readonly backer: Backer;
  /** The bridge's id in its backer (carried by its translation updates and rule credits). */
  readonly id: number;
  readonly tables = new OfTables();
  readonly ml = MacLearning.create();
  /** Controller upcalls from the handlers, for the OpenFlow connections. */
  readonly packetIns = PacketInQueue.create();
  /** Learned flows from every translation to the tables (bridge_learn.ts). */
  readonly learning = new BridgeLearning(this.tables, (u, c) => this.tablesChanged(u, c));
  readonly #ports = new Map<string, BridgePort>();
  readonly bonds: BridgeBonds;
  /** Patch ports: no netdev, no datapath port (patch_port.ts). */
  readonly patchPorts: readonly PatchPort[];
  /** Told of a port added, about to be deleted or changed (OFPPR_*), for port statuses. */
  onPortStatus: (reason: number, name: string) => void = () => {};
  /** The MAC table's changeSeq at the last `run`. */
  #mlSeq = 0;
  /** The udpif's dump_seq when rules were last checked for expiry. */
  #expireDumpSeq = -1;
  /** What udpif workers start this bridge's translation from (cloned at each start). */
  readonly xlateInit: BridgeXlateInit;

  private constructor(
    backer: Backer,
    id: number,
    name: string,
    ports: BridgePort[],
    patchPorts: PatchPort[],
    specs: readonly PortSpec[],
  ) {
    this.backer = backer;
    this.id = id;
    this.name = name;
    for (const p of ports) this.#ports.set(p.name, p);
    this.patchPorts = patchPorts;
    this.bonds = BridgeBonds.of(this, specs);
    this.xlateInit = {
      bridge: name,
      id,
      ports: this.#xlatePorts(),
      mac: this.ml.buffer,
      ruleStats: backer.ruleStats.buffer,
      learn: this.learning.queue.buffer,
      uuid: crypto.getRandomValues(new Uint8Array(16)),
      recirc: backer.recircIds.buffer,
      packetIns: this.packetIns.init,
      patchCounters: backer.patchCounters.buffer,
      vlanLimit: backer.config.get("vlan-limit")!,
    };
  }

  /**
   * A daemon's single bridge: a backer of its own with this one bridge
   * (`destroy` takes both down).
   */
  static async create(options: BridgeOptions): Promise<Bridge> {
    const backer = await Backer.create({
      datapathType: options.datapathType,
      config: options.config,
      bridges: [{ name: options.name, ports: options.ports }],
    });
    return backer.bridges[0];
  }

  /** Backer only: bridge `id` with its local port and `specs` added to the backer's datapath. */
  static async open(backer: Backer, id: number, name: string, specs: PortSpec[]): Promise<Bridge> {
    const ports: BridgePort[] = [];
    try {
      ports.push(await openBridgePort(backer, name, OFPP_LOCAL, "internal", {}));
      for (const p of specs) {
        if (p.type !== "patch") {
          ports.push(await openBridgePort(backer, p.name, p.ofport, p.type, p.options));
        }
      }
    } catch (e) {
      for (const p of ports) p.io.close();
      throw e;
    }
    const patches = patchPortsOf(specs, (n) => backer.patchSlot(n));
    return new Bridge(backer, id, name, ports, patches, specs);
  }

  get datapathType(): DatapathType {
    return this.backer.datapathType;
  }

  get config(): OtherConfig {
    return this.backer.config;
  }

  /** The backer's datapath. */
  get dp(): DpifNetdev {
    return this.backer.dp;
  }

  /** What the backer's datapath turned out to support when it was opened. */
  get support(): BackerSupport {
    return this.backer.support;
  }

  /** The backer's recirculation id pool. */
  get recircIds(): RecircIdPool {
    return this.backer.recircIds;
  }

  /** The backer's udpif. */
  get udpif(): Udpif {
    return this.backer.udpif;
  }

  /** The translation init with the ports and tables as they are now (for workers started later). */
  xlateSnapshot(): BridgeXlateInit {
    return { ...this.xlateInit, ports: this.#xlatePorts(), tables: this.tables.snapshotUpdate() };
  }

  /** The port called `name`, the bridge's own included. */
  portByName(name: string): BridgePort | undefined {
    return this.#ports.get(name);
  }

  /** Takes in a port opened at run time (port_runtime.ts) and tells translation. */
  attachPort(port: BridgePort): void {
    this.#ports.set(port.name, port);
    this.portsChanged();
    this.onPortStatus(OFPPR_ADD, port.name);
  }

  /** Lets go of port `port` (port_runtime.ts closes it): its MACs are forgotten, translation told. */
  detachPort(port: BridgePort): void {
    this.onPortStatus(OFPPR_DELETE, port.name);
    this.#ports.delete(port.name);
    this.ml.flushPort(port.ofport);
    this.portsChanged();
  }

  /** Every port, the bridge's own (LOCAL) included. */
  allPorts(): BridgePort[] {
    return [...this.#ports.values()];
  }

  /** Every port but the bridge's own, in OpenFlow port order. */
  ports(): BridgePort[] {
    return [...this.#ports.values()].filter((p) => p.ofport !== OFPP_LOCAL)
      .sort((a, b) => a.ofport - b.ofport);
  }

  /** The port called `name` or numbered `name`; throws CommandError when there is none. */
  port(nameOrNumber: string): BridgePort {
    const byName = this.#ports.get(nameOrNumber);
    if (byName) return byName;
    if (/^[0-9]+$/.test(nameOrNumber)) {
      const n = Number(nameOrNumber);
      const byNumber = [...this.#ports.values()].find((p) => p.ofport === n);
      if (byNumber) return byNumber;
    }
    throw new CommandError(`${this.name}: no port named ${nameOrNumber}`);
  }

  #xlatePorts(): XPortSpec[] {
    return [...this.#ports.values()].map((p): XPortSpec => ({
      name: p.name,
      ofport: p.ofport,
      odpPort: p.odpPort,
      tag: p.vlan.tag,
      trunks: p.vlan.trunks,
      vlanMode: p.vlan.vlanMode,
      noFlood: !p.flood,
      noForward: !p.up,
      linkDown: !p.carrier,
      bond: this.bonds.initOf(p.ofport),
    })).concat(this.patchPorts.map(patchPortSpec));
  }

  /** The ports as translation sees them now (for ofproto/trace on the main thread). */
  xbridge(): XBridge {
    return new XBridge(this.name, this.#xlatePorts());
  }

  /** Tells every translation about the new port list and revalidates (a port's carrier changed, ...). */
  portsChanged(reason: CoverageCounter = covRevReconfigure): void {
    this.backer.postXlateUpdate(this.id, { type: "ports", ports: this.#xlatePorts() });
    reason.inc();
    this.udpif.revalidate();
  }

  /** `port/set PORT KEY=VALUE...` on a port, or on all of a bond's `names`; all settings or none. */
  setPort(names: string | readonly string[], settings: string[]): void {
    const ports = (typeof names === "string" ? [names] : names).map((n) => this.port(n));
    let vlan;
    try {
      vlan = applyPortSettings(ports[0].vlan, settings);
    } catch (e) {
      if (e instanceof PortConfigError) throw new CommandError(e.message);
      throw e;
    }
    for (const port of ports) {
      port.vlan = vlan;
      this.ml.flushPort(port.ofport);
    }
    this.portsChanged();
  }

  /** `ofctl mod-port BRIDGE PORT ACTION` (a patch port's: patch_port.ts). */
  modPort(name: string, action: PortModAction): void {
    this.#modPort(name, action);
    this.onPortStatus(OFPPR_MODIFY, name);
  }

  #modPort(name: string, action: PortModAction): void {
    if (modPatchPort(this.patchPorts, name, action, () => this.portsChanged())) return;
    const port = this.port(name);
    if (action === "flood" || action === "no-flood") port.flood = action === "flood";
    else port.up = action === "up";
    this.bonds.run();
    // Flooding is port configuration; up/down toggles whether the port may forward.
    this.portsChanged(
      action === "flood" || action === "no-flood" ? covRevReconfigure : covRevPortToggled,
    );
  }

  /**
   * Publishes a table change to the workers and revalidates; null means
   * nothing changed. Not `counted`: a packet-out's learning, which OVS
   * applies without a revalidation reason (no rev_flow_table).
   */
  tablesChanged(update: TablesUpdate | null, counted = true): void {
    if (!update) return;
    this.backer.postXlateUpdate(this.id, update);
    if (counted) covRevFlowTable.inc();
    this.udpif.revalidate();
  }

  /**
   * Periodic work (every tick and after each time/warp): credits the
   * workers' rule stats, expires rules past their timeouts, ages MAC
   * entries, and collects transmitted frames for tx recorders.
   */
  run(): void {
    this.drainStats();
    this.bonds.run();
    this.expireRun();
    this.ml.run(timeMsec());
    this.macLearningRun();
    this.pollTx();
  }

  /**
   * Expires rules past their timeouts, but only once the revalidators
   * have finished a dump since the last check (dump_seq moved), as
   * ofproto-dpif's run does: only then do the rules' `used` times include
   * the datapath's latest traffic, so a time/warp alone never idles out a
   * rule whose megaflow was hit since the last dump.
   */
  expireRun(): void {
    const dumpSeq = this.udpif.shared.dumpSeq.read();
    if (dumpSeq === this.#expireDumpSeq) return;
    this.#expireDumpSeq = dumpSeq;
    this.drainStats();
    this.tablesChanged(this.tables.expire(timeMsec()));
  }

  /** The backer's `macLearningRun`: every bridge's MAC table, one revalidation. */
  macLearningRun(): void {
    this.backer.macLearningRun();
  }

  /**
   * Whether any entry was set, moved, expired or flushed since the last
   * call (by any thread), as OVS's mac_learning_run tells. Cheap: one
   * shared-memory read.
   */
  takeMacChange(): boolean {
    const mlSeq = this.ml.changeSeq;
    if (mlSeq === this.#mlSeq) return false;
    this.#mlSeq = mlSeq;
    return true;
  }

  /** Applies queued learns, then moves queued rule credits into the master tables' counters (every bridge's of the backer). */
  drainStats(): void {
    this.backer.drainStats();
  }

  /** Whether some port records or forwards what the datapath sends (tx must be polled often). */
  get wantsTx(): boolean {
    return [...this.#ports.values()].some((p) => p.io.wantsTx);
  }

  /** Collects frames the datapath sent, for the ports that record or forward them. */
  pollTx(): void {
    for (const p of this.#ports.values()) if (p.io.wantsTx) p.netdev.pollTx();
  }

  /** Loads `--flows` rules (ovs-ofctl add-flows syntax); throws OfctlError naming the line. */
  loadFlows(text: string): void {
    this.tablesChanged(this.tables.addFlows(text, timeMsec()));
  }

  /** Starts the ports' `rx_pcap` traffic (once the switch is ready for it). */
  startRx(): void {
    for (const p of this.#ports.values()) p.io.startRx(p.netdev);
  }

  /** Closes the ports' files and sockets (the backer's, once its workers stopped). */
  closePorts(): void {
    for (const p of this.#ports.values()) p.io.close();
  }

  /** Stops the backer (the udpif's workers, then the datapath's) and closes every bridge's ports. */
  destroy(): Promise<void> {
    return this.backer.destroy();
  }
}

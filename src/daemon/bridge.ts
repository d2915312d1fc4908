/**
 * The bridge: where one switch is put together. It owns the port list
 * (names, OpenFlow and datapath numbers, netdevs, VLAN settings,
 * flood/up flags) and connects the layers:
 *
 *     ports --netdevs--> datapath (DpifNetdev, PMD worker)
 *     datapath --upcalls--> udpif (handler + revalidator workers)
 *     udpif --BridgeXlate--> xlate over the OpenFlow tables + MAC learning
 *     OpenFlow tables (master, here) --TablesUpdate--> every worker's replica
 *     workers --RuleStatsQueue--> rule counters in the master tables
 *
 * Configuration flows the same way: `other_config` changes reach the
 * udpif and the datapath, port changes become a new port list for
 * translation, and any change that can alter a translation bumps the
 * udpif's revalidation sequence.
 *
 * Thread-safety: main thread. Workers are started by the datapath and
 * the udpif; this object only talks to them through their interfaces.
 */
import { Dpif, DpifNetdev } from "../dpif/mod.ts";
import { setVlanLimit } from "../flow/mod.ts";
import {
  CommandError,
  type CoverageCounter,
  coverageCounter,
  getLogger,
  timeMsec,
} from "../lib/mod.ts";
import type { Netdev } from "../netdev/mod.ts";
import { MacLearning, OFPP_LOCAL, OfTables, type TablesUpdate } from "../ofproto/mod.ts";
import { Udpif } from "../upcall/mod.ts";
import { type PortSpec as XPortSpec, RecircIdPool, XBridge } from "../xlate/mod.ts";
import { type BackerSupport, checkSupport } from "./backer_support.ts";
import { BridgeXlate, type BridgeXlateInit } from "./bridge_xlate.ts";
import { PacketInQueue } from "./packet_in_queue.ts";
import { applyDatapathConfig, pmdCores } from "./datapath_config.ts";
import type { OtherConfig } from "./other_config.ts";
import { UDPIF_KEYS } from "./udpif_keys.ts";
import { applyPortSettings, PortConfigError, type PortVlanConfig } from "./port_config.ts";
import type { PortSpec, PortType } from "./port_spec.ts";
import type { PortIo } from "./port_io.ts";
import { openPortNetdev } from "./port_netdev.ts";
import { RuleStatsQueue } from "./rule_stats.ts";
import { BridgeLearning } from "./bridge_learn.ts";
import { BridgeBonds } from "./bridge_bonds.ts";

const log = getLogger("bridge");
/*
 * Why the bridge asked for revalidation (OVS's need_revalidate reasons),
 * counted once per change, as ofproto-dpif's type_run counts once per main
 * loop run that needed revalidating.
 */
const covRevReconfigure = coverageCounter("rev_reconfigure");
const covRevPortToggled = coverageCounter("rev_port_toggled");
const covRevFlowTable = coverageCounter("rev_flow_table");
const covRevMacLearning = coverageCounter("rev_mac_learning");

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
}

export interface BridgeOptions {
  name: string;
  datapathType: DatapathType;
  ports: PortSpec[];
  config: OtherConfig;
}

export class Bridge {
  readonly name: string;
  readonly datapathType: DatapathType;
  readonly config: OtherConfig;
  readonly dp: DpifNetdev;
  /** What the datapath turned out to support when it was opened. */
  readonly support: BackerSupport;
  readonly tables = new OfTables();
  readonly ml = MacLearning.create();
  /** Recirculation ids, one pool for the main thread and every worker. */
  readonly recircIds = new RecircIdPool();
  /** Controller upcalls from the handlers, for the OpenFlow connections. */
  readonly packetIns = PacketInQueue.create();
  readonly udpif: Udpif;
  readonly #stats = RuleStatsQueue.create();
  /** Learned flows from every translation to the tables (bridge_learn.ts). */
  readonly learning = new BridgeLearning(this.tables, (u, c) => this.tablesChanged(u, c));
  readonly #ports = new Map<string, BridgePort>();
  readonly bonds: BridgeBonds;
  /** The MAC table's changeSeq at the last `run`. */
  #mlSeq = 0;
  /** The udpif's dump_seq when rules were last checked for expiry. */
  #expireDumpSeq = -1;
  /** What udpif workers start their translation from (cloned at each start). */
  readonly #xlateInit: BridgeXlateInit;

  private constructor(
    options: BridgeOptions,
    dp: DpifNetdev,
    support: BackerSupport,
    ports: BridgePort[],
  ) {
    this.name = options.name;
    this.datapathType = options.datapathType;
    this.config = options.config;
    this.dp = dp;
    this.support = support;
    for (const p of ports) this.#ports.set(p.name, p);
    this.bonds = BridgeBonds.of(this, options.ports);
    const init: BridgeXlateInit = {
      bridge: this.name,
      ports: this.#xlatePorts(),
      mac: this.ml.buffer,
      ruleStats: this.#stats.buffer,
      learn: this.learning.queue.buffer,
      uuid: crypto.getRandomValues(new Uint8Array(16)),
      recirc: this.recircIds.buffer,
      packetIns: this.packetIns.init,
      vlanLimit: options.config.get("vlan-limit")!,
    };
    this.#xlateInit = init;
    this.udpif = new Udpif({
      dp,
      xlateModule: new URL("./bridge_xlate.ts", import.meta.url).href,
      xlateInit: init,
      mainXlate: new BridgeXlate(init, this.tables),
      xlateSnapshot: () => ({
        ...init,
        ports: this.#xlatePorts(),
        tables: this.tables.snapshotUpdate(),
      }),
    });
    // Workers start later (at configure) and clone `init` then.
  }

  /**
   * Creates the datapath with the bridge's local port and the given
   * ports, the OpenFlow tables and the udpif, configured from
   * `options.config`; follows later config changes.
   */
  static async create(options: BridgeOptions): Promise<Bridge> {
    const dp = DpifNetdev.create(options.datapathType, { pmdCores: pmdCores(options.config) });
    // The datapath reads flow keys with the VLAN limit, probes included,
    // and ovs-vswitchd sets it before it opens a datapath.
    dp.setVlanLimit(options.config.get("vlan-limit")!);
    await dp.ready();
    const ports: BridgePort[] = [];
    const add = async (
      name: string,
      ofport: number,
      type: BridgePort["type"],
      o: Record<string, string>,
    ) => {
      const { netdev, io } = await openPortNetdev(name, type, options.datapathType, o);
      try {
        const odpPort = dp.portAdd(netdev);
        ports.push({
          name,
          ofport,
          odpPort,
          type,
          options: o,
          netdev,
          io,
          vlan: {},
          flood: true,
          up: true,
        });
      } catch (e) {
        io.close();
        throw e;
      }
    };
    let support: BackerSupport;
    try {
      // As open_dpif_backer() does, before the bridge's ports are added.
      support = checkSupport(new Dpif(dp));
      await add(options.name, OFPP_LOCAL, "internal", {});
      for (const p of options.ports) await add(p.name, p.ofport, p.type, p.options);
    } catch (e) {
      for (const p of ports) p.io.close();
      dp.destroy();
      throw e;
    }
    const bridge = new Bridge(options, dp, support, ports);
    bridge.#applyVlanLimit();
    await bridge.#configure(new Set(Object.keys(UDPIF_KEYS)));
    applyDatapathConfig(dp, options.config);
    options.config.onChange((changed) => {
      if (changed.has("vlan-limit")) {
        bridge.#applyVlanLimit();
        bridge.udpif.postXlateUpdate({ type: "vlan-limit", limit: bridge.#xlateInit.vlanLimit });
        bridge.udpif.revalidate();
      }
      applyDatapathConfig(dp, options.config, changed);
      bridge.#configure(new Set(changed.keys())).catch((e) =>
        log.error(`applying other_config failed: ${e instanceof Error ? e.message : e}`)
      );
    });
    log.info(`bridge ${bridge.name}: added with ${options.ports.length} ports on ${dp.name}`);
    return bridge;
  }

  /**
   * other_config:vlan-limit is a global of each thread's flow module (as
   * OVS's flow_vlan_limit): this thread's, the PMD's through the datapath,
   * and the udpif workers' through their translation init (running
   * workers get a `vlan-limit` update from the caller).
   */
  #applyVlanLimit(): void {
    const n = this.config.get("vlan-limit")!;
    setVlanLimit(n);
    this.dp.setVlanLimit(n);
    this.#xlateInit.vlanLimit = n;
  }

  async #configure(keys: Set<string>): Promise<void> {
    const cfg: Record<string, number> = {};
    for (const [key, field] of Object.entries(UDPIF_KEYS)) {
      if (keys.has(key)) cfg[field] = this.config.get(key) ?? 0;
    }
    if (Object.keys(cfg).length) await this.udpif.configure(cfg);
  }

  /** The port called `name`, the bridge's own included. */
  portByName(name: string): BridgePort | undefined {
    return this.#ports.get(name);
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
    return [...this.#ports.values()].map((p) => ({
      name: p.name,
      ofport: p.ofport,
      odpPort: p.odpPort,
      tag: p.vlan.tag,
      trunks: p.vlan.trunks,
      vlanMode: p.vlan.vlanMode,
      noFlood: !p.flood,
      noForward: !p.up,
      bond: this.bonds.initOf(p.ofport),
    }));
  }

  /** The ports as translation sees them now (for ofproto/trace on the main thread). */
  xbridge(): XBridge {
    return new XBridge(this.name, this.#xlatePorts());
  }

  /** Tells every translation about the new port list and revalidates. */
  #portsChanged(reason: CoverageCounter = covRevReconfigure): void {
    this.udpif.postXlateUpdate({ type: "ports", ports: this.#xlatePorts() });
    reason.inc();
    this.udpif.revalidate();
  }

  /** `port/set PORT KEY=VALUE...`; all settings or none. */
  setPort(name: string, settings: string[]): BridgePort {
    const port = this.port(name);
    try {
      port.vlan = applyPortSettings(port.vlan, settings);
    } catch (e) {
      if (e instanceof PortConfigError) throw new CommandError(e.message);
      throw e;
    }
    this.ml.flushPort(port.ofport);
    this.#portsChanged();
    return port;
  }

  /** `ofctl mod-port BRIDGE PORT ACTION`. */
  modPort(name: string, action: PortModAction): BridgePort {
    const port = this.port(name);
    if (action === "flood" || action === "no-flood") port.flood = action === "flood";
    else port.up = action === "up";
    this.bonds.run();
    // Flooding is port configuration; up/down toggles whether the port may forward.
    this.#portsChanged(
      action === "flood" || action === "no-flood" ? covRevReconfigure : covRevPortToggled,
    );
    return port;
  }

  /**
   * Publishes a table change to the workers and revalidates; null means
   * nothing changed. Not `counted`: a packet-out's learning, which OVS
   * applies without a revalidation reason (no rev_flow_table).
   */
  tablesChanged(update: TablesUpdate | null, counted = true): void {
    if (!update) return;
    this.udpif.postXlateUpdate(update);
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

  /**
   * As OVS's mac_learning_run in the main loop: any entry set, moved,
   * expired or flushed since the last call (by any thread) may change
   * NORMAL's answers, so it asks for one revalidation (REV_MAC_LEARNING),
   * however many changes there were. Cheap: one shared-memory read.
   */
  macLearningRun(): void {
    const mlSeq = this.ml.changeSeq;
    if (mlSeq !== this.#mlSeq) {
      this.#mlSeq = mlSeq;
      covRevMacLearning.inc();
      this.udpif.revalidate();
    }
  }

  /** Applies queued learns, then moves queued rule credits into the master tables' counters. */
  drainStats(): void {
    this.learning.run(timeMsec());
    this.#stats.drain((id, packets, bytes, used) =>
      this.tables.creditStats(id, packets, bytes, used)
    );
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

  /** Stops the udpif's workers, then the datapath's, and closes the ports' files and sockets. */
  async destroy(): Promise<void> {
    await this.udpif.destroy();
    this.dp.destroy();
    for (const p of this.#ports.values()) p.io.close();
  }
}

/**
 * The datapath backer: one datapath and one udpif shared by every bridge
 * of a datapath type, as OVS's `struct dpif_backer` (ofproto-dpif.c,
 * open_dpif_backer and type_run) is shared by every ofproto-dpif of type
 * netdev. Each bridge (bridge.ts) keeps its own OpenFlow tables, ports,
 * OpenFlow port numbers and MAC table; the backer owns what they have in
 * common:
 *
 *     DpifNetdev (one datapath, ovs-netdev, every bridge's ports on it)
 *     Udpif (handlers + revalidators) translating through BackerXlate,
 *       which finds a flow's bridge from its datapath in_port
 *     the recirculation id pool, the rule stats queue and the patch
 *       ports' packet counters
 *     other_config, applied to the datapath and the udpif
 *
 * A bridge has an id, its index in `bridges`; every translation update
 * the main thread sends carries it (`BackerXlateUpdate`), and every rule
 * credit the workers queue names it.
 *
 * Thread-safety: main thread. The workers are the datapath's and the
 * udpif's; the backer talks to them only through those objects.
 */
import { Dpif, DpifNetdev } from "../dpif/mod.ts";
import { setVlanLimit } from "../flow/mod.ts";
import { coverageCounter, getLogger, timeMsec } from "../lib/mod.ts";
import { Udpif } from "../upcall/mod.ts";
import { PatchCounters, RecircIdPool } from "../xlate/mod.ts";
import { type BackerSupport, checkSupport } from "./backer_support.ts";
import { BackerXlate, type BackerXlateInit } from "./backer_xlate.ts";
import { Bridge, type DatapathType } from "./bridge.ts";
import type { BridgeXlateUpdate } from "./bridge_xlate.ts";
import { applyDatapathConfig, pmdCores, pmdSlots } from "./datapath_config.ts";
import type { OtherConfig } from "./other_config.ts";
import type { PortSpec } from "./port_spec.ts";
import { RuleStatsQueue } from "./rule_stats.ts";
import { UDPIF_KEYS } from "./udpif_keys.ts";

const log = getLogger("bridge");
/* OVS's REV_MAC_LEARNING reason, counted once per backer run that needed it (type_run). */
const covRevMacLearning = coverageCounter("rev_mac_learning");

/** One bridge to create: its name and its ports (numbered already). */
export interface BridgeSpec {
  name: string;
  ports: PortSpec[];
}

export interface BackerOptions {
  datapathType: DatapathType;
  config: OtherConfig;
  /** The bridges, in id order (a daemon's first bridge is its default). */
  bridges: BridgeSpec[];
}

export class Backer {
  readonly datapathType: DatapathType;
  readonly config: OtherConfig;
  readonly dp: DpifNetdev;
  /** What the datapath turned out to support when it was opened. */
  readonly support: BackerSupport;
  /** Recirculation ids, one pool for the main thread and every worker. */
  readonly recircIds = new RecircIdPool();
  /** Rule credits from every translation, each naming its bridge. */
  readonly ruleStats = RuleStatsQueue.create();
  /** Every bridge's patch ports' packet counters, a slot each (`patchSlot`). */
  readonly patchCounters: PatchCounters;
  readonly #patchSlots = new Map<string, number>();
  readonly udpif: Udpif;
  /** The bridges, indexed by id. */
  readonly bridges: Bridge[] = [];
  /** What udpif workers start their translation from (cloned at each start). */
  readonly #xlateInit: BackerXlateInit = { bridges: [] };
  readonly #mainXlate: BackerXlate;

  private constructor(options: BackerOptions, dp: DpifNetdev, support: BackerSupport) {
    this.datapathType = options.datapathType;
    this.config = options.config;
    this.dp = dp;
    this.support = support;
    // Port names are unique across a daemon's bridges (port_spec.ts), so a name is a slot's key.
    for (const b of options.bridges) {
      for (const p of b.ports) {
        if (p.type === "patch") this.#patchSlots.set(p.name, this.#patchSlots.size);
      }
    }
    this.patchCounters = PatchCounters.create(this.#patchSlots.size);
    this.#mainXlate = new BackerXlate(this.#xlateInit);
    this.udpif = new Udpif({
      dp,
      xlateModule: new URL("./backer_xlate.ts", import.meta.url).href,
      xlateInit: this.#xlateInit,
      mainXlate: this.#mainXlate,
      xlateSnapshot: (): BackerXlateInit => ({
        bridges: this.bridges.map((b) => b.xlateSnapshot()),
      }),
    });
    // Workers start later (at configure) and clone the init then.
  }

  /**
   * Opens the datapath, probes it, creates the bridges with their ports
   * and the udpif, configured from `options.config`; follows later
   * config changes.
   */
  static async create(options: BackerOptions): Promise<Backer> {
    const cores = pmdCores(options.config);
    const dp = DpifNetdev.create(options.datapathType, {
      pmdCores: cores,
      pmdSlots: pmdSlots(cores),
    });
    // The datapath reads flow keys with the VLAN limit, probes included,
    // and ovs-vswitchd sets it before it opens a datapath.
    dp.setVlanLimit(options.config.get("vlan-limit")!);
    await dp.ready();
    let backer: Backer | undefined;
    try {
      // As open_dpif_backer() does, before any bridge's ports are added.
      backer = new Backer(options, dp, checkSupport(new Dpif(dp)));
      for (const spec of options.bridges) await backer.#addBridge(spec);
    } catch (e) {
      for (const b of backer?.bridges ?? []) b.closePorts();
      dp.destroy();
      throw e;
    }
    backer.#applyVlanLimit();
    await backer.#configure(new Set(Object.keys(UDPIF_KEYS)));
    applyDatapathConfig(dp, options.config);
    const b = backer;
    options.config.onChange((changed) => {
      if (changed.has("vlan-limit")) {
        b.#applyVlanLimit();
        b.udpif.postXlateUpdate({ type: "vlan-limit", limit: b.config.get("vlan-limit")! });
        b.udpif.revalidate();
      }
      const pmds = applyDatapathConfig(dp, options.config, changed);
      const keys = new Set(changed.keys());
      // New PMDs need handlers of their own; other keys apply at once.
      const applied = pmds
        ? pmds.then((reconfigured) => reconfigured ? b.udpif.fitHandlersToPmds() : undefined)
          .then(() => b.#configure(keys))
        : b.#configure(keys);
      applied.catch((e) =>
        log.error(`applying other_config failed: ${e instanceof Error ? e.message : e}`)
      );
    });
    return backer;
  }

  async #addBridge(spec: BridgeSpec): Promise<void> {
    const bridge = await Bridge.open(this, this.bridges.length, spec.name, spec.ports);
    this.bridges.push(bridge);
    this.#xlateInit.bridges.push(bridge.xlateInit);
    this.#mainXlate.add(bridge.xlateInit, bridge.tables);
    log.info(`bridge ${spec.name}: added with ${spec.ports.length} ports on ${this.dp.name}`);
  }

  /** Patch port `name`'s slot in `patchCounters` (-1: not a patch port of this backer). */
  patchSlot(name: string): number {
    return this.#patchSlots.get(name) ?? -1;
  }

  /** The bridge called `name`, if there is one. */
  bridge(name: string): Bridge | undefined {
    return this.bridges.find((b) => b.name === name);
  }

  /** Sends bridge `id`'s translation change to every worker. */
  postXlateUpdate(id: number, update: BridgeXlateUpdate): void {
    this.udpif.postXlateUpdate({ type: "bridge", bridge: id, update });
  }

  /**
   * other_config:vlan-limit is a global of each thread's flow module (as
   * OVS's flow_vlan_limit): this thread's, the PMD's through the datapath,
   * and the udpif workers' through their translation init (running
   * workers get a `vlan-limit` update).
   */
  #applyVlanLimit(): void {
    const n = this.config.get("vlan-limit")!;
    setVlanLimit(n);
    this.dp.setVlanLimit(n);
    for (const b of this.bridges) b.xlateInit.vlanLimit = n;
  }

  async #configure(keys: Set<string>): Promise<void> {
    const cfg: Record<string, number> = {};
    for (const [key, field] of Object.entries(UDPIF_KEYS)) {
      if (keys.has(key)) cfg[field] = this.config.get(key) ?? 0;
    }
    if (Object.keys(cfg).length) await this.udpif.configure(cfg);
  }

  /**
   * As ofproto-dpif's run/type_run in the main loop: a MAC table that
   * changed in any bridge may change NORMAL's answers, so the backer asks
   * for one revalidation (REV_MAC_LEARNING), however many changes and
   * bridges there were.
   */
  macLearningRun(): void {
    let changed = false;
    for (const b of this.bridges) if (b.takeMacChange()) changed = true;
    if (!changed) return;
    covRevMacLearning.inc();
    this.udpif.revalidate();
  }

  /** Applies every bridge's queued learns, then credits queued rule stats to their bridges' tables. */
  drainStats(): void {
    const now = timeMsec();
    for (const b of this.bridges) b.learning.run(now);
    this.ruleStats.drain((id, packets, bytes, used, bridge) =>
      this.bridges[bridge]?.tables.creditStats(id, packets, bytes, used)
    );
  }

  /** Stops the udpif's workers, then the datapath's, and closes every bridge's ports. */
  async destroy(): Promise<void> {
    await this.udpif.destroy();
    this.dp.destroy();
    for (const b of this.bridges) b.closePorts();
  }
}

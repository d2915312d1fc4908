/**
 * Translation for one bridge, in the shape the udpif asks for
 * (`UdpifXlate` / `createUdpifXlate`): a datapath flow in, datapath
 * actions and wildcards out, through the bridge's OpenFlow tables, ports
 * and MAC learning table.
 *
 * Every udpif worker loads this module by URL and builds its own
 * `BridgeXlate` from a structured-clonable `BridgeXlateInit`; it then
 * follows the master copy through `update` messages: table changes
 * (`TablesUpdate`, in version order) and port changes (the new port
 * list). The main thread uses the same class over the master tables.
 *
 * Thread-safety: one `BridgeXlate` per thread. Shared between threads
 * are only the MAC learning table and the recirculation id pool (each
 * behind its own Atomics lock) and the rule stats and learn queues
 * (workers produce, the main thread drains).
 */
import { F, type FlowKey, keyUint, newKey, orInto, setVlanLimit } from "../flow/mod.ts";
import { timeMsec } from "../lib/mod.ts";
import { MacLearning, OFPP_NONE, OfTables, type TablesUpdate } from "../ofproto/mod.ts";
import {
  type UpcallIn,
  type WorkerXlate,
  type XcacheDescription,
  type XlateRequest,
  type XlateResult,
} from "../upcall/mod.ts";
import {
  type LearnSink,
  type PatchBridge,
  PatchCounters,
  type PortSpec as XPortSpec,
  RecircIdPool,
  XBridge,
  xlate,
  XlateCache,
  xlateCachePush,
  xlateCachePushLearn,
  xlateCachePushPatches,
  type XlateInput,
  XlateKeys,
  type XlateTables,
} from "../xlate/mod.ts";
import { RuleStatsQueue } from "./rule_stats.ts";
import { PacketInQueue, type PacketInQueueInit } from "./packet_in_queue.ts";
import { LearnQueue } from "./learn_queue.ts";
import { QueueLearnSink } from "./bridge_learn.ts";

/** What a worker's translation starts from (structured-clonable). */
export interface BridgeXlateInit {
  bridge: string;
  /** The bridge's id in its datapath backer (backer.ts), recorded with its rule credits. */
  id?: number;
  ports: XPortSpec[];
  mac: SharedArrayBuffer;
  ruleStats: SharedArrayBuffer;
  /** The bridge's learn queue (`LearnQueue.buffer`): learned flows on their way to the master tables. */
  learn: SharedArrayBuffer;
  /** The bridge's UUID bytes, for slow-path cookies. */
  uuid: Uint8Array;
  /** The backer's patch port counters (`PatchCounters.buffer`); none: crossings are not counted. */
  patchCounters?: SharedArrayBuffer;
  /**
   * The daemon's one recirculation id pool (`RecircIdPool.buffer`): a
   * revalidator must give a frozen state the id the handler gave it, or
   * the flow's actions would never match a fresh translation.
   */
  recirc: SharedArrayBuffer;
  /** other_config:vlan-limit, for this worker's flow module. */
  vlanLimit: number;
  /** Where controller upcalls go for the OpenFlow connections (packet_in_queue.ts). */
  packetIns: PacketInQueueInit;
  /** The tables as one update (`OfTables.snapshotUpdate`), when starting from a snapshot. */
  tables?: TablesUpdate;
}

/** The other bridges of the datapath backer, as a bridge's translation reaches them (backer_xlate.ts). */
export interface BridgePeers {
  /** The bridge with patch port `peer`, for output through a patch port. */
  patchPeer(peer: string): PatchBridge | undefined;
  /** Bridge `id`'s MAC table, for NORMAL's learning recorded in an xlate cache. */
  macTable(id: number): MacLearning | null;
  /** Bridge `id`, where a packet frozen in it resumes. */
  bridgeById?(id: number): PatchBridge | undefined;
}

/** A result to fill in: every field is set by `translate`. */
function emptyResult(): XlateResult {
  return {
    actions: undefined,
    slow: 0,
    avoidCaching: false,
    ofpInPort: 0,
    xcache: null,
    recircs: undefined,
  };
}

/** A change the main thread sends to every worker's translation. */
export type BridgeXlateUpdate =
  | TablesUpdate
  | { type: "ports"; ports: XPortSpec[] }
  | { type: "vlan-limit"; limit: number };

export class BridgeXlate implements WorkerXlate {
  readonly ofprotoUuid: Uint8Array;
  readonly #tables: OfTables;
  readonly #ml: MacLearning;
  readonly #stats: RuleStatsQueue;
  readonly #recirc: RecircIdPool;
  readonly #packetIns: PacketInQueue;
  readonly #patchCounters: PatchCounters | null;
  readonly #learn: QueueLearnSink;
  readonly #id: number;
  readonly #patchPeer: ((peer: string) => PatchBridge | undefined) | undefined;
  readonly #bridgeById: ((id: number) => PatchBridge | undefined) | undefined;
  readonly #macTable: (bridge: number) => MacLearning | null;
  readonly #learnSinkOf: (bridge: number) => LearnSink | undefined;
  #bridge: XBridge;
  /** The keys xlate works in, one set per thread. */
  readonly #keys = new XlateKeys();
  /** The input of every translation here (see `translate`). */
  readonly #xin: XlateInput;
  /** The result of translations with `XlateRequest.reuseResult`, refilled by each. */
  readonly #result: XlateResult = emptyResult();

  /**
   * Translation over `tables` (the master copy on the main thread, else a
   * replica), crediting rules through `stats` (the backer's queue, one
   * handle per thread whatever the number of bridges); `peers` are the
   * backer's other bridges (none: patch ports drop).
   */
  constructor(
    init: BridgeXlateInit,
    tables = new OfTables(),
    stats = RuleStatsQueue.attach(init.ruleStats),
    peers?: BridgePeers,
  ) {
    this.ofprotoUuid = init.uuid;
    this.#id = init.id ?? 0;
    this.#patchPeer = peers && ((peer) => peers.patchPeer(peer));
    this.#bridgeById = peers?.bridgeById && ((id) => peers.bridgeById?.(id));
    this.#macTable = (id) => id === this.#id ? this.#ml : peers?.macTable(id) ?? null;
    this.#learnSinkOf = (id) => id === this.#id ? this.#learn : peers?.bridgeById?.(id)?.learnSink;
    this.#tables = tables;
    this.#bridge = new XBridge(init.bridge, init.ports);
    this.#ml = MacLearning.attach(init.mac);
    this.#recirc = new RecircIdPool(init.recirc);
    this.#packetIns = PacketInQueue.attach(init.packetIns);
    this.#patchCounters = init.patchCounters ? PatchCounters.attach(init.patchCounters) : null;
    setVlanLimit(init.vlanLimit);
    this.#stats = stats;
    this.#learn = new QueueLearnSink(LearnQueue.attach(init.learn), this.#tables);
    if (init.tables) this.#tables.applyUpdate(init.tables);
    this.#xin = {
      flow: newKey(),
      tables: this.#tables as XlateTables,
      bridge: this.#bridge,
      ml: this.#ml,
      nowMs: 0,
      recircIds: this.#recirc,
      packetInOnMiss: false,
      sideEffects: false,
      packet: null,
      buildCache: false,
      keys: this.#keys,
      learnSink: this.#learn,
      tcpFlags: 0,
      patchPeer: this.#patchPeer,
      bridgeById: this.#bridgeById,
      bridgeId: this.#id,
      ofprotoUuid: this.ofprotoUuid,
      cache: undefined,
    };
  }

  /** The ports as this thread's translation sees them. */
  get xbridge(): XBridge {
    return this.#bridge;
  }

  /** This bridge as a patch port leads into it. */
  get patchBridge(): PatchBridge {
    return {
      id: this.#id,
      bridge: this.#bridge,
      tables: this.#tables,
      ml: this.#ml,
      uuid: this.ofprotoUuid,
      learnSink: this.#learn,
    };
  }

  /** The MAC table's changes wait for `upcallsInstalled` (a handler's translation may learn here through a patch port). */
  holdMacChanges(): void {
    this.#ml.holdChanges();
  }

  update(data: unknown): void {
    const u = data as BridgeXlateUpdate;
    if (u.type === "tables-update") this.#tables.applyUpdate(u);
    else if (u.type === "ports") this.#bridge = new XBridge(this.#bridge.name, u.ports);
    else if (u.type === "vlan-limit") setVlanLimit(u.limit);
  }

  translate(req: XlateRequest): XlateResult {
    const ofpInPort = this.#bridge.ofport(keyUint(req.key, F.in_port.off, F.in_port.len));
    const now = req.now ?? timeMsec();
    // A handler's MAC learning is announced once its batch is installed.
    if (req.packet !== null) this.#ml.holdChanges();
    // One input, refilled whole per translation: thawing and patch ports
    // switch its bridge, tables and MAC table while they translate.
    const xin = this.#xin;
    xin.flow = req.key;
    xin.inPort = ofpInPort < 0 ? OFPP_NONE : ofpInPort;
    xin.tables = this.#tables as XlateTables;
    xin.bridge = this.#bridge;
    xin.ml = this.#ml;
    xin.nowMs = now;
    xin.packetInOnMiss = this.#packetIns.missWanted();
    xin.sideEffects = req.packet !== null;
    xin.packet = req.packet;
    xin.buildCache = req.wantXcache;
    xin.tcpFlags = req.tcpFlags;
    xin.ofprotoUuid = this.ofprotoUuid;
    xin.cache = req.wantXcache && req.reuseXcache instanceof XlateCache
      ? req.reuseXcache
      : undefined;
    xin.reuseActions = req.reuseResult === true;
    const out = xlate(xin);
    if (req.wc && req.wcReplace) req.wc.set(inPortAsDatapath(out.wc));
    else if (req.wc) orInto(req.wc, inPortAsDatapath(out.wc));
    // A MAC this learned or moved reaches the main thread through the
    // shared table's change count, which revalidates (Bridge.macLearningRun);
    // a handler's count moves at upcallsInstalled.
    // A handler's translation learned already (side effects); a
    // revalidator's pushes its packets' learns and fin_timeouts here.
    if (req.packets > 0) {
      const relearn = req.packet === null;
      this.#push(out.cache, req.packets, req.bytes, req.used || now, req.tcpFlags, relearn);
    }
    const res = req.reuseResult ? this.#result : emptyResult();
    res.actions = out.error ? undefined : out.actions;
    res.slow = out.slow;
    res.avoidCaching = out.avoidCaching;
    res.ofpInPort = ofpInPort < 0 ? OFPP_NONE : ofpInPort;
    res.xcache = req.wantXcache ? out.cache : null;
    res.recircs = out.recircs.length ? this.#distinct(out.recircs) : undefined;
    return res;
  }

  controllerUpcall(u: UpcallIn): void {
    this.#packetIns.push(u.userdata.subarray(0, u.userdataLen), u.packet, u.packetLen);
  }

  releaseRecirc(id: number): void {
    this.#recirc.release(id);
  }

  /**
   * One reference per distinct id: two controller actions with the same
   * frozen state took two references on one id, and the ukey holds a set.
   */
  #distinct(ids: number[]): number[] {
    const out: number[] = [];
    for (const id of ids) {
      if (out.includes(id)) this.#recirc.release(id);
      else out.push(id);
    }
    return out;
  }

  upcallsInstalled(): void {
    this.#ml.releaseChanges();
  }

  beginStats(): void {
    this.#stats.begin();
  }

  commitStats(committing: (token: number) => void): void {
    this.#stats.commit(committing);
  }

  completeStatsCommit(owner: number, token: number): void {
    this.#stats.completeCommitOf(owner, token);
  }

  releaseLocksOf(owner: number): void {
    this.#stats.releaseLockOf(owner);
    this.#ml.releaseLockOf(owner);
    this.#recirc.releaseLockOf(owner);
    this.#packetIns.releaseLockOf(owner);
    this.#learn.releaseLockOf(owner);
  }

  pushStats(xcache: unknown, packets: number, bytes: number, used: number, tcpFlags = 0): void {
    if (xcache instanceof XlateCache) {
      this.#push(xcache, packets, bytes, used || timeMsec(), tcpFlags, true);
    }
  }

  describeXcache(xcache: unknown): XcacheDescription | undefined {
    if (!(xcache instanceof XlateCache)) return undefined;
    return {
      bridge: this.#bridge.name,
      lookups: xcache.lookups,
      lookupBridges: xcache.lookupBridges,
    };
  }

  /**
   * Credits the rules and relearns the MACs `cache` recorded; with
   * `relearn`, also reruns its learns and fin_timeouts (XC_LEARN, XC_FIN_TIMEOUT).
   */
  #push(
    cache: XlateCache,
    packets: number,
    bytes: number,
    used: number,
    tcpFlags: number,
    relearn: boolean,
  ): void {
    xlateCachePush(
      cache,
      packets,
      bytes,
      (id, p, b, bridge) => this.#stats.push(id, p, b, used, bridge),
      this.#macTable,
      used,
    );
    if (this.#patchCounters) xlateCachePushPatches(cache, this.#patchCounters, packets, bytes);
    if (relearn) xlateCachePushLearn(cache.learn, cache.fin, packets, tcpFlags, this.#learnSinkOf);
  }
}

/**
 * The wildcards in datapath terms: translation saw the OpenFlow in_port,
 * the datapath matches on its own port number; either way the whole
 * field was looked at.
 */
function inPortAsDatapath(wc: FlowKey): FlowKey {
  // in_port is one aligned word: any bit of it set means all of it.
  if (wc[IN_PORT_WORD] !== 0) wc[IN_PORT_WORD] = 0xffffffff;
  return wc;
}

const IN_PORT_WORD = F.in_port.off >> 2;

/** The udpif worker entry point (see the upcall layer's `CreateUdpifXlate`). */
export function createUdpifXlate(init: unknown): WorkerXlate {
  return new BridgeXlate(init as BridgeXlateInit);
}

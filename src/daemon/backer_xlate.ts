/**
 * Translation for every bridge of one datapath backer, in the shape the
 * udpif asks for (`WorkerXlate` / `createUdpifXlate`). OVS has one udpif
 * per datapath backer (ofproto-dpif's `struct dpif_backer`), whatever the
 * number of bridges on it; xlate_lookup() finds the bridge a datapath
 * flow belongs to from its datapath in_port (the xport's xbridge). This
 * module does the same over one `BridgeXlate` per bridge, numbered by
 * the bridge's id in the backer, and routes each main-thread update to
 * the bridge it names.
 *
 * Thread-safety: one `BackerXlate` per thread, like the `BridgeXlate`s it
 * holds.
 */
import { F, keyUint, ODPP_NONE } from "../flow/mod.ts";
import { OFPP_NONE } from "../ofproto/mod.ts";
import type { OfTables } from "../ofproto/mod.ts";
import type {
  UpcallIn,
  WorkerXlate,
  XcacheDescription,
  XlateRequest,
  XlateResult,
} from "../upcall/mod.ts";
import {
  type BridgePeers,
  BridgeXlate,
  type BridgeXlateInit,
  type BridgeXlateUpdate,
} from "./bridge_xlate.ts";
import type { MacLearning } from "../ofproto/mod.ts";
import { COOKIE_OFPROTO_UUID_OFFSET, type PatchBridge, XlateCache } from "../xlate/mod.ts";
import { RuleStatsQueue } from "./rule_stats.ts";

/** recirc_id, a whole aligned word: nonzero in any byte order when set. */
const RECIRC_ID_WORD = F.recirc_id.off >> 2;

/** The translation of a packet from a datapath port no bridge has: none. */
const NO_PORT: XlateResult = {
  actions: undefined,
  slow: 0,
  avoidCaching: false,
  ofpInPort: OFPP_NONE,
  xcache: null,
};

/** What a worker's translation starts from: each bridge's, indexed by bridge id. */
export interface BackerXlateInit {
  bridges: BridgeXlateInit[];
}

/** A change the main thread sends to every worker: one bridge's, or the thread-wide VLAN limit. */
export type BackerXlateUpdate =
  | { type: "bridge"; bridge: number; update: BridgeXlateUpdate }
  | { type: "vlan-limit"; limit: number };

export class BackerXlate implements WorkerXlate, BridgePeers {
  readonly #bridges: BridgeXlate[] = [];
  /** The backer's one rule stats queue (every bridge's `ruleStats` is its buffer). */
  #stats: RuleStatsQueue | undefined;
  /** Datapath port number to the bridge that has the port. */
  readonly #byOdpPort = new Map<number, BridgeXlate>();
  /** Patch port name to the bridge that has it. */
  readonly #byPatchPort = new Map<string, BridgeXlate>();
  /** The bridge of the last translation: its UUID goes into the flow's slow-path cookie. */
  #last: BridgeXlate | undefined;

  /** Translation over `tables[i]` for bridge i (the master copies on the main thread, else replicas). */
  constructor(init: BackerXlateInit, tables: OfTables[] = []) {
    init.bridges.forEach((b, i) => this.add(b, tables[i]));
  }

  /** Adds the next bridge (its id is the number of bridges before it). */
  add(init: BridgeXlateInit, tables?: OfTables): void {
    this.#stats ??= RuleStatsQueue.attach(init.ruleStats);
    this.#bridges.push(new BridgeXlate(init, tables, this.#stats, this));
    this.#mapPorts();
  }

  #mapPorts(): void {
    this.#byOdpPort.clear();
    this.#byPatchPort.clear();
    for (const b of this.#bridges) {
      for (const p of b.xbridge.ports) {
        if (p.peer === null) this.#byOdpPort.set(p.odpPort, b);
        else this.#byPatchPort.set(p.name, b);
      }
    }
  }

  patchPeer(peer: string): PatchBridge | undefined {
    return this.#byPatchPort.get(peer)?.patchBridge;
  }

  bridgeById(id: number): PatchBridge | undefined {
    return this.#bridges[id]?.patchBridge;
  }

  macTable(id: number): MacLearning | null {
    return this.#bridges[id]?.patchBridge.ml ?? null;
  }

  get ofprotoUuid(): Uint8Array {
    return (this.#last ?? this.#bridges[0]).ofprotoUuid;
  }

  update(data: unknown): void {
    const u = data as BackerXlateUpdate;
    if (u.type === "vlan-limit") {
      for (const b of this.#bridges) b.update(u);
      return;
    }
    this.#bridges[u.bridge].update(u.update);
    if (u.update.type === "ports") this.#mapPorts();
  }

  /**
   * The bridge whose port the datapath in_port is; none for a port no
   * bridge has (deleted: OVS's xlate_lookup fails with ENODEV, so the
   * upcall installs nothing and revalidation deletes the flow). A
   * recirculated packet or one from no port (a packet-out's) goes to the
   * first bridge, whose translation finds the frozen state's bridge.
   */
  #bridgeOf(key: Uint32Array): BridgeXlate | undefined {
    const inPort = keyUint(key, F.in_port.off, F.in_port.len);
    const b = this.#byOdpPort.get(inPort);
    if (b) return b;
    return key[RECIRC_ID_WORD] !== 0 || inPort === ODPP_NONE ? this.#bridges[0] : undefined;
  }

  translate(req: XlateRequest): XlateResult {
    const b = this.#bridgeOf(req.key);
    if (!b) return NO_PORT;
    this.#last = b;
    // What a handler's translation learns in any bridge is announced once its batch is installed.
    if (req.packet !== null && this.#bridges.length > 1) {
      for (const o of this.#bridges) o.holdMacChanges();
    }
    const res = b.translate(req);
    // Pushes go back to the bridge whose translation filled the cache (a
    // reused cache may have been another bridge's): its owner, a field of
    // the cache rather than a wrapper object per ukey.
    if (res.xcache instanceof XlateCache) res.xcache.owner = b;
    return res;
  }

  /**
   * A packet-in goes to the bridge whose rule sent it, named by the UUID
   * in the controller cookie (OVS's process_upcall finds the ofproto from
   * it); a cookie without a known UUID goes by the datapath in_port.
   */
  controllerUpcall(u: UpcallIn): void {
    (this.#bridgeOfCookie(u.userdata) ?? this.#bridgeOf(u.key) ?? this.#bridges[0])
      .controllerUpcall(u);
  }

  #bridgeOfCookie(cookie: Uint8Array): BridgeXlate | undefined {
    for (const b of this.#bridges) {
      const uuid = b.ofprotoUuid;
      let i = 0;
      while (i < 16 && cookie[COOKIE_OFPROTO_UUID_OFFSET + i] === uuid[i]) i++;
      if (i === 16) return b;
    }
    return undefined;
  }

  releaseRecirc(id: number): void {
    // One pool for the backer: any bridge's translation gives the id back to it.
    this.#bridges[0].releaseRecirc(id);
  }

  upcallsInstalled(): void {
    for (const b of this.#bridges) b.upcallsInstalled();
  }

  beginStats(): void {
    this.#stats?.begin();
  }

  commitStats(committing: (token: number) => void): void {
    this.#stats?.commit(committing);
  }

  completeStatsCommit(owner: number, token: number): void {
    this.#stats?.completeCommitOf(owner, token);
  }

  releaseLocksOf(owner: number): void {
    for (const b of this.#bridges) b.releaseLocksOf(owner);
  }

  pushStats(xcache: unknown, packets: number, bytes: number, used: number, tcpFlags = 0): void {
    if (xcache instanceof XlateCache && xcache.owner instanceof BridgeXlate) {
      xcache.owner.pushStats(xcache, packets, bytes, used, tcpFlags);
    }
  }

  describeXcache(xcache: unknown): XcacheDescription | undefined {
    if (!(xcache instanceof XlateCache && xcache.owner instanceof BridgeXlate)) return undefined;
    return xcache.owner.describeXcache(xcache);
  }
}

/** The udpif worker entry point (see the upcall layer's `CreateUdpifXlate`). */
export function createUdpifXlate(init: unknown): WorkerXlate {
  return new BackerXlate(init as BackerXlateInit);
}

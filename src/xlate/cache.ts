/**
 * The xlate cache (OVS ofproto-dpif-xlate-cache.c): the side effects of a
 * translation, kept with the ukey so that a revalidator can push a flow's
 * new statistics to its rules and refresh its MAC learning without
 * translating again. Here it is compact: the ids of the rules that
 * matched, in order, and the (port, VLAN, source MAC) NORMAL learned from;
 * and, for `ofproto/detrace` (OVS's XC_TABLE, XC_RULE and XC_GROUP
 * entries), each table lookup in order with the rule it found or none,
 * and each group used with its bucket.
 *
 * Also here: the `user_action_cookie` bytes that controller and
 * slow-path actions carry.
 */
import { bytesOf, F, type FlowKey } from "../flow/mod.ts";
import { type Bond, groupStatsId, type MacLearning } from "../ofproto/mod.ts";
import type { XcFin, XcLearn } from "./learn.ts";

/** One NORMAL learning event (OVS XC_NORMAL), in bridge `bridge`'s MAC table. */
export interface XcNormal {
  readonly bridge: number;
  readonly ofport: number;
  readonly vlan: number;
  readonly src: Uint8Array;
  readonly gratArp: boolean;
}

/** In `XlateCache.lookups`, the first number of a group's entry (no table has this id). */
export const XC_GROUP_MARK = -1;

export class XlateCache {
  /**
   * The bridge (its id in the datapath backer) whose rules and MAC table
   * the translation uses now: a patch port moves it to the peer's.
   */
  bridge = 0;
  /** Ids of the OpenFlow rules the translation went through. */
  readonly rules: number[] = [];
  /** The bridge of each of `rules`. */
  readonly ruleBridges: number[] = [];
  readonly normal: XcNormal[] = [];
  /**
   * For `ofproto/detrace`, in translation order, two numbers each: a table
   * lookup (XC_TABLE and XC_RULE: the table id, then the rule id or -1 for
   * no match) or a group use (XC_GROUP: XC_GROUP_MARK, then the group's
   * groupStatsId, whose bucket is -1 when every bucket ran).
   */
  readonly lookups: number[] = [];
  /** The bridge of each of `lookups`' entries (one per two numbers): detrace prints each under its bridge. */
  readonly lookupBridges: number[] = [];
  /** Learn actions to run again at each stats push with packets (XC_LEARN). */
  readonly learn: XcLearn[] = [];
  /** fin_timeout actions, for pushes whose TCP flags have FIN or RST (XC_FIN_TIMEOUT). */
  readonly fin: XcFin[] = [];
  /**
   * Patch ports crossed (OVS's two XC_NETDEV entries of patch_port_output),
   * two numbers each: the sending port's counter slot, then its peer's.
   */
  readonly patches: number[] = [];
  /** Bonds output went through without recirculating, credited per bucket (XC_BOND). */
  readonly bonds: Bond[] = [];
  /** The bucket of each of `bonds`. */
  readonly bondBuckets: number[] = [];

  /** Entries of `rules` and `lookups` this translation wrote (the rest are a cleared cache's old ones). */
  #nRules = 0;
  #nLookups = 0;

  /**
   * Empties the cache for a new translation of the same flow
   * (xlate_cache_clear): a revalidator translating a ukey again refills
   * its cache rather than making another, as OVS's revalidate_ukey__ does.
   * `rules` and `lookups` (with their bridges) are overwritten in place
   * and cut to size by `seal()`: emptying a JS array frees its storage and
   * refilling it allocates new storage, which a full pass over 200 000
   * ukeys promoted to the old generation, flow by flow.
   */
  clear(): void {
    this.bridge = 0;
    this.#nRules = 0;
    this.#nLookups = 0;
    if (this.normal.length) this.normal.length = 0;
    if (this.learn.length) this.learn.length = 0;
    if (this.fin.length) this.fin.length = 0;
    if (this.patches.length) this.patches.length = 0;
    if (this.bonds.length) this.bonds.length = this.bondBuckets.length = 0;
  }

  /** Drops what a cleared cache held beyond this translation's entries; the translation's end calls it. */
  seal(): void {
    if (this.rules.length !== this.#nRules) {
      this.rules.length = this.#nRules;
      this.ruleBridges.length = this.#nRules;
    }
    if (this.lookups.length !== this.#nLookups) {
      this.lookups.length = this.#nLookups;
      this.lookupBridges.length = this.#nLookups >> 1;
    }
  }

  addRule(id: number): void {
    const n = this.#nRules++;
    this.rules[n] = id;
    this.ruleBridges[n] = this.bridge;
  }

  /** One table lookup; `ruleId` -1 when no rule matched (the table's miss). */
  addLookup(tableId: number, ruleId: number): void {
    const n = this.#nLookups;
    this.lookups[n] = tableId;
    this.lookups[n + 1] = ruleId;
    this.lookupBridges[n >> 1] = this.bridge;
    this.#nLookups = n + 2;
  }

  /**
   * A group's use (xlate_group_stats): bucket `bucketIndex`, or -1 for a
   * group whose buckets all ran; credited with the rules and listed by detrace.
   */
  addGroup(groupId: number, bucketIndex: number): void {
    const id = groupStatsId(groupId, bucketIndex);
    this.addRule(id);
    this.addLookup(XC_GROUP_MARK, id);
  }

  /** Output through patch port slot `tx` into its peer, slot `rx` (patch_counters.ts). */
  addPatch(tx: number, rx: number): void {
    this.patches.push(tx, rx);
  }

  /** Output through `bond`'s SLB bucket `bucket` (XC_BOND). */
  addBond(bond: Bond, bucket: number): void {
    this.bonds.push(bond);
    this.bondBuckets.push(bucket);
  }

  addNormal(ofport: number, vlan: number, flow: FlowKey, gratArp: boolean): void {
    const src = bytesOf(flow).slice(F.dl_src.off, F.dl_src.off + 6);
    this.normal.push({ bridge: this.bridge, ofport, vlan, src, gratArp });
  }
}

/**
 * Replays a cache for `nPackets` new packets (xlate_push_stats): credits
 * every rule through `creditRule` (with its bridge's id) and every bond
 * bucket with the bytes (bond_account), and, if any
 * packet went through, lets NORMAL relearn the source MACs at `nowMs` in
 * `ml` (or, given a function, in the MAC table of the bridge it learned
 * in). Returns whether a MAC moved or was relearned after expiry (OVS
 * then revalidates).
 */
export function xlateCachePush(
  cache: XlateCache,
  nPackets: number,
  nBytes: number,
  creditRule: (ruleId: number, nPackets: number, nBytes: number, bridge: number) => void,
  ml: MacLearning | null | ((bridge: number) => MacLearning | null),
  nowMs: number,
): boolean {
  cache.rules.forEach((id, i) => creditRule(id, nPackets, nBytes, cache.ruleBridges[i]));
  for (let i = 0; i < cache.bonds.length; i++) cache.bonds[i].account(cache.bondBuckets[i], nBytes);
  let changed = false;
  if (nPackets > 0 && ml) {
    for (const n of cache.normal) {
      const table = typeof ml === "function" ? ml(n.bridge) : ml;
      if (table?.update(n.src, 0, n.vlan, n.ofport, nowMs, n.gratArp)) changed = true;
    }
  }
  return changed;
}

/** sizeof(struct user_action_cookie) in OVS 3.1. */
export const USER_ACTION_COOKIE_LEN = 48;
const COOKIE_SLOW_PATH = 2;
const COOKIE_CONTROLLER = 5;
const OFPP_NONE = 0xffff;

export interface ControllerCookie {
  dontSend: boolean;
  continuation: boolean;
  reason: number;
  recircId: number;
  ruleCookie: bigint;
  controllerId: number;
  maxLen: number;
  /** The UUID of the bridge whose rule sent the packet (all zeros when unknown). */
  ofprotoUuid?: Uint8Array;
}

/** Where a user_action_cookie holds the ofproto UUID (16 bytes, after type and ofp_in_port). */
export const COOKIE_OFPROTO_UUID_OFFSET = 8;

/**
 * The controller `user_action_cookie` as OVS lays it out on x86 (host byte
 * order; ofp_in_port is 32 bits, so the union starts at byte 24; the rule
 * cookie is big-endian): what `userspace(pid=0,controller(...))` carries.
 */
export function encodeControllerCookie(c: ControllerCookie): Uint8Array {
  const [b, v] = newCookie(COOKIE_CONTROLLER);
  b[24] = c.dontSend ? 1 : 0;
  b[25] = c.continuation ? 1 : 0;
  v.setUint16(26, c.reason, true);
  v.setUint32(28, c.recircId, true);
  v.setBigUint64(32, c.ruleCookie, false);
  v.setUint16(40, c.controllerId, true);
  v.setUint16(42, c.maxLen, true);
  if (c.ofprotoUuid) b.set(c.ofprotoUuid.subarray(0, 16), COOKIE_OFPROTO_UUID_OFFSET);
  return b;
}

/**
 * The fields of a controller cookie (`encodeControllerCookie`'s inverse,
 * but for the UUID, which only routes the upcall); undefined for another kind.
 */
export function decodeControllerCookie(b: Uint8Array): ControllerCookie | undefined {
  if (b.length < USER_ACTION_COOKIE_LEN) return undefined;
  const v = new DataView(b.buffer, b.byteOffset, b.byteLength);
  if (v.getUint16(0, true) !== COOKIE_CONTROLLER) return undefined;
  return {
    dontSend: b[24] !== 0,
    continuation: b[25] !== 0,
    reason: v.getUint16(26, true),
    recircId: v.getUint32(28, true),
    ruleCookie: v.getBigUint64(32, false),
    controllerId: v.getUint16(40, true),
    maxLen: v.getUint16(42, true),
  };
}

/** The slow-path cookie: `userspace(pid=0,slow_path(REASONS))`. */
export function encodeSlowPathCookie(reason: number): Uint8Array {
  const [b, v] = newCookie(COOKIE_SLOW_PATH);
  v.setUint32(28, reason, true);
  return b;
}

function newCookie(type: number): [Uint8Array, DataView] {
  const b = new Uint8Array(USER_ACTION_COOKIE_LEN);
  const v = new DataView(b.buffer);
  v.setUint16(0, type, true);
  v.setUint32(4, OFPP_NONE, true);
  return [b, v];
}

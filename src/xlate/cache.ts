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

/** A side list no translation has added to yet: shared, never written. */
const NO_ENTRIES: readonly never[] = Object.freeze([]);

/** The tag of a rule credit that is not its lookup's (a group's, say); table lookups are tagged with their table. */
const XC_RULE_ONLY = -2;
/** Added to a lookup's tag once the rule it found is credited too (the usual pair, one entry). */
const XC_CREDITED = 0x10000;

export class XlateCache {
  /**
   * The bridge (its id in the datapath backer) whose rules and MAC table
   * the translation uses now: a patch port moves it to the peer's.
   */
  bridge = 0;
  /**
   * Who holds the cache, for the caller's bookkeeping (a datapath
   * backer's bridge translation, which its stats pushes go back to);
   * translation never reads or clears it.
   */
  owner: unknown = undefined;
  /**
   * Table lookups, group uses and rule credits in translation order,
   * three numbers each, in one array (one object a ukey's cache points
   * to, not four: a full revalidation refills 200 000 of them, and each
   * separate array was a cache miss): the tag, the rule id, the bridge.
   * A tag is the table id of a lookup (the rule id -1 for a miss),
   * XC_GROUP_MARK for a group use (the id its groupStatsId), or
   * XC_RULE_ONLY for a credit of its own; a lookup whose rule is also
   * credited has XC_CREDITED added.
   */
  readonly #ents: number[] = [];
  /** Numbers of `#ents` this translation wrote (the rest are a cleared cache's old ones). */
  #n = 0;
  #normal: readonly XcNormal[] = NO_ENTRIES;
  #learn: readonly XcLearn[] = NO_ENTRIES;
  #fin: readonly XcFin[] = NO_ENTRIES;
  #patches: readonly number[] = NO_ENTRIES;
  #bonds: readonly Bond[] = NO_ENTRIES;
  #bondBuckets: readonly number[] = NO_ENTRIES;

  /**
   * For `ofproto/detrace`, in translation order, two numbers each: a table
   * lookup (XC_TABLE and XC_RULE: the table id, then the rule id or -1 for
   * no match) or a group use (XC_GROUP: XC_GROUP_MARK, then the group's
   * groupStatsId, whose bucket is -1 when every bucket ran).
   */
  get lookups(): number[] {
    const e = this.#ents, out: number[] = [];
    for (let i = 0; i < this.#n; i += 3) {
      if (e[i] !== XC_RULE_ONLY) {
        out.push(e[i] >= XC_CREDITED - 1 ? e[i] - XC_CREDITED : e[i], e[i + 1]);
      }
    }
    return out;
  }
  /** The bridge of each of `lookups`' entries (one per two numbers): detrace prints each under its bridge. */
  get lookupBridges(): number[] {
    const e = this.#ents, out: number[] = [];
    for (let i = 0; i < this.#n; i += 3) if (e[i] !== XC_RULE_ONLY) out.push(e[i + 2]);
    return out;
  }
  /** The NORMAL learning events (XC_NORMAL). */
  get normal(): readonly XcNormal[] {
    return this.#normal;
  }
  /** Learn actions to run again at each stats push with packets (XC_LEARN). */
  get learn(): readonly XcLearn[] {
    return this.#learn;
  }
  /** fin_timeout actions, for pushes whose TCP flags have FIN or RST (XC_FIN_TIMEOUT). */
  get fin(): readonly XcFin[] {
    return this.#fin;
  }
  /**
   * Patch ports crossed (OVS's two XC_NETDEV entries of patch_port_output),
   * two numbers each: the sending port's counter slot, then its peer's.
   */
  get patches(): readonly number[] {
    return this.#patches;
  }
  /** Bonds output went through without recirculating, credited per bucket (XC_BOND). */
  get bonds(): readonly Bond[] {
    return this.#bonds;
  }
  /** The bucket of each of `bonds`. */
  get bondBuckets(): readonly number[] {
    return this.#bondBuckets;
  }

  /** Calls `fn` with each rule id (and group bucket) the translation credited and its bridge, in order (no array made). */
  forEachRule(fn: (id: number, bridge: number) => void): void {
    const e = this.#ents;
    for (let i = 0; i < this.#n; i += 3) {
      if (e[i] === XC_RULE_ONLY || e[i] >= XC_CREDITED - 1) fn(e[i + 1], e[i + 2]);
    }
  }

  /**
   * Empties the cache for a new translation of the same flow
   * (xlate_cache_clear): a revalidator translating a ukey again refills
   * its cache rather than making another, as OVS's revalidate_ukey__ does.
   * The entries are overwritten in place and cut to size by `seal()`:
   * emptying a JS array frees its storage and refilling it allocates new
   * storage, which a full pass over 200 000 ukeys promoted to the old
   * generation, flow by flow. The side lists go back to the shared empty
   * one, a field store each, without touching the lists.
   */
  clear(): void {
    this.bridge = 0;
    this.#n = 0;
    if (this.#normal !== NO_ENTRIES) this.#normal = NO_ENTRIES;
    if (this.#learn !== NO_ENTRIES) this.#learn = NO_ENTRIES;
    if (this.#fin !== NO_ENTRIES) this.#fin = NO_ENTRIES;
    if (this.#patches !== NO_ENTRIES) this.#patches = NO_ENTRIES;
    if (this.#bonds !== NO_ENTRIES) this.#bonds = this.#bondBuckets = NO_ENTRIES;
  }

  /** Drops what a cleared cache held beyond this translation's entries; the translation's end calls it. */
  seal(): void {
    if (this.#ents.length !== this.#n) this.#ents.length = this.#n;
  }

  addRule(id: number): void {
    const e = this.#ents, n = this.#n;
    // The rule the lookup just before found: that entry is the credit too.
    if (
      n > 0 && e[n - 3] !== XC_RULE_ONLY && e[n - 3] < XC_CREDITED - 1 && e[n - 2] === id &&
      e[n - 1] === this.bridge
    ) {
      e[n - 3] += XC_CREDITED;
      return;
    }
    this.#add(XC_RULE_ONLY, id);
  }

  /** One table lookup; `ruleId` -1 when no rule matched (the table's miss). */
  addLookup(tableId: number, ruleId: number): void {
    this.#add(tableId, ruleId);
  }

  #add(tag: number, id: number): void {
    const e = this.#ents, n = this.#n;
    e[n] = tag;
    e[n + 1] = id;
    e[n + 2] = this.bridge;
    this.#n = n + 3;
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
    if (this.#patches === NO_ENTRIES) this.#patches = [];
    (this.#patches as number[]).push(tx, rx);
  }

  /** Output through `bond`'s SLB bucket `bucket` (XC_BOND). */
  addBond(bond: Bond, bucket: number): void {
    if (this.#bonds === NO_ENTRIES) {
      this.#bonds = [];
      this.#bondBuckets = [];
    }
    (this.#bonds as Bond[]).push(bond);
    (this.#bondBuckets as number[]).push(bucket);
  }

  addNormal(ofport: number, vlan: number, flow: FlowKey, gratArp: boolean): void {
    const src = bytesOf(flow).slice(F.dl_src.off, F.dl_src.off + 6);
    if (this.#normal === NO_ENTRIES) this.#normal = [];
    (this.#normal as XcNormal[]).push({ bridge: this.bridge, ofport, vlan, src, gratArp });
  }

  /** A learn action to run again at stats pushes (XC_LEARN). */
  addLearn(learn: XcLearn): void {
    if (this.#learn === NO_ENTRIES) this.#learn = [];
    (this.#learn as XcLearn[]).push(learn);
  }

  /** A fin_timeout action (XC_FIN_TIMEOUT). */
  addFin(fin: XcFin): void {
    if (this.#fin === NO_ENTRIES) this.#fin = [];
    (this.#fin as XcFin[]).push(fin);
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
  cache.forEachRule((id, bridge) => creditRule(id, nPackets, nBytes, bridge));
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

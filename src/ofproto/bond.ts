/**
 * Bonds (ofproto/bond.c): several member interfaces acting as one port.
 * A bond picks, per packet, the member it leaves through, and tells
 * NORMAL whether a packet received on a member may be admitted:
 *
 * - active-backup: everything leaves through the active member; packets
 *   arriving on any other member are dropped (bond_check_admissibility).
 * - balance-slb: the source MAC and VLAN hash (hash_mac) picks one of 256
 *   buckets; a bucket with no enabled member takes the next member of the
 *   enabled list, round robin (choose_output_member, get_enabled_member).
 *   A packet whose source MAC was learned on another port is dropped by
 *   NORMAL (BV_DROP_IF_MOVED).
 * - balance-tcp: needs negotiated LACP; without it every packet to or from
 *   the bond is dropped, as OVS does.
 * Each bucket counts the bytes sent through it (bond_rebalance.ts).
 *
 * Members are enabled from their link state (carrier and `may_enable`)
 * with up/down delays (bond_link_status_update), and the active member
 * is chosen again when it goes (bond_choose_member: the primary, the last
 * active member, then the first enabled one), in `run`, on the main
 * thread, as bond_run does.
 *
 * Thread-safety: the state translations read (active member, enabled
 * list, buckets) lives in a SharedArrayBuffer behind one Atomics lock
 * word; the main thread changes members, the active member and moves
 * buckets, a translating thread may fill an empty SLB bucket, a thread
 * pushing statistics adds to a bucket's bytes (bond_account). The
 * configuration is cloned into each worker with the buffer (`BondInit`).
 */
import { hashUint64, sleepLock, sleepUnlock } from "../lib/mod.ts";
import { Lacp, type LacpInit } from "./lacp.ts";
import type { BondConfig } from "./bond_config.ts";

/** BOND_BUCKETS and BOND_MASK. */
export const BOND_BUCKETS = 256;
export const BOND_MASK = BOND_BUCKETS - 1;

/** What a thread needs to view a bond: its configuration and shared state. */
export interface BondInit {
  config: BondConfig;
  buffer: SharedArrayBuffer;
  /** The bond's recirculation id (balance-slb and balance-tcp), 0 for none. */
  recircId: number;
  /** The bond's LACP state, when LACP is on. */
  lacp?: LacpInit;
}

export type BondVerdict = "accept" | "drop" | "drop-if-moved";

/** enum lacp_status, as bond/show words it. */
export type LacpStatus = "off" | "configured" | "negotiated";

// Shared words: lock, active member index (-1: none), enabled count, then
// the enabled list (member indices, round-robin order), the enabled flags,
// the may_enable flags, and the 256 buckets (member index + 1, 0: none).
const W_LOCK = 0;
const W_ACTIVE = 1;
const W_N_ENABLED = 2;
/** lacp_status: 0 off, 1 configured, 2 negotiated (written by the main thread). */
const W_LACP = 3;
const HEADER = 4;
const LACP_STATUSES: LacpStatus[] = ["off", "configured", "negotiated"];

/** Where the buckets' byte counts start: after the words, 8-byte aligned. */
function txOffset(nMembers: number): number {
  return Math.ceil((HEADER + 3 * nMembers + BOND_BUCKETS) / 2) * 8;
}

/** Datapath-independent bond state and decisions, shared by every thread. */
export class Bond {
  readonly config: BondConfig;
  readonly buffer: SharedArrayBuffer;
  readonly recircId: number;
  /** The bond's LACP object (lacp.ts), when LACP is on. */
  readonly lacp: Lacp | null;
  readonly #w: Int32Array;
  /** Each bucket's transmitted bytes since the last rebalance halved them (tx_bytes). */
  readonly #tx: Float64Array;
  readonly #n: number;
  readonly #byOfport = new Map<number, number>();

  /** A bond with every member disabled (a new buffer), or a view of `init`'s. */
  constructor(init: BondConfig | BondInit) {
    const config = "config" in init ? init.config : init;
    const n = config.members.length;
    this.config = config;
    this.#n = n;
    this.buffer = "buffer" in init
      ? init.buffer
      : new SharedArrayBuffer(txOffset(n) + BOND_BUCKETS * 8);
    this.recircId = "recircId" in init ? init.recircId : 0;
    this.#w = new Int32Array(this.buffer, 0, txOffset(n) / 4);
    this.#tx = new Float64Array(this.buffer, txOffset(n), BOND_BUCKETS);
    this.lacp = "buffer" in init && init.lacp ? new Lacp(init.lacp) : null;
    if (!("buffer" in init)) {
      this.#w[W_ACTIVE] = -1;
      this.#w[W_LACP] = config.lacp === "off" ? 0 : 1;
    }
    config.members.forEach((m, i) => this.#byOfport.set(m.ofport, i));
  }

  /** What another thread needs to view this bond. */
  init(): BondInit {
    return {
      config: this.config,
      buffer: this.buffer,
      recircId: this.recircId,
      lacp: this.lacp?.init(),
    };
  }

  get #enabledList(): number {
    return HEADER;
  }
  get #enabledFlags(): number {
    return HEADER + this.#n;
  }
  get #mayEnable(): number {
    return HEADER + 2 * this.#n;
  }
  get #buckets(): number {
    return HEADER + 3 * this.#n;
  }

  /** The member index of `ofport`, or -1. */
  memberIndex(ofport: number): number {
    return this.#byOfport.get(ofport) ?? -1;
  }

  isMember(ofport: number): boolean {
    return this.#byOfport.has(ofport);
  }

  /** The OpenFlow port standing for the whole bond (its first member's). */
  get bundlePort(): number {
    return this.config.members[0].ofport;
  }

  /** The active member's index, or -1. */
  get active(): number {
    return Atomics.load(this.#w, W_ACTIVE);
  }

  enabled(i: number): boolean {
    return Atomics.load(this.#w, this.#enabledFlags + i) !== 0;
  }

  mayEnable(i: number): boolean {
    return Atomics.load(this.#w, this.#mayEnable + i) !== 0;
  }

  /** The member index bucket `b` sends to, or -1. */
  bucketMember(b: number): number {
    return Atomics.load(this.#w, this.#buckets + b) - 1;
  }

  /** lacp_status as the bond last saw it (bond_run's argument). */
  get lacpStatus(): LacpStatus {
    return LACP_STATUSES[Atomics.load(this.#w, W_LACP)];
  }

  /** Main thread: what bond_run was told of LACP; true when it changed. */
  setLacpStatus(status: LacpStatus): boolean {
    return Atomics.exchange(this.#w, W_LACP, LACP_STATUSES.indexOf(status)) !==
      LACP_STATUSES.indexOf(status);
  }

  /** bond_may_recirc. */
  get mayRecirc(): boolean {
    return this.config.mode === "balance-tcp" && this.recircId !== 0 && !this.fallingBackToAb;
  }

  get fallingBackToAb(): boolean {
    return this.config.lacpFallbackAb && this.config.mode !== "active-backup" &&
      this.lacpStatus === "configured";
  }

  /** Whether bond/show lists buckets and the next rebalance (bond_is_balanced). */
  get isBalanced(): boolean {
    return this.config.rebalanceInterval !== 0 && this.config.mode !== "active-backup" &&
      !this.fallingBackToAb;
  }

  /** bond_check_admissibility for a packet received on member `ofport`. */
  admissibility(ofport: number, dstMulticast: boolean): BondVerdict {
    const i = this.memberIndex(ofport);
    if (i < 0) return "drop";
    const status = this.lacpStatus;
    // The partner knows it is a bond: only disabled members drop.
    if (status === "negotiated") return this.enabled(i) || this.mayEnable(i) ? "accept" : "drop";
    if (status === "configured" && !this.config.lacpFallbackAb) return "drop";
    if (status === "off" && this.config.mode === "balance-tcp") return "drop";
    const active = this.active;
    if (dstMulticast && active !== i && !this.config.allMembersActive) return "drop";
    switch (this.config.mode) {
      case "balance-tcp":
        if (!this.config.lacpFallbackAb) return "drop";
        return active === i ? "accept" : "drop";
      case "active-backup":
        return active === i ? "accept" : "drop";
      case "balance-slb":
        return "drop-if-moved";
    }
  }

  /**
   * choose_output_member: the OpenFlow port a packet from source MAC
   * `mac` (bytes at `b[off..]`) in `vlan` leaves through, or -1 to drop.
   * `hashed` is called when the choice depended on the source MAC.
   */
  chooseOutput(b: Uint8Array, off: number, vlan: number, hashed: () => void): number {
    let mode = this.config.mode;
    if (this.lacpStatus === "configured") {
      if (!this.config.lacpFallbackAb) return -1;
      mode = "active-backup";
    }
    if (mode === "active-backup") {
      const a = this.active;
      return a < 0 ? -1 : this.config.members[a].ofport;
    }
    // balance-tcp needs negotiated LACP; with it, translation recirculates
    // (`recirculates`) and the post-recirculation rules pick the member.
    if (mode === "balance-tcp") {
      if (this.lacpStatus !== "negotiated") return -1;
      const a = this.anyEnabled();
      return a < 0 ? -1 : this.config.members[a].ofport;
    }
    hashed();
    const i = this.#bucketOrAssign(this.slbBucket(b, off, vlan));
    return i < 0 ? -1 : this.config.members[i].ofport;
  }

  /**
   * Whether output to this bond is `hash(l4(basis)),recirc(recircId)`
   * (output_normal with bond_update_post_recirc_rules' recirc id): a
   * balance-tcp bond that may recirculate, with negotiated LACP and an
   * enabled member.
   */
  get recirculates(): boolean {
    return this.mayRecirc && this.lacpStatus === "negotiated" && this.anyEnabled() >= 0;
  }

  /** Some enabled member's index, or -1. */
  anyEnabled(): number {
    for (let i = 0; i < this.#n; i++) if (this.enabled(i)) return i;
    return -1;
  }

  /**
   * bond_update_post_recirc_rules__'s fill: every bucket without an
   * enabled member takes one (OVS picks a member at random; here the
   * enabled members in turn), falling back to the active member. Main
   * thread. True when a bucket changed, i.e. the rules must be redone.
   */
  fillBuckets(): boolean {
    const w = this.#w;
    let changed = false;
    sleepLock(w, W_LOCK);
    try {
      for (let b = 0; b < BOND_BUCKETS; b++) {
        const cur = w[this.#buckets + b] - 1;
        if (cur >= 0 && w[this.#enabledFlags + cur]) continue;
        let next = this.#nextEnabled();
        if (next < 0) next = w[W_ACTIVE];
        if (next === cur) continue;
        w[this.#buckets + b] = next + 1;
        changed = true;
      }
    } finally {
      sleepUnlock(w, W_LOCK);
    }
    return changed;
  }

  /** The SLB bucket of source MAC `b[off..]` in `vlan` (lookup_bond_entry). */
  slbBucket(b: Uint8Array, off: number, vlan: number): number {
    return this.hashMac(b, off, vlan) & BOND_MASK;
  }

  /**
   * bond_account: `nBytes` more were sent through bucket `bucket`,
   * counted only while the bond balances. Any thread (a revalidator
   * pushing a flow's statistics, a handler its upcall's packet).
   */
  account(bucket: number, nBytes: number): void {
    if (nBytes > 0 && this.isBalanced) this.#locked(() => this.#tx[bucket] += nBytes);
  }

  /** Bucket `bucket`'s bytes since they were last halved. */
  bucketTxBytes(bucket: number): number {
    return this.#locked(() => this.#tx[bucket]);
  }

  /**
   * Applies `update` to every bucket's byte count under the lock (the
   * rebalance's accounting and halving). Main thread.
   */
  updateTxBytes(update: (bucket: number, txBytes: number) => number): void {
    this.#locked(() => {
      for (let b = 0; b < BOND_BUCKETS; b++) this.#tx[b] = update(b, this.#tx[b]);
    });
  }

  /** Sends bucket `bucket` to member `i` (bond_shift_load, bond/migrate). Main thread. */
  setBucketMember(bucket: number, i: number): void {
    this.#locked(() => this.#w[this.#buckets + bucket] = i + 1);
  }

  /** Runs `fn` holding the bond's lock (not for per-packet paths: `fn` is a closure). */
  #locked<T>(fn: () => T): T {
    sleepLock(this.#w, W_LOCK);
    try {
      return fn();
    } finally {
      sleepUnlock(this.#w, W_LOCK);
    }
  }

  /** hash_mac(mac, vlan, basis). */
  hashMac(b: Uint8Array, off: number, vlan: number): number {
    const hi = ((vlan & 0xffff) << 16 | b[off] << 8 | b[off + 1]) >>> 0;
    const lo = (b[off + 2] << 24 | b[off + 3] << 16 | b[off + 4] << 8 | b[off + 5]) >>> 0;
    return hashUint64(lo, hi, this.config.basis);
  }

  #bucketOrAssign(bucket: number): number {
    const w = this.#w;
    sleepLock(w, W_LOCK);
    try {
      const cur = w[this.#buckets + bucket] - 1;
      if (cur >= 0 && w[this.#enabledFlags + cur]) return cur;
      const next = this.#nextEnabled();
      w[this.#buckets + bucket] = next + 1;
      return next;
    } finally {
      sleepUnlock(w, W_LOCK);
    }
  }

  /** get_enabled_member: the front of the enabled list, moved to its back. Lock held. */
  #nextEnabled(): number {
    const w = this.#w, n = w[W_N_ENABLED], list = this.#enabledList;
    if (n === 0) return -1;
    const first = w[list];
    for (let k = 1; k < n; k++) w[list + k - 1] = w[list + k];
    w[list + n - 1] = first;
    return first;
  }

  /** bond_enable_member: true when the member's state changed. Main thread. */
  setEnabled(i: number, enable: boolean): boolean {
    const w = this.#w;
    sleepLock(w, W_LOCK);
    try {
      if ((w[this.#enabledFlags + i] !== 0) === enable) return false;
      w[this.#enabledFlags + i] = enable ? 1 : 0;
      const list = this.#enabledList, n = w[W_N_ENABLED];
      if (enable) {
        w[list + n] = i;
        w[W_N_ENABLED] = n + 1;
      } else {
        let k = 0;
        while (k < n && w[list + k] !== i) k++;
        for (; k < n - 1; k++) w[list + k] = w[list + k + 1];
        w[W_N_ENABLED] = n - 1;
      }
      return true;
    } finally {
      sleepUnlock(w, W_LOCK);
    }
  }

  /** bond_member_set_may_enable. Main thread. */
  setMayEnable(i: number, may: boolean): void {
    Atomics.store(this.#w, this.#mayEnable + i, may ? 1 : 0);
  }

  /** Makes member `i` (or none, -1) the active member. Main thread. */
  setActive(i: number): void {
    Atomics.store(this.#w, W_ACTIVE, i);
  }

  /** The member index called `name`, or -1 (bond_lookup_member). */
  memberByName(name: string): number {
    return this.config.members.findIndex((m) => m.name === name);
  }
}

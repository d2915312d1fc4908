/**
 * The MAC learning table of a bridge (OVS lib/mac-learning.c): which port
 * each (MAC, VLAN) was last seen on, aged out after `idleTime` seconds and
 * capped at `maxEntries` (2048 by default), with fair eviction (the oldest
 * entry of the port that holds the most) when full.
 *
 * It is the one piece of translation state that every thread mutates:
 * handlers learn while translating NORMAL, revalidators re-learn from
 * their xlate caches, the main thread ages entries and prints `fdb/show`.
 * So the table lives in a SharedArrayBuffer: an open-addressing hash of
 * fixed slots (linear probing, backward-shift deletion: no tombstones),
 * guarded by one Atomics lock word. Each change that can alter a
 * translation (learn, move, expiry, flush) bumps `changeSeq`, which the
 * upcall layer turns into a revalidation (`rev_mac_learning`).
 *
 * Time is passed in (milliseconds of the shared clock); OVS keeps whole
 * seconds, so ages and expiry use `floor(nowMs / 1000)`.
 */
import { coverageCounter, releaseIfHeldBy, sleepLock, sleepUnlock } from "../lib/mod.ts";
import { formatMac } from "./field_value.ts";

export const MAC_DEFAULT_MAX = 2048;
export const MAC_ENTRY_DEFAULT_IDLE_TIME = 300;

const covLearned = coverageCounter("mac_learning_learned");
const covMoved = coverageCounter("mac_learning_moved");
const covExpired = coverageCounter("mac_learning_expired");
const covEvicted = coverageCounter("mac_learning_evicted");

// Header words.
const H_LOCK = 0;
const H_COUNT = 1;
const H_CHANGE_SEQ = 2;
const H_LRU_CLOCK = 3;
const H_MAX = 4;
const H_IDLE = 5;
const H_SLOTS = 6;
const HEADER_WORDS = 8;

// Slot words.
const S_USED = 0;
const S_MAC_HI = 1;
const S_MAC_LO = 2;
const S_VLAN = 3;
const S_PORT = 4;
const S_EXPIRES = 5;
const S_LRU = 6;
const SLOT_WORDS = 8;

/** One row of `fdb/show`. */
export interface MacEntryView {
  port: number;
  vlan: number;
  mac: string;
  age: number;
}

const secondsOf = (nowMs: number): number => Math.floor(nowMs / 1000);

/** The 48-bit MAC at `b[off..off+6]` as (high 16 bits, low 32 bits). */
export function macHi(b: Uint8Array, off: number): number {
  return (b[off] << 8) | b[off + 1];
}
export function macLo(b: Uint8Array, off: number): number {
  return ((b[off + 2] << 24) | (b[off + 3] << 16) | (b[off + 4] << 8) | b[off + 5]) >>> 0;
}

function slotsFor(maxEntries: number): number {
  let n = 16;
  while (n < maxEntries * 2) n *= 2;
  return n;
}

export class MacLearning {
  readonly buffer: SharedArrayBuffer;
  readonly #h: Int32Array;
  readonly #s: Int32Array;
  readonly #mask: number;
  /** Changes held back from `changeSeq`; -1 when not holding. */
  #held = -1;

  private constructor(buffer: SharedArrayBuffer) {
    this.buffer = buffer;
    this.#h = new Int32Array(buffer, 0, HEADER_WORDS);
    const slots = this.#h[H_SLOTS];
    this.#s = new Int32Array(buffer, HEADER_WORDS * 4, slots * SLOT_WORDS);
    this.#mask = slots - 1;
  }

  static create(
    opts: { maxEntries?: number; idleTime?: number } = {},
  ): MacLearning {
    const max = opts.maxEntries ?? MAC_DEFAULT_MAX;
    if (!Number.isInteger(max) || max < 1) throw new RangeError(`maxEntries ${max}`);
    // OVS clamps the idle time to 15..3600 seconds.
    const idle = Math.min(3600, Math.max(15, opts.idleTime ?? MAC_ENTRY_DEFAULT_IDLE_TIME));
    const slots = slotsFor(max);
    const sab = new SharedArrayBuffer((HEADER_WORDS + slots * SLOT_WORDS) * 4);
    const h = new Int32Array(sab, 0, HEADER_WORDS);
    h[H_MAX] = max;
    h[H_IDLE] = idle;
    h[H_SLOTS] = slots;
    return new MacLearning(sab);
  }

  /** Another thread's view of a table made by `create`. */
  static attach(buffer: SharedArrayBuffer): MacLearning {
    return new MacLearning(buffer);
  }

  get maxEntries(): number {
    return this.#h[H_MAX];
  }
  get idleTime(): number {
    return this.#h[H_IDLE];
  }
  get count(): number {
    return Atomics.load(this.#h, H_COUNT);
  }
  /** Bumped by every change that may alter a NORMAL translation. */
  get changeSeq(): number {
    return Atomics.load(this.#h, H_CHANGE_SEQ);
  }

  /**
   * Until `releaseChanges`, this view's changes reach the table at once
   * but bump `changeSeq` only then. A handler holds what it learns until
   * its batch's flows are installed: the revalidation that the bump asks
   * for must find them, as in OVS, where mac_learning_run runs in the main
   * loop after the upcall that learned (the dummy datapath upcalls there).
   */
  holdChanges(): void {
    if (this.#held < 0) this.#held = 0;
  }

  releaseChanges(): void {
    if (this.#held > 0) Atomics.add(this.#h, H_CHANGE_SEQ, this.#held);
    this.#held = -1;
  }

  #changed(): void {
    if (this.#held >= 0) this.#held++;
    else Atomics.add(this.#h, H_CHANGE_SEQ, 1);
  }

  /**
   * The port on which `mac` (bytes at `b[off..]`) was learned in `vlan`, or
   * -1. Multicast destinations are never learned, so they always miss.
   */
  lookup(b: Uint8Array, off: number, vlan: number, nowMs: number): number {
    if (b[off] & 1) return -1;
    const hi = macHi(b, off), lo = macLo(b, off);
    this.#lock();
    try {
      const i = this.#find(hi, lo, vlan);
      if (i < 0 || this.#s[i + S_EXPIRES] <= secondsOf(nowMs)) return -1;
      return this.#s[i + S_PORT];
    } finally {
      this.#unlock();
    }
  }

  /**
   * Learns that `mac` is on `port` in `vlan` (OVS mac_learning_update for
   * ports that are not bonds). An entry is refreshed at most once a second,
   * except by a gratuitous ARP. Returns true when the entry is new or
   * moved, i.e. translations may change.
   */
  update(
    b: Uint8Array,
    off: number,
    vlan: number,
    port: number,
    nowMs: number,
    isGratArp = false,
  ): boolean {
    if (b[off] & 1) return false;
    const hi = macHi(b, off), lo = macLo(b, off);
    const now = secondsOf(nowMs);
    const s = this.#s;
    this.#lock();
    try {
      let i = this.#find(hi, lo, vlan);
      if (i >= 0 && s[i + S_EXPIRES] <= now) {
        this.#remove(i);
        covExpired.inc();
        i = -1;
      }
      if (i >= 0) {
        const age = this.idleTime - (s[i + S_EXPIRES] - now);
        if (age <= 0 && !isGratArp && s[i + S_PORT] === port) return false;
      } else {
        if (Atomics.load(this.#h, H_COUNT) >= this.maxEntries) this.#evictFairly();
        i = this.#insert(hi, lo, vlan);
        covLearned.inc();
      }
      s[i + S_EXPIRES] = now + this.idleTime;
      s[i + S_LRU] = ++this.#h[H_LRU_CLOCK];
      if (s[i + S_PORT] === port) return false;
      if (s[i + S_PORT] !== 0) covMoved.inc();
      s[i + S_PORT] = port;
      this.#changed();
      return true;
    } finally {
      this.#unlock();
    }
  }

  /** Expires idle entries (OVS mac_learning_run); returns how many went. */
  run(nowMs: number): number {
    const now = secondsOf(nowMs);
    let n = 0;
    this.#lock();
    try {
      for (let i = 0; i < this.#s.length;) {
        if (this.#s[i + S_USED] && this.#s[i + S_EXPIRES] <= now) {
          // Backward shift may move another entry into slot i: look again.
          this.#remove(i);
          n++;
        } else {
          i += SLOT_WORDS;
        }
      }
      if (n) {
        covExpired.add(n);
        this.#changed();
      }
    } finally {
      this.#unlock();
    }
    return n;
  }

  /** Forgets every entry (`fdb/flush`). */
  flush(): void {
    this.#lock();
    try {
      this.#s.fill(0);
      Atomics.store(this.#h, H_COUNT, 0);
      this.#changed();
    } finally {
      this.#unlock();
    }
  }

  /** Forgets the entries on `port` (a port that went away). */
  flushPort(port: number): void {
    this.#lock();
    try {
      let n = 0;
      for (let i = 0; i < this.#s.length;) {
        if (this.#s[i + S_USED] && this.#s[i + S_PORT] === port) {
          this.#remove(i);
          n++;
        } else {
          i += SLOT_WORDS;
        }
      }
      if (n) this.#changed();
    } finally {
      this.#unlock();
    }
  }

  /** Live entries, least recently refreshed first (the order fdb/show uses). */
  entries(nowMs: number): MacEntryView[] {
    const now = secondsOf(nowMs);
    const rows: { lru: number; view: MacEntryView }[] = [];
    this.#lock();
    try {
      const s = this.#s;
      for (let i = 0; i < s.length; i += SLOT_WORDS) {
        if (!s[i + S_USED] || s[i + S_EXPIRES] <= now) continue;
        rows.push({
          lru: s[i + S_LRU],
          view: {
            port: s[i + S_PORT],
            vlan: s[i + S_VLAN],
            mac: formatMac((BigInt(s[i + S_MAC_HI]) << 32n) | BigInt(s[i + S_MAC_LO] >>> 0)),
            age: this.idleTime - (s[i + S_EXPIRES] - now),
          },
        });
      }
    } finally {
      this.#unlock();
    }
    rows.sort((a, b) => a.lru - b.lru);
    return rows.map((r) => r.view);
  }

  #lock(): void {
    sleepLock(this.#h, H_LOCK);
  }

  #unlock(): void {
    sleepUnlock(this.#h, H_LOCK);
  }

  /** Releases the table's lock if `owner`, a dead worker, holds it. */
  releaseLockOf(owner: number): boolean {
    return releaseIfHeldBy(this.#h, H_LOCK, owner);
  }

  #home(hi: number, lo: number, vlan: number): number {
    let x = Math.imul(lo ^ Math.imul(hi, 0x9e3779b1), 0x85ebca6b) ^ vlan;
    x ^= x >>> 15;
    x = Math.imul(x, 0xc2b2ae35);
    x ^= x >>> 13;
    return x & this.#mask;
  }

  /** Word index of the entry's slot, or -1. */
  #find(hi: number, lo: number, vlan: number): number {
    const s = this.#s;
    for (let k = this.#home(hi, lo, vlan);; k = (k + 1) & this.#mask) {
      const i = k * SLOT_WORDS;
      if (!s[i + S_USED]) return -1;
      if (s[i + S_MAC_LO] === (lo | 0) && s[i + S_MAC_HI] === hi && s[i + S_VLAN] === vlan) {
        return i;
      }
    }
  }

  #insert(hi: number, lo: number, vlan: number): number {
    const s = this.#s;
    let k = this.#home(hi, lo, vlan);
    while (s[k * SLOT_WORDS + S_USED]) k = (k + 1) & this.#mask;
    const i = k * SLOT_WORDS;
    s.fill(0, i, i + SLOT_WORDS);
    s[i + S_USED] = 1;
    s[i + S_MAC_HI] = hi;
    s[i + S_MAC_LO] = lo | 0;
    s[i + S_VLAN] = vlan;
    Atomics.add(this.#h, H_COUNT, 1);
    return i;
  }

  /** Empties slot word index `i`, shifting later probes back into the hole. */
  #remove(i: number): void {
    const s = this.#s;
    let hole = i / SLOT_WORDS;
    s.fill(0, i, i + SLOT_WORDS);
    for (let k = (hole + 1) & this.#mask;; k = (k + 1) & this.#mask) {
      const j = k * SLOT_WORDS;
      if (!s[j + S_USED]) break;
      const home = this.#home(s[j + S_MAC_HI], s[j + S_MAC_LO] >>> 0, s[j + S_VLAN]);
      // Move the entry if the hole lies on its probe path (home..k, cyclically).
      const dHole = (hole - home) & this.#mask;
      const dK = (k - home) & this.#mask;
      if (dHole < dK) {
        s.copyWithin(hole * SLOT_WORDS, j, j + SLOT_WORDS);
        s.fill(0, j, j + SLOT_WORDS);
        hole = k;
      }
    }
    Atomics.sub(this.#h, H_COUNT, 1);
  }

  /** Drops the least recently used entry of the port with the most entries. */
  #evictFairly(): void {
    const s = this.#s;
    const perPort = new Map<number, { n: number; oldest: number; lru: number }>();
    for (let i = 0; i < s.length; i += SLOT_WORDS) {
      if (!s[i + S_USED]) continue;
      const p = s[i + S_PORT];
      const e = perPort.get(p);
      if (!e) perPort.set(p, { n: 1, oldest: i, lru: s[i + S_LRU] });
      else {
        e.n++;
        if (s[i + S_LRU] < e.lru) {
          e.lru = s[i + S_LRU];
          e.oldest = i;
        }
      }
    }
    let victim = -1, most = 0;
    for (const e of perPort.values()) {
      if (e.n > most) {
        most = e.n;
        victim = e.oldest;
      }
    }
    if (victim >= 0) {
      this.#remove(victim);
      covEvicted.inc();
      this.#changed();
    }
  }
}

/**
 * The connection table in shared memory (OVS's `struct conntrack` conns
 * cmap and the conn objects): fixed-size slots of Int32 words, and an
 * open-addressing index (linear probing, backward-shift deletion) holding
 * each live connection twice, under its original and its reply key, as
 * OVS 3.1 keeps a conn and its reverse (nat_conn) in the cmap.
 *
 * One lock word guards the index and every slot (OVS has ct_lock for
 * inserts plus a mutex per conn; one spinlock is enough for the few PMD
 * threads here and keeps a lookup-update-insert atomic). Waiters spin,
 * then sleep on the word with Atomics.wait.
 */
import { hashWords } from "../lib/mod.ts";

/** Header words. */
const H_LOCK = 0;
export const H_NCONNS = 1;
export const H_MAXCONNS = 2;
const H_CAPACITY = 3;
const H_INDEX_SIZE = 4;
const H_FREE = 5;
export const H_TCP_SEQ_CHK = 6;
const H_SWEEP_AT = 7;
/** Slots below this were handed out once; above it, never touched (lazy free list). */
const H_HIGH = 8;
const HEADER_WORDS = 16;

/** Words of a connection key: zone, proto, v6, src[4], dst[4], sport, dport. */
export const KEY_WORDS = 13;
export const K_ZONE = 0;
export const K_PROTO = 1;
export const K_V6 = 2;
export const K_SRC = 3;
export const K_DST = 7;
export const K_SPORT = 11;
export const K_DPORT = 12;

/** Slot words. */
export const SLOT_WORDS = 64;
export const S_LIVE = 0;
const S_NEXT_FREE = 1;
/** NAT action bits (NAT_SRC / NAT_DST). */
export const S_NAT = 2;
export const S_MARK = 3;
export const S_LABEL = 4; // 4 words, big-endian bytes as in the flow key
/** Per-protocol state (other/icmp state; TCP keeps its peers below). */
export const S_PSTATE = 8;
/** Timeout kind (CtTimeout) of the current expiration. */
export const S_TM = 9;
/** The expiration time in ms, a Float64 at this word (8-byte aligned). */
export const S_EXPIRE = 10;
export const S_KEY = 16; // original direction key (KEY_WORDS)
export const S_REV = 32; // reply direction key (KEY_WORDS)
/** TCP peers: seqlo, seqhi, max_win, wscale, state; orig then reply. */
export const S_TCP = 48;
export const TCP_PEER_WORDS = 5;

export const NAT_SRC = 1;
export const NAT_DST = 2;

export const DEFAULT_MAXCONNS = 3000000;
const SPINS = 200;

export class ConnTable {
  readonly i32: Int32Array;
  readonly f64: Float64Array;
  readonly capacity: number;
  private readonly indexSize: number;
  private readonly indexBase: number;
  private readonly slotBase: number;

  /** A table of `capacity` connection slots, in fresh shared memory. */
  static create(capacity: number): SharedArrayBuffer {
    let indexSize = 1;
    while (indexSize < capacity * 4) indexSize *= 2;
    const words = HEADER_WORDS + indexSize + capacity * SLOT_WORDS;
    const sab = new SharedArrayBuffer(words * 4);
    const h = new Int32Array(sab);
    h[H_MAXCONNS] = DEFAULT_MAXCONNS;
    h[H_CAPACITY] = capacity;
    h[H_INDEX_SIZE] = indexSize;
    h[H_TCP_SEQ_CHK] = 1;
    h[H_FREE] = -1;
    return sab;
  }

  constructor(readonly sab: SharedArrayBuffer) {
    this.i32 = new Int32Array(sab);
    this.f64 = new Float64Array(sab, 0, Math.floor(sab.byteLength / 8));
    this.capacity = this.i32[H_CAPACITY];
    this.indexSize = this.i32[H_INDEX_SIZE];
    this.indexBase = HEADER_WORDS;
    this.slotBase = HEADER_WORDS + this.indexSize;
  }

  lock(): void {
    const w = this.i32;
    for (let i = 0;; i++) {
      if (Atomics.compareExchange(w, H_LOCK, 0, 1) === 0) return;
      if (i >= SPINS) {
        Atomics.compareExchange(w, H_LOCK, 1, 2);
        Atomics.wait(w, H_LOCK, 2, 1);
      }
    }
  }

  unlock(): void {
    if (Atomics.exchange(this.i32, H_LOCK, 0) === 2) Atomics.notify(this.i32, H_LOCK, 1);
  }

  /** Word index of slot `s`. */
  base(s: number): number {
    return this.slotBase + s * SLOT_WORDS;
  }

  /** other_config-free switch of TCP window checks (dpctl/ct-*-tcp-seq-chk). */
  get tcpSeqChk(): boolean {
    return Atomics.load(this.i32, H_TCP_SEQ_CHK) !== 0;
  }

  set tcpSeqChk(on: boolean) {
    Atomics.store(this.i32, H_TCP_SEQ_CHK, on ? 1 : 0);
  }

  get nConns(): number {
    return Atomics.load(this.i32, H_NCONNS);
  }

  get maxConns(): number {
    return Atomics.load(this.i32, H_MAXCONNS);
  }

  set maxConns(n: number) {
    Atomics.store(this.i32, H_MAXCONNS, n);
  }

  expiration(s: number): number {
    return this.f64[(this.base(s) + S_EXPIRE) >> 1];
  }

  setExpiration(s: number, at: number): void {
    this.f64[(this.base(s) + S_EXPIRE) >> 1] = at;
  }

  private hashKey(k: Int32Array, at: number): number {
    return hashWords(k as unknown as Uint32Array, at, KEY_WORDS, 0) >>> 0;
  }

  private keyEquals(k: Int32Array, at: number, w: number): boolean {
    const t = this.i32;
    for (let i = 0; i < KEY_WORDS; i++) if (t[w + i] !== k[at + i]) return false;
    return true;
  }

  /**
   * The slot and direction of the key `k[at..]` (under the lock):
   * `slot * 2 + reply`, or -1.
   */
  find(k: Int32Array, at: number): number {
    const t = this.i32, mask = this.indexSize - 1;
    for (let i = this.hashKey(k, at) & mask;; i = (i + 1) & mask) {
      const e = t[this.indexBase + i];
      if (e === 0) return -1;
      const ref = e - 1, s = ref >> 1;
      if (this.keyEquals(k, at, this.base(s) + (ref & 1 ? S_REV : S_KEY))) return ref;
    }
  }

  private indexInsert(ref: number): void {
    const t = this.i32, mask = this.indexSize - 1;
    const w = this.base(ref >> 1) + (ref & 1 ? S_REV : S_KEY);
    let i = this.hashKey(t, w) & mask;
    while (t[this.indexBase + i] !== 0) i = (i + 1) & mask;
    t[this.indexBase + i] = ref + 1;
  }

  private indexRemove(ref: number): void {
    const t = this.i32, mask = this.indexSize - 1, ib = this.indexBase;
    const w = this.base(ref >> 1) + (ref & 1 ? S_REV : S_KEY);
    let i = this.hashKey(t, w) & mask;
    while (t[ib + i] !== ref + 1) {
      if (t[ib + i] === 0) return;
      i = (i + 1) & mask;
    }
    // Backward-shift deletion: pull later entries of the run into the hole.
    let hole = i;
    for (let j = (i + 1) & mask; t[ib + j] !== 0; j = (j + 1) & mask) {
      const e = t[ib + j] - 1;
      const home = this.hashKey(t, this.base(e >> 1) + (e & 1 ? S_REV : S_KEY)) & mask;
      const dist = (j - home) & mask, holeDist = (j - hole) & mask;
      if (dist >= holeDist) {
        t[ib + hole] = t[ib + j];
        hole = j;
      }
    }
    t[ib + hole] = 0;
  }

  /**
   * Takes a free slot for a connection whose keys the caller then writes
   * (under the lock): -1 when maxconns or the table's capacity is reached.
   */
  alloc(): number {
    const h = this.i32;
    if (h[H_NCONNS] >= h[H_MAXCONNS]) return -1;
    let s = h[H_FREE];
    if (s >= 0) h[H_FREE] = h[this.base(s) + S_NEXT_FREE];
    else if (h[H_HIGH] < this.capacity) s = h[H_HIGH]++;
    else return -1;
    const b = this.base(s);
    h.fill(0, b, b + SLOT_WORDS);
    return s;
  }

  /** Makes slot `s` (keys written) live: indexed under both keys. */
  publish(s: number): void {
    const h = this.i32;
    h[this.base(s) + S_LIVE] = 1;
    this.indexInsert(s * 2);
    this.indexInsert(s * 2 + 1);
    Atomics.add(h, H_NCONNS, 1);
  }

  /** Frees an unpublished slot from `alloc`. */
  release(s: number): void {
    const h = this.i32, b = this.base(s);
    h[b + S_NEXT_FREE] = h[H_FREE];
    h[H_FREE] = s;
  }

  /** Removes live connection `s` (under the lock). */
  remove(s: number): void {
    const h = this.i32, b = this.base(s);
    if (h[b + S_LIVE] !== 1) return;
    this.indexRemove(s * 2);
    this.indexRemove(s * 2 + 1);
    h[b + S_LIVE] = 0;
    this.release(s);
    Atomics.sub(h, H_NCONNS, 1);
  }

  /** Slots ever used: live connections are all below this. */
  get high(): number {
    return this.i32[H_HIGH];
  }

  isLive(s: number): boolean {
    return this.i32[this.base(s) + S_LIVE] === 1;
  }

  /**
   * Removes up to `budget` slots' worth of expired connections, going on
   * from where the last sweep stopped (OVS's ct_sweep); takes the lock.
   * Returns how many it removed.
   */
  sweep(now: number, budget = this.capacity): number {
    let n = 0;
    this.lock();
    try {
      const high = this.i32[H_HIGH];
      let s = this.i32[H_SWEEP_AT];
      for (let i = 0; i < budget && i < high; i++) {
        if (s >= high) s = 0;
        if (this.isLive(s) && this.expiration(s) <= now) {
          this.remove(s);
          n++;
        }
        s++;
      }
      this.i32[H_SWEEP_AT] = s;
    } finally {
      this.unlock();
    }
    return n;
  }
}

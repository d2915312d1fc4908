/**
 * The fields of one ukey record (see ukey_table.ts for the table's memory
 * and consistency protocol): filled while the record is private
 * (ukey_create__), then read and written under the ukey's lock. UkeyPool
 * (_ukey_pool.ts) adds allocation, locks and states on top, and
 * UkeyTable the umaps and chains.
 */
import { ufidHash } from "../flow/mod.ts";
import * as L from "./_ukey_layout.ts";

export class UkeyRecords {
  /** The whole table as Int32 words and as Float64 slots (records are 8-byte aligned). */
  protected readonly w: Int32Array;
  protected readonly f: Float64Array;
  readonly #recBase: number;
  /** A UFID buffer for the table's own use (one thread per table object). */
  protected readonly scratchUfid = new Uint32Array(4);

  constructor(buffer: SharedArrayBuffer) {
    const nb = new Int32Array(buffer, 0, L.H_WORDS)[L.H_NBUCKETS];
    this.#recBase = L.BUCKETS + nb;
    this.w = new Int32Array(buffer);
    this.f = new Float64Array(buffer, 0, buffer.byteLength >> 3);
  }

  /** First Int32 word of record `slot`; records start 8-byte aligned. */
  protected r(slot: number): number {
    return this.#recBase + slot * L.RW;
  }

  /**
   * Fills a CREATED record (ukey_create__). `keyHash` identifies the flow
   * key, so that a second ukey with this L.UFID but another key is told apart.
   */
  init(
    slot: number,
    ufid: Uint32Array,
    pmdId: number,
    keyHash: number,
    revalSeq: number,
    used: number,
    now: number,
  ): void {
    const r = this.r(slot);
    const w = this.w;
    for (let i = 0; i < 4; i++) w[r + L.UFID + i] = ufid[i];
    w[r + L.PMD] = pmdId;
    w[r + L.HASH] = ufidHash(ufid, pmdId);
    w[r + L.KEY_HASH] = keyHash;
    w[r + L.DUMP_SEQ] = 0;
    w[r + L.REVAL_SEQ] = revalSeq;
    w[r + L.TCP_FLAGS] = 0;
    w[r + L.RECIRC_N] = 0;
    const f = r >> 1;
    this.f[f + L.F_PACKETS] = 0;
    this.f[f + L.F_BYTES] = 0;
    this.f[f + L.F_USED] = used;
    this.f[f + L.F_CREATED] = now;
  }

  // -- fields guarded by the ukey lock ---------------------------------------

  gen(slot: number): number {
    return Atomics.load(this.w, this.r(slot) + L.GEN);
  }
  dumpSeq(slot: number): number {
    return this.w[this.r(slot) + L.DUMP_SEQ];
  }
  setDumpSeq(slot: number, v: number): void {
    this.w[this.r(slot) + L.DUMP_SEQ] = v;
  }
  revalSeq(slot: number): number {
    return this.w[this.r(slot) + L.REVAL_SEQ];
  }
  setRevalSeq(slot: number, v: number): void {
    this.w[this.r(slot) + L.REVAL_SEQ] = v;
  }
  /** Id + 1 of the revalidator whose memory holds this ukey's xlate cache; 0 none. */
  xcacheOwner(slot: number): number {
    return this.w[this.r(slot) + L.XCACHE];
  }
  setXcacheOwner(slot: number, v: number): void {
    this.w[this.r(slot) + L.XCACHE] = v;
  }
  /** The digest of the installed datapath actions (see actions_digest.ts). */
  actionsDigestEquals(slot: number, d: Uint32Array): boolean {
    const r = this.r(slot);
    const w = this.w;
    return w[r + L.ACT0] === (d[0] | 0) && w[r + L.ACT1] === (d[1] | 0) &&
      w[r + L.ACT_LEN] === (d[2] | 0);
  }
  setActionsDigest(slot: number, d: Uint32Array): void {
    const r = this.r(slot);
    this.w[r + L.ACT0] = d[0];
    this.w[r + L.ACT1] = d[1];
    this.w[r + L.ACT_LEN] = d[2];
  }
  ufid(slot: number, out: Uint32Array): Uint32Array {
    const r = this.r(slot);
    for (let i = 0; i < 4; i++) out[i] = this.w[r + L.UFID + i];
    return out;
  }
  pmdId(slot: number): number {
    return this.w[this.r(slot) + L.PMD];
  }
  packets(slot: number): number {
    return this.f[(this.r(slot) >> 1) + L.F_PACKETS];
  }
  bytes(slot: number): number {
    return this.f[(this.r(slot) >> 1) + L.F_BYTES];
  }
  used(slot: number): number {
    return this.f[(this.r(slot) >> 1) + L.F_USED];
  }
  created(slot: number): number {
    return this.f[(this.r(slot) >> 1) + L.F_CREATED];
  }
  tcpFlags(slot: number): number {
    return this.w[this.r(slot) + L.TCP_FLAGS] & 0xffff;
  }
  /**
   * Whether the sweep after dump `dumpSeq` has nothing to do for this
   * ukey: OPERATIONAL, dumped by that dump, and no missed dump to reset.
   * Lock-free: a ukey changing meanwhile is one the sweep could as well
   * have locked a moment earlier.
   */
  sweepKeeps(slot: number, dumpSeq: number): boolean {
    const r = this.r(slot), w = this.w;
    return w[r + L.STATE] === L.UKEY_OPERATIONAL && w[r + L.DUMP_SEQ] === dumpSeq &&
      w[r + L.TCP_FLAGS] >>> L.MISSED_SHIFT === 0;
  }
  /** Consecutive dumps that missed the ukey's flow (missed_dumps; 0 when created). */
  missedDumps(slot: number): number {
    return this.w[this.r(slot) + L.TCP_FLAGS] >>> L.MISSED_SHIFT;
  }
  /**
   * The sweep's bookkeeping of missed_dumps: back to 0 when the ukey's flow
   * was dumped in the dump `dumpSeq` that just ended, else one more.
   * Returns the count.
   */
  countMissedDump(slot: number, dumpSeq: number): number {
    const missed = this.dumpSeq(slot) === dumpSeq ? 0 : this.missedDumps(slot) + 1;
    this.setMissedDumps(slot, missed);
    return missed;
  }
  setMissedDumps(slot: number, n: number): void {
    const i = this.r(slot) + L.TCP_FLAGS;
    this.w[i] = (this.w[i] & 0xffff) | (Math.min(n, 0xffff) << L.MISSED_SHIFT);
  }
  /**
   * The ukey takes over the references of `ids` (ukey->recircs), giving
   * the ones it held to `release` (a MODIFY's new actions replace the old).
   * False, and nothing changed, when `ids` do not fit in a record. The
   * caller holds the ukey's lock, or the record is still private.
   */
  holdRecircs(slot: number, ids: readonly number[], release?: (id: number) => void): boolean {
    if (ids.length > L.MAX_UKEY_RECIRCS) return false;
    const r = this.r(slot);
    this.dropRecircs(r, release);
    for (let i = 0; i < ids.length; i++) this.w[r + L.RECIRC0 + i] = ids[i];
    this.w[r + L.RECIRC_N] = ids.length;
    return true;
  }
  /** How many recirculation ids the ukey holds. */
  recircCount(slot: number): number {
    return this.w[this.r(slot) + L.RECIRC_N];
  }
  protected dropRecircs(r: number, release?: (id: number) => void): void {
    const w = this.w;
    for (let i = 0; i < w[r + L.RECIRC_N]; i++) release?.(w[r + L.RECIRC0 + i]);
    w[r + L.RECIRC_N] = 0;
  }
  setStats(slot: number, packets: number, bytes: number, used: number, tcpFlags: number): void {
    const f = this.r(slot) >> 1;
    this.f[f + L.F_PACKETS] = packets;
    this.f[f + L.F_BYTES] = bytes;
    this.f[f + L.F_USED] = used;
    const i = this.r(slot) + L.TCP_FLAGS;
    this.w[i] = (this.w[i] & ~0xffff) | (tcpFlags & 0xffff);
  }
}

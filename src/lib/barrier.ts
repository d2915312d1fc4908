/**
 * A reusable barrier in shared memory, after OVS's `ovs_barrier`: `size`
 * participants, numbered 0..size-1, call block(member); none returns
 * until all have arrived, then all are released together and the barrier
 * is ready for the next round.
 *
 * Unlike OVS's, a participant's seat can be kept by someone else: when a
 * thread dies (OVS's threads cannot die alone, udpif's workers can), the
 * main thread arrives in its name (`arriveFor`) for the rounds it owes,
 * so that its peers finish their cycle, and its replacement takes the
 * seat back at a cycle's start. So the barrier records who arrived, not
 * how many.
 *
 * Layout: one BigInt64 word, `generation << 32 | arrived`, where bit m of
 * `arrived` says participant m has arrived in this round; then an Int32
 * word, the size. Arrivals are compare-and-swaps on the one word, so an
 * arrival is tied to the round it was made in: an arrival on behalf of a
 * dead participant can never land in a later round by mistake, and
 * arriving twice in one round changes nothing. The last arrival clears
 * the mask and bumps the generation in the same swap, then notifies;
 * waiters sleep until the generation they arrived in has passed.
 */

export const BARRIER_BYTES = 16;
/** Participants a barrier can have (bits of the arrival mask). */
export const BARRIER_MAX_SIZE = 31;

const WORD = 0;
const SIZE = 2;

export class Barrier {
  readonly #w: BigInt64Array;
  readonly #i: Int32Array;

  constructor(buffer: SharedArrayBuffer, byteOffset = 0) {
    this.#w = new BigInt64Array(buffer, byteOffset, 1);
    this.#i = new Int32Array(buffer, byteOffset, 4);
  }

  /** A barrier for `size` participants in fresh shared memory. */
  static create(size: number): Barrier {
    if (!Number.isInteger(size) || size < 1 || size > BARRIER_MAX_SIZE) {
      throw new RangeError(
        `barrier size must be an integer from 1 to ${BARRIER_MAX_SIZE}, got ${size}`,
      );
    }
    const b = new Barrier(new SharedArrayBuffer(BARRIER_BYTES));
    b.#i[SIZE] = size;
    return b;
  }

  /** The barrier over memory another worker created. */
  static attach(buffer: SharedArrayBuffer, byteOffset = 0): Barrier {
    return new Barrier(buffer, byteOffset);
  }

  get buffer(): SharedArrayBuffer {
    return this.#w.buffer as SharedArrayBuffer;
  }

  get size(): number {
    return Atomics.load(this.#i, SIZE);
  }

  /** Rounds completed so far. */
  get generation(): number {
    return Number(Atomics.load(this.#w, WORD) >> 32n);
  }

  /** Whether `member` has arrived in the round now in progress. */
  hasArrived(member: number): boolean {
    return (Atomics.load(this.#w, WORD) & (1n << BigInt(member))) !== 0n;
  }

  /** Whether anyone has arrived in the round now in progress. */
  anyArrived(): boolean {
    return (Atomics.load(this.#w, WORD) & 0xffffffffn) !== 0n;
  }

  #check(member: number): void {
    if (!Number.isInteger(member) || member < 0 || member >= this.size) {
      throw new RangeError(`barrier participant ${member} out of range 0..${this.size - 1}`);
    }
  }

  /**
   * Arrives as `member` in round `gen` only if that round is still in
   * progress and `member` has not arrived in it yet. Returns whether this
   * call made the arrival.
   */
  arriveFor(member: number, gen: number): boolean {
    this.#check(member);
    const bit = 1n << BigInt(member);
    const full = (1n << BigInt(this.size)) - 1n;
    for (;;) {
      const old = Atomics.load(this.#w, WORD);
      if (Number(old >> 32n) !== gen || (old & bit) !== 0n) return false;
      const arrived = (old & 0xffffffffn) | bit;
      const next = arrived === full ? BigInt.asIntN(64, (old >> 32n) + 1n << 32n) : old | bit;
      if (Atomics.compareExchange(this.#w, WORD, old, next) !== old) continue;
      if (arrived === full) Atomics.notify(this.#w, WORD);
      return true;
    }
  }

  /** Arrives as `member` in the current round; returns that round's generation. */
  arrive(member: number): number {
    for (;;) {
      const gen = this.generation;
      if (this.arriveFor(member, gen)) return gen;
      if (this.generation === gen) {
        throw new Error(`barrier participant ${member} arrived twice in round ${gen}`);
      }
    }
  }

  /** Blocks (workers only) until round `gen` is over. */
  waitPast(gen: number): void {
    for (;;) {
      const v = Atomics.load(this.#w, WORD);
      if (Number(v >> 32n) !== gen) return;
      Atomics.wait(this.#w, WORD, v);
    }
  }

  /** waitPast() for a thread that must not block its event loop. */
  async waitPastAsync(gen: number): Promise<void> {
    for (;;) {
      const v = Atomics.load(this.#w, WORD);
      if (Number(v >> 32n) !== gen) return;
      const r = Atomics.waitAsync(this.#w, WORD, v);
      if (r.async) await r.value;
    }
  }

  /** Blocks until every participant has arrived. Workers only. */
  block(member: number): void {
    this.waitPast(this.arrive(member));
  }

  /** block() for the main thread, which must not block its event loop. */
  async blockAsync(member: number): Promise<void> {
    await this.waitPastAsync(this.arrive(member));
  }
}

/**
 * A sequence number in shared memory, after OVS's `struct seq`: any worker
 * can read it, bump it, or sleep until it differs from a value it saw.
 *
 * A seq is one Int32 word of a SharedArrayBuffer. Values wrap at 2^32 and
 * are only ever compared for equality, so wrapping is harmless. A seq may
 * share a "bell" word with other seqs: every change also rings the bell,
 * which lets one thread sleep on several seqs at once (OVS's poll loop
 * waits on many seqs; Atomics.wait only watches one address).
 */

/** Bytes one seq needs when laid out by the caller. */
export const SEQ_BYTES = 4;

export type SeqWaitResult = "changed" | "timed-out";

export class Seq {
  readonly #w: Int32Array;
  readonly #i: number;
  readonly #bell: Seq | undefined;

  /**
   * A seq over word `index` of `words`. `bell`, when given, is rung on
   * every change.
   */
  constructor(words: Int32Array, index: number, bell?: Seq) {
    this.#w = words;
    this.#i = index;
    this.#bell = bell;
  }

  /** A seq in its own fresh shared word, starting at 1 as OVS's does. */
  static create(bell?: Seq): Seq {
    const w = new Int32Array(new SharedArrayBuffer(SEQ_BYTES));
    w[0] = 1;
    return new Seq(w, 0, bell);
  }

  /** The memory this seq lives in, to hand to another worker. */
  get buffer(): SharedArrayBuffer {
    return this.#w.buffer as SharedArrayBuffer;
  }

  get index(): number {
    return this.#w.byteOffset / 4 + this.#i;
  }

  read(): number {
    return Atomics.load(this.#w, this.#i);
  }

  /** Bumps the value and wakes every thread waiting on it (`seq_change`). */
  change(): number {
    const v = (Atomics.add(this.#w, this.#i, 1) + 1) | 0;
    Atomics.notify(this.#w, this.#i);
    this.#bell?.change();
    return v;
  }

  /**
   * Blocks until the value differs from `seen` or `timeoutMs` (real time)
   * passes. Workers only: the main thread must use waitAsync.
   */
  wait(seen: number, timeoutMs = Infinity): SeqWaitResult {
    const r = Atomics.wait(this.#w, this.#i, seen | 0, timeoutMs);
    return r === "timed-out" ? "timed-out" : "changed";
  }

  /** wait() for the main thread: resolves instead of blocking. */
  async waitAsync(seen: number, timeoutMs = Infinity): Promise<SeqWaitResult> {
    const r = Atomics.waitAsync(this.#w, this.#i, seen | 0, timeoutMs);
    const v = r.async ? await r.value : r.value;
    return v === "timed-out" ? "timed-out" : "changed";
  }
}

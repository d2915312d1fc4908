/**
 * The packet and byte counters of a datapath backer's patch ports. A
 * patch port has no datapath port, so no datapath counts its traffic;
 * OVS counts it in translation instead (patch_port_output bumps the
 * sending port's tx and the peer's rx with the translation's stats, and
 * records both in the xlate cache so revalidation keeps counting). Here
 * every thread's translation adds to one shared table, a slot per patch
 * port (the backer numbers them), and the main thread reads it for port
 * stats replies.
 *
 * Each counter is 64 bits as two 32-bit words added with Atomics (the
 * low word's carry goes to the high word), so adding allocates nothing;
 * a reader racing an add that carries may see the high word late, as
 * OVS's readers of netdev stats race its writers.
 *
 * Thread-safety: any thread may add (translation workers, the main
 * thread's packet-outs); the main thread reads.
 */
import type { XlateCache } from "./cache.ts";

/** Words per slot: rx packets, rx bytes, tx packets, tx bytes, two words each. */
const SLOT_WORDS = 8;
const RX = 0;
const TX = 4;
const TWO_32 = 4294967296;

/** Counters of one patch port, as port stats replies carry them. */
export interface PatchPortCounts {
  rxPackets: number;
  rxBytes: number;
  txPackets: number;
  txBytes: number;
}

export class PatchCounters {
  readonly #words: Uint32Array;

  private constructor(readonly buffer: SharedArrayBuffer) {
    this.#words = new Uint32Array(buffer);
  }

  /** Counters for `slots` patch ports, all zero. */
  static create(slots: number): PatchCounters {
    return new PatchCounters(new SharedArrayBuffer(Math.max(1, slots) * SLOT_WORDS * 4));
  }

  /** Another thread's handle on the counters made by `create`. */
  static attach(buffer: SharedArrayBuffer): PatchCounters {
    return new PatchCounters(buffer);
  }

  /** Counts `packets` and `bytes` that left by patch port `tx` and so came in on its peer `rx`. */
  cross(tx: number, rx: number, packets: number, bytes: number): void {
    const w = this.#words;
    if (tx < 0 || rx < 0 || (Math.max(tx, rx) + 1) * SLOT_WORDS > w.length) return;
    this.#add(tx * SLOT_WORDS + TX, packets);
    this.#add(tx * SLOT_WORDS + TX + 2, bytes);
    this.#add(rx * SLOT_WORDS + RX, packets);
    this.#add(rx * SLOT_WORDS + RX + 2, bytes);
  }

  /** Patch port `slot`'s counters (zeros for a slot out of range). */
  read(slot: number): PatchPortCounts {
    const at = (i: number) => {
      const base = slot * SLOT_WORDS + i;
      if (slot < 0 || base + 1 >= this.#words.length) return 0;
      return Atomics.load(this.#words, base + 1) * TWO_32 + Atomics.load(this.#words, base);
    };
    return { rxPackets: at(RX), rxBytes: at(RX + 2), txPackets: at(TX), txBytes: at(TX + 2) };
  }

  #add(i: number, n: number): void {
    const low = n % TWO_32;
    const high = Math.floor(n / TWO_32);
    const before = Atomics.add(this.#words, i, low);
    const carry = before + low >= TWO_32 ? 1 : 0;
    if (high + carry) Atomics.add(this.#words, i + 1, high + carry);
  }
}

/** Pushes a flow's new `packets` and `bytes` to the patch ports its cache says it crossed. */
export function xlateCachePushPatches(
  cache: XlateCache,
  counters: PatchCounters,
  packets: number,
  bytes: number,
): void {
  if (packets === 0) return;
  const p = cache.patches;
  for (let i = 0; i < p.length; i += 2) counters.cross(p[i], p[i + 1], packets, bytes);
}

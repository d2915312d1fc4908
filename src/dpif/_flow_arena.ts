/**
 * The flow table's record arena (flow_table.ts): each flow's
 * variable-length part (masked key, actions, key as a miniflow) is one
 * record in a region of the table's SharedArrayBuffer, allocated in units
 * of ARENA_UNIT_WORDS words, as OVS mallocs a dp_netdev_flow with its
 * actions and a dpcls rule just as long as its mask needs instead of the
 * largest any flow could use.
 *
 * Allocation is segregated fit: one LIFO free list per record size (in
 * units), then the bump pointer, then a larger free chunk split in two.
 * Free chunks are linked through their first word (in the shared region:
 * a reader still copying a freed record sees its slot's seq change and
 * retries, so the link word is never trusted by anyone but the writer).
 *
 * Thread-safety: private to the PMD that owns the table. Nothing of it
 * survives the writer: a new writer rebuilds the free lists from the live
 * slots' records (`FlowArena.rebuilt`), so a dead writer's half-done
 * allocation is just free space again.
 */

/** Words per allocation unit. */
export const ARENA_UNIT_WORDS = 4;
/** Largest record, in units: every key word twice, the map and the longest actions. */
export const ARENA_MAX_UNITS = 96;
const NONE = -1;

export class FlowArena {
  /** Head unit of the free list of each record size, or NONE. */
  private readonly heads = new Int32Array(ARENA_MAX_UNITS + 1).fill(NONE);
  private bump = 0;

  /**
   * `u32` is the table's word view; the arena's units start at word
   * `base` and there are `units` of them.
   */
  constructor(
    private readonly u32: Uint32Array,
    private readonly base: number,
    private readonly units: number,
  ) {}

  /** An arena whose used units are exactly the `[start, units]` records given. */
  static rebuilt(
    u32: Uint32Array,
    base: number,
    units: number,
    live: [start: number, units: number][],
  ): FlowArena {
    const a = new FlowArena(u32, base, units);
    live.sort((x, y) => x[0] - y[0]);
    let at = 0;
    for (const [start, n] of live) {
      a.freeRange(at, start);
      at = start + n;
    }
    a.bump = at;
    return a;
  }

  /** Word index (in `u32`) of unit `unit`. */
  wordOf(unit: number): number {
    return this.base + unit * ARENA_UNIT_WORDS;
  }

  /** The unit holding word `word`. */
  unitOf(word: number): number {
    return (word - this.base) / ARENA_UNIT_WORDS;
  }

  /** Whether a record of `n` units can be allocated now. */
  hasRoom(n: number): boolean {
    if (this.bump + n <= this.units) return true;
    for (let size = n; size <= ARENA_MAX_UNITS; size++) if (this.heads[size] !== NONE) return true;
    return false;
  }

  /** First unit of a fresh `n`-unit record, or -1 when the arena is full. */
  alloc(n: number): number {
    const head = this.heads[n];
    if (head !== NONE) return this.pop(n, head);
    if (this.bump + n <= this.units) {
      this.bump += n;
      return this.bump - n;
    }
    for (let size = n + 1; size <= ARENA_MAX_UNITS; size++) {
      const h = this.heads[size];
      if (h === NONE) continue;
      this.pop(size, h);
      this.free(h + n, size - n);
      return h;
    }
    return -1;
  }

  /** Returns the `n`-unit record at `unit`. */
  free(unit: number, n: number): void {
    this.u32[this.wordOf(unit)] = this.heads[n];
    this.heads[n] = unit;
  }

  private pop(n: number, head: number): number {
    this.heads[n] = this.u32[this.wordOf(head)] | 0;
    return head;
  }

  /** Frees every unit in [from, to), in chunks no larger than the largest record. */
  private freeRange(from: number, to: number): void {
    while (to - from > 0) {
      const n = Math.min(ARENA_MAX_UNITS, to - from);
      this.free(from, n);
      from += n;
    }
  }
}

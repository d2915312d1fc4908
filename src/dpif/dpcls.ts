/**
 * dpcls, the megaflow classifier of one PMD: one subtable per distinct
 * mask, each an open-addressing hash of the flows' masked keys. A lookup
 * tries the subtables in rank order and stops at the first match;
 * `rank()` re-sorts them by hits since the last ranking, as OVS does
 * once per optimisation interval, so the busiest masks are tried first.
 *
 * Each subtable also indexes its flows by one masked key word (the word
 * whose values differ most among its flows, chosen again as the
 * subtable changes), in buckets by a multiplicative hash of the value.
 * A bucket knows whether no flow, exactly one flow (which, with a tag
 * of its value's second hash) or several flows have a value that lands
 * in it. So a packet whose value of that word no flow has is passed over
 * after one word, nearly always without a call; one whose bucket names a
 * single flow is checked against that flow alone; only a bucket of
 * several flows costs the hash over every mask word and a probe.
 * With 16 subtables a lookup tries 8.5 of them on average and all but
 * one miss, so the miss is what a lookup mostly costs. OVS's dpcls has
 * no such index (it hashes and probes every subtable's cmap); the OVS
 * classifier skips subtables the same way with its staged lookup and
 * prefix tries. A matching flow always has the packet's value of the
 * word, so the index never hides a flow: lookups find exactly the flows
 * the hash alone finds.
 *
 * Flows are slot numbers in the shared FlowTable; keys are compared
 * against the table's masked copy (the mask's nonzero words in index
 * order, FlowTable.maskedKeyIndex), so the classifier holds no keys of
 * its own.
 *
 * Subtables grow and choose their index word anew as they fill, a
 * little per insert (_dpcls_subtable.ts).
 *
 * Thread-safety: private to the PMD that owns the flow table.
 */
import { FLOW_WORDS } from "../flow/mod.ts";
import { GOLDEN, Subtable } from "./_dpcls_subtable.ts";
import type { FlowTable } from "./flow_table.ts";

export class Dpcls {
  /** Subtables in lookup order; `count` of them are in use. */
  subtables: Subtable[] = [];
  /** Subtables visited by lookups that hit, for the "avg. subtable lookups" figure. */
  lookupsVisited = 0;

  /** Subtables by mask id, for the SMC's check of a cached flow. */
  private readonly byMask: (Subtable | undefined)[];

  /** Bits a slot + 1 takes (see Subtable). */
  private readonly slotBits: number;
  /** Each flow's place in its subtable's member list (see Subtable). */
  private readonly memberAt: Int32Array;

  constructor(readonly table: FlowTable) {
    this.byMask = new Array(table.maskCapacity).fill(undefined);
    this.slotBits = Math.min(30, 32 - Math.clz32(table.capacity));
    this.memberAt = new Int32Array(table.capacity);
  }

  subtableFor(maskId: number): Subtable | undefined {
    return this.byMask[maskId];
  }

  /**
   * Finds the subtable whose mask equals `mask`: one with as many nonzero
   * words, each of its own also in `mask`. `nonzeroWords`, when the
   * caller counted them already, spares the count.
   */
  subtableWithMask(mask: Uint32Array, nonzeroWords = -1): Subtable | undefined {
    let n = nonzeroWords;
    if (n < 0) {
      n = 0;
      for (let i = 0; i < FLOW_WORDS; i++) if (mask[i] !== 0) n++;
    }
    outer: for (const st of this.subtables) {
      if (st.nWords !== n) continue;
      const wm = st.wordMask;
      for (let j = 0; j < wm.length; j += 2) if ((mask[wm[j]] ^ wm[j + 1]) !== 0) continue outer;
      return st;
    }
    return undefined;
  }

  addSubtable(maskId: number, mask: Uint32Array): Subtable {
    const st = new Subtable(maskId, mask, this.slotBits, this.memberAt);
    this.subtables.push(st);
    this.byMask[maskId] = st;
    return st;
  }

  removeSubtable(st: Subtable): void {
    this.subtables.splice(this.subtables.indexOf(st), 1);
    this.byMask[st.maskId] = undefined;
  }

  /** The slot of the first flow (in rank order) matching `key`, or -1. */
  lookup(key: Uint32Array, off: number): number {
    const sts = this.subtables;
    for (let i = 0; i < sts.length; i++) {
      const st = sts[i];
      // The index's bucket, here so that a subtable passed over costs no call.
      const v = key[off + st.indexWord] & st.indexMask;
      const b = st.buckets[Math.imul(v, GOLDEN) >>> st.indexShift];
      if (b === 0) continue;
      const s = st.findFrom(b, v, key, off, this.table);
      if (s >= 0) {
        st.hits++;
        this.lookupsVisited += i + 1;
        return s;
      }
    }
    return -1;
  }

  /** Orders subtables by hits since the last ranking, then restarts the counts. */
  rank(): void {
    this.subtables.sort((a, b) => b.hits - a.hits);
    for (const st of this.subtables) st.hits = 0;
  }
}

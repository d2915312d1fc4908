/**
 * The per-flow decision of a revalidator (revalidate_ukey and
 * revalidate_ukey__): keep the datapath flow, modify its actions in place,
 * or delete it; and push the stats delta to the rules on the way.
 *
 * An xlate cache is a translation's own object, so it lives in the memory
 * of the revalidator worker that made it (an XcacheStore); the ukey only
 * records which revalidator that is. Another revalidator meeting the ukey
 * acts as OVS does for a ukey without a cache, and builds its own.
 */
import { F, FLOW_WORDS, type FlowKey, newKey, type OdpAction } from "../flow/mod.ts";
import { coverageCounter, timeMsec } from "../lib/mod.ts";
import {
  FDR_AVOID_CACHING,
  FDR_FLOW_WILDCARDED,
  FDR_NONE,
  FDR_TOO_EXPENSIVE,
  FDR_XLATION_ERROR,
} from "./deletion_reasons.ts";
import { logUnexpectedStatsJump } from "./_stats_jump.ts";
import { ActionsDigestMemo } from "./actions_digest.ts";
import { putActionsFor, type UdpifContext } from "./handler.ts";
import type { DpFlowStats, XlateRequest, XlateResult } from "./ports.ts";
import { releaseRecircs, translateSafely } from "./_safe_xlate.ts";
import { beginStats, commitStats } from "./worker_journal.ts";

export const UKEY_KEEP = 0;
export const UKEY_DELETE = 1;
export const UKEY_MODIFY = 2;

const covInvalidStatReset = coverageCounter("ukey_invalid_stat_reset");

const NO_RECIRCS: readonly number[] = [];

/** Slots per page of an XcacheStore (a power of two). */
const PAGE_BITS = 12;
const PAGE_SLOTS = 1 << PAGE_BITS;
const PAGE_MASK = PAGE_SLOTS - 1;

/**
 * The xlate caches a revalidator made, by ukey slot and generation. Slots
 * are dense small integers, so arrays indexed by slot, not Maps: a full
 * revalidation replaces every flow's cache, and hashing slots was a
 * tenth of it. The arrays come in pages of PAGE_SLOTS slots, added as
 * slots need them: growing one flat array to 200 000 slots (copies of a
 * large-object array, element by element) stalled the first full pass
 * over that many flows by 30-60 ms, and `new Array(n)` of more than
 * 100 000 elements makes a dictionary (a hash lookup per slot).
 */
export class XcacheStore {
  readonly owner: number;
  /** Per page, per slot: the ukey generation the cache belongs to, NaN for none (equal to no generation). */
  readonly #gens: Float64Array[] = [];
  readonly #xcs: unknown[][] = [];
  #size = 0;
  /** Caches no ukey of this worker's uses now, for `take` (see `reclaim`). */
  readonly #spare: unknown[] = [];
  #taken = false;

  /** Whether a `take` since the last `reclaim` found no cache to give (a new one was made). */
  get wantsSpares(): boolean {
    return this.#taken;
  }

  /** `owner` is the revalidator's index + 1, as recorded in ukeys. */
  constructor(owner: number) {
    this.owner = owner;
  }

  get(slot: number, gen: number): unknown {
    const page = slot >>> PAGE_BITS, i = slot & PAGE_MASK;
    return page < this.#gens.length && this.#gens[page][i] === gen ? this.#xcs[page][i] : undefined;
  }
  set(slot: number, gen: number, xc: unknown): void {
    const page = slot >>> PAGE_BITS, i = slot & PAGE_MASK;
    while (page >= this.#gens.length) this.#addPage();
    const gens = this.#gens[page];
    if (Number.isNaN(gens[i])) this.#size++;
    gens[i] = gen;
    this.#xcs[page][i] = xc;
  }
  /**
   * Removes and returns the cache held for `slot` whatever its generation
   * or owner, as a container for a new translation to clear and refill:
   * with two revalidators a flow is dumped by either, so the cache this
   * one made for the slot may be stale (the ukey's cache is the other's
   * now) yet still saves allocating one.
   */
  take(slot: number): unknown {
    const page = slot >>> PAGE_BITS, i = slot & PAGE_MASK;
    if (page >= this.#gens.length || Number.isNaN(this.#gens[page][i])) {
      if (this.#spare.length === 0) this.#taken = true;
      return this.#spare.pop();
    }
    const xc = this.#xcs[page][i];
    this.drop(slot);
    return xc;
  }
  drop(slot: number): void {
    const page = slot >>> PAGE_BITS, i = slot & PAGE_MASK;
    if (page >= this.#gens.length || Number.isNaN(this.#gens[page][i])) return;
    this.#gens[page][i] = NaN;
    this.#xcs[page][i] = undefined;
    this.#size--;
  }
  get size(): number {
    return this.#size;
  }
  /**
   * Keeps, as containers for later translations (`take`), the caches held
   * for ukeys whose cache is not this worker's (`ownerOf(slot)`: another
   * revalidator made a newer one, or the ukey was freed or recycled). With
   * two revalidators either may dump a flow, so without this each would
   * end up holding a cache per flow, and make new ones (old-generation
   * garbage) until then.
   */
  reclaim(ownerOf: (slot: number) => number): void {
    this.#taken = false;
    for (let page = 0; page < this.#gens.length; page++) {
      const gens = this.#gens[page], base = page << PAGE_BITS;
      for (let i = 0; i < PAGE_SLOTS; i++) {
        if (Number.isNaN(gens[i]) || ownerOf(base + i) === this.owner) continue;
        this.#spare.push(this.#xcs[page][i]);
        this.drop(base + i);
      }
    }
  }

  /** Forgets caches of ukeys that were freed or recycled. */
  prune(genOf: (slot: number) => number): void {
    for (let page = 0; page < this.#gens.length; page++) {
      const gens = this.#gens[page], base = page << PAGE_BITS;
      for (let i = 0; i < PAGE_SLOTS; i++) {
        if (!Number.isNaN(gens[i]) && genOf(base + i) !== gens[i]) this.drop(base + i);
      }
    }
  }

  #addPage(): void {
    this.#gens.push(new Float64Array(PAGE_SLOTS).fill(NaN));
    this.#xcs.push(new Array(PAGE_SLOTS).fill(undefined));
  }
}

/** wc has a bit the installed mask wildcards (flow_wildcards_has_extra). */
export function maskTooWide(dpMask: FlowKey, wc: FlowKey): boolean {
  for (let i = 0; i < FLOW_WORDS; i++) if ((wc[i] & ~dpMask[i]) !== 0) return true;
  return false;
}

/**
 * What revalidating one ukey decided; `actions` is set for UKEY_MODIFY,
 * `reason` (an FDR_* of deletion_reasons.ts) for UKEY_DELETE.
 */
export interface RevalOutcome {
  result: number;
  actions: OdpAction[] | undefined;
  reason: number;
}

export class UkeyRevalidation {
  readonly #ctx: UdpifContext;
  readonly xcaches: XcacheStore;
  readonly #wc = newKey();
  readonly #digest = new Uint32Array(3);
  readonly #digests = new ActionsDigestMemo();
  readonly out: RevalOutcome = { result: UKEY_KEEP, actions: undefined, reason: FDR_NONE };
  /** The request of every translation here, refilled per flow. */
  readonly #req: XlateRequest = {
    key: newKey(),
    packet: null,
    packets: 0,
    bytes: 0,
    tcpFlags: 0,
    used: 0,
    wc: null,
    wcReplace: false,
    wantXcache: true,
    reuseXcache: undefined,
    // Each result is done with before the next translation: only a
    // MODIFY keeps actions, and it copies them (#decide).
    reuseResult: true,
    now: undefined,
  };
  /** Gives a recirculation id reference back (one function, not one per flow). */
  readonly #release = (id: number) => this.#ctx.xlate.releaseRecirc?.(id);

  constructor(ctx: UdpifContext, xcaches: XcacheStore) {
    this.#ctx = ctx;
    this.xcaches = xcaches;
  }

  /** This worker's xlate cache for the ukey, if it has a current one. */
  xcacheOf(slot: number): unknown {
    const { ukeys } = this.#ctx;
    if (ukeys.xcacheOwner(slot) !== this.xcaches.owner) return undefined;
    return this.xcaches.get(slot, ukeys.gen(slot));
  }

  #setXcache(slot: number, xc: unknown): void {
    const { ukeys } = this.#ctx;
    this.xcaches.set(slot, ukeys.gen(slot), xc);
    ukeys.setXcacheOwner(slot, this.xcaches.owner);
  }

  /**
   * should_revalidate(): is a full translation worth it for this flow?
   * `packets` is the push since the last dump; Infinity stands for OVS's
   * unsigned wrap of a counter that went backwards (OVS 3.2 and later).
   * min-revalidate-pps 0 means "always" since OVS 3.2 (e5b3cb999
   * "revalidator: Allow min-revalidator-pps to be 0."); OVS 3.1 took 0
   * as 1.
   */
  shouldRevalidate(packets: number, used: number): boolean {
    const { shared } = this.#ctx;
    let pps = shared.minRevalidatePps;
    if (pps === 0) {
      if (!shared.compat31) return true;
      pps = 1;
    }
    if (!used) return true;
    if (shared.dumpDuration < shared.maxRevalidator / 2) return true;
    const p = Math.max(packets, 1);
    const now = Math.max(used, timeMsec());
    const metric = Math.floor((now - used) / p);
    return metric < Math.floor(1000 / pps);
  }

  /**
   * Whether revalidate() will read the flow's key and mask: to translate
   * (reval_seq moved, or new packets and no xlate cache to credit them
   * with) or to log a counter that went backwards. Otherwise it only
   * compares and pushes stats, which a terse dump's flow has.
   */
  needsFlow(slot: number, stats: DpFlowStats, revalSeq: number): boolean {
    const { ukeys } = this.#ctx;
    if (ukeys.revalSeq(slot) !== revalSeq) return true;
    const oldPackets = ukeys.packets(slot);
    if (stats.packets < oldPackets) return true;
    return stats.packets > oldPackets && this.xcacheOf(slot) === undefined;
  }

  /**
   * revalidate_ukey(): `stats` are the flow's datapath counters, `key` and
   * `mask` the installed flow (needed only when `needsFlow` says so);
   * `now`, the caller's time_msec() for its batch, is what a translation
   * here uses (absent: it reads the clock). Caller holds the ukey lock.
   */
  revalidate(
    slot: number,
    stats: DpFlowStats,
    key: FlowKey,
    mask: FlowKey,
    revalSeq: number,
    now?: number,
  ): RevalOutcome {
    const { ukeys, xlate } = this.#ctx;
    const out = this.out;
    this.#req.now = now;
    out.result = UKEY_DELETE;
    out.actions = undefined;
    out.reason = FDR_NONE;
    const needRevalidate = ukeys.revalSeq(slot) !== revalSeq;
    const oldPackets = ukeys.packets(slot);
    // Rules are credited only what was added; a counter that went
    // backwards credits nothing (OVS's unsigned difference cannot be held).
    const pushPackets = stats.packets > oldPackets ? stats.packets - oldPackets : 0;
    const oldBytes = ukeys.bytes(slot);
    const pushBytes = stats.bytes > oldBytes ? stats.bytes - oldBytes : 0;
    // OVS 3.1 judged a flow whose counter went backwards by a push of 0;
    // since 3.2 it counts the jump (4d69c1900 "ofproto-dpif-upcall: Reset
    // ukey's last stats value if the datapath changed."), logs it and
    // judges by the unsigned difference (59c908410 "ofproto-dpif-upcall:
    // Don't set statistics to 0 when they jump back.").
    let judgedPackets = pushPackets;
    if (stats.packets < oldPackets && !this.#ctx.shared.compat31) {
      covInvalidStatReset.inc();
      logUnexpectedStatsJump(this.#ctx, slot, oldPackets, stats.packets, key, stats);
      judgedPackets = Infinity;
    }

    if (needRevalidate) {
      if (this.shouldRevalidate(judgedPackets, ukeys.used(slot))) {
        this.#full(slot, stats.tcpFlags, key, mask);
      } else {
        out.reason = FDR_TOO_EXPENSIVE;
      }
    } else if (pushPackets === 0 || this.xcacheOf(slot) !== undefined) {
      out.result = UKEY_KEEP;
    } else {
      const res = translateSafely(xlate, this.#request(key, stats.tcpFlags, null, undefined));
      releaseRecircs(xlate, res);
      if (res.actions) {
        this.#setXcache(slot, res.xcache);
        out.result = UKEY_KEEP;
      }
    }

    if (out.result !== UKEY_DELETE) {
      const xc = pushPackets || pushBytes ? this.xcacheOf(slot) : undefined;
      // The credits and the new baseline are one transaction (worker_journal.ts).
      const { journal } = this.#ctx;
      if (xc !== undefined) {
        journal?.prepareUkey(
          slot,
          ukeys.gen(slot),
          stats.packets,
          stats.bytes,
          stats.used,
          stats.tcpFlags,
        );
        beginStats(xlate);
        xlate.pushStats(xc, pushPackets, pushBytes, stats.used, stats.tcpFlags);
        commitStats(xlate, journal);
      }
      ukeys.setStats(slot, stats.packets, stats.bytes, stats.used, stats.tcpFlags);
      ukeys.setRevalSeq(slot, revalSeq);
      if (xc !== undefined) journal?.done();
    }
    return out;
  }

  /** revalidate_ukey__(): translate again and compare mask and actions. */
  #full(slot: number, tcpFlags: number, key: FlowKey, mask: FlowKey): void {
    const { ukeys, xlate } = this.#ctx;
    const out = this.out;
    // The ukey's cache is cleared and refilled (revalidate_ukey__), not
    // replaced; one this worker made earlier, even if stale, serves too.
    const old = this.xcaches.take(slot);
    ukeys.setXcacheOwner(slot, 0);
    const res = translateSafely(xlate, this.#request(key, tcpFlags, this.#wc, old));
    this.#decide(slot, res, mask);
    // The flow stays with this translation's actions: from now on the
    // ukey holds exactly the ids they refer to, giving back what it held
    // (a ukey adopted from a dumped flow held none). A MODIFY's ukey took
    // them over already.
    if (out.result === UKEY_MODIFY) return;
    if (
      out.result === UKEY_KEEP && ukeys.holdRecircs(slot, res.recircs ?? NO_RECIRCS, this.#release)
    ) {
      return;
    }
    releaseRecircs(xlate, res);
  }

  #request(key: FlowKey, tcpFlags: number, wc: FlowKey | null, reuse: unknown): XlateRequest {
    const req = this.#req;
    req.key = key;
    req.tcpFlags = tcpFlags;
    req.wc = wc;
    // #full's wc holds the last flow's wildcards: this translation's replace them.
    req.wcReplace = wc !== null;
    req.reuseXcache = reuse;
    return req;
  }

  #decide(slot: number, res: XlateResult, mask: FlowKey): void {
    const { ukeys, xlate } = this.#ctx;
    const out = this.out;
    const wc = this.#wc;
    if (!res.actions) {
      out.reason = FDR_XLATION_ERROR;
      return;
    }
    // The ukey keeps the cache this translation filled even when the flow
    // goes (revalidate_ukey__ refills ukey->xcache in place): the delete's
    // stats push credits and relearns through it.
    this.#setXcache(slot, res.xcache);
    if (res.avoidCaching) {
      out.reason = FDR_AVOID_CACHING;
      return;
    }
    wc[F.in_port.off >> 2] = 0xffffffff;
    if (maskTooWide(mask, wc)) {
      out.reason = FDR_FLOW_WILDCARDED;
      return;
    }
    const actions = putActionsFor(res, res.actions, xlate.ofprotoUuid);
    if (!ukeys.actionsDigestEquals(slot, this.#digests.digest(actions, this.#digest))) {
      if (!ukeys.holdRecircs(slot, res.recircs ?? NO_RECIRCS, this.#release)) return;
      out.result = UKEY_MODIFY;
      // The batch's datapath operations run after later translations refill res.actions.
      out.actions = actions === res.actions ? actions.slice() : actions;
      return;
    }
    out.result = UKEY_KEEP;
  }

  /** The digest of the last MODIFY's actions, to store in the ukey. */
  digestOf(actions: OdpAction[]): Uint32Array {
    return this.#digests.digest(actions, this.#digest);
  }
}

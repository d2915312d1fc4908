/**
 * Revalidator logic (revalidate): the dump phase walks this thread's
 * share of a datapath dump in batches of 50, deciding per flow (keep,
 * modify, delete: revalidate_ukey.ts), and runs each batch's datapath
 * operations (_push_dp_ops.ts); the sweep phase is _revalidator_sweep.ts.
 */
import type { OdpAction } from "../flow/mod.ts";
import { coverageCounter, getLogger, timeMsec } from "../lib/mod.ts";
import type { UdpifContext } from "./handler.ts";
import { ukeyAcquire } from "./_ukey_acquire.ts";
import type { DumpedFlow } from "./ports.ts";
import { REVALIDATE_MAX_BATCH } from "./_ukey_ops.ts";
import { RateLimit } from "./_rate_limit.ts";
import { UKEY_DELETE, UKEY_KEEP, UkeyRevalidation, XcacheStore } from "./revalidate_ukey.ts";
import { UKEY_INCONSISTENT, UKEY_OPERATIONAL } from "./ukey_table.ts";
import { ukeyStateNumber } from "./ukey_state.ts";
import { FDR_FLOW_IDLE, FDR_FLOW_LIMIT, FDR_UPDATE_FAIL } from "./deletion_reasons.ts";
import { DpOpsPusher } from "./_push_dp_ops.ts";
import { RevalidatorSweep } from "./_revalidator_sweep.ts";

export { REVALIDATE_MAX_BATCH } from "./_ukey_ops.ts";

const covDupFlow = coverageCounter("dumped_duplicate_flow");
const covNewFlow = coverageCounter("dumped_new_flow");
const covLimitHit = coverageCounter("upcall_flow_limit_hit");
const covKill = coverageCounter("upcall_flow_limit_kill");
const covInconsistent = coverageCounter("dumped_inconsistent_flow");
/*
 * OVS 3.2+ counts a flow that moved between datapath layers (kernel, tc,
 * hardware offload). The userspace datapath has one layer, so it never
 * moves, as in OVS's dpif-netdev; declared so that reading it gives 0.
 */
coverageCounter("ukey_dp_change");
const log = getLogger("ofproto_dpif_upcall");
const rlKill = new RateLimit(1, 1);

export class Revalidator {
  /** 0 is the leader. */
  readonly index: number;
  readonly #ctx: UdpifContext;
  readonly #reval: UkeyRevalidation;
  readonly #flows: DumpedFlow[];
  readonly #pusher: DpOpsPusher;
  readonly #sweeper: RevalidatorSweep;
  readonly #digest = new Uint32Array(3);
  /** The ukey after the last one the dump phase found: where the next flow's usually is. */
  #nextUkey = -1;
  /**
   * Per PMD, per flow-table slot: the ukey this thread found for the flow
   * there last (-1: none). With several revalidators the dump hands out
   * runs of slots to whichever asks first, so the ukey after the last one
   * found (made by whichever thread adopted the flow) is often not the
   * next flow's; the ukey of the flow in the same slot last time is.
   */
  readonly #ukeyBySlot: Int32Array[] = [];

  constructor(ctx: UdpifContext, index: number) {
    this.#ctx = ctx;
    this.index = index;
    this.#reval = new UkeyRevalidation(ctx, new XcacheStore(index + 1));
    this.#flows = Array.from({ length: REVALIDATE_MAX_BATCH }, () => ctx.dpif.newDumpedFlow());
    this.#pusher = new DpOpsPusher(ctx, this.#reval);
    this.#sweeper = new RevalidatorSweep(ctx, index, this.#reval, this.#pusher);
  }

  get xcaches(): XcacheStore {
    return this.#reval.xcaches;
  }

  /**
   * The dump phase (revalidate()). `revalSeq` is read before this thread's
   * translation state was last brought up to date (see Handler.runOnce).
   */
  revalidate(revalSeq = this.#ctx.shared.revalSeq.read()): void {
    const { shared, dpif, ukeys } = this.#ctx;
    const dumpSeq = shared.dumpSeq.read();
    const flowLimit = shared.flowLimit;
    let killWarn = true;
    // Read once per dump, not per flow (a shared word: an atomic load each).
    const useUfid = shared.useUfid;
    dpif.dumpThreadStart(this.index, useUfid);
    for (;;) {
      const n = dpif.dumpNext(this.index, this.#flows, REVALIDATE_MAX_BATCH);
      if (n === 0) break;
      const now = timeMsec();
      const nDp = shared.nFlows(now, () => dpif.flowCount());
      if (nDp >= flowLimit) covLimitHit.inc();
      const killAllLimit = flowLimit * 2;
      const killThemAll = nDp > killAllLimit;
      if (killThemAll) {
        covKill.inc();
        if (killWarn) {
          killWarn = false;
          if (rlKill.allow(now)) {
            log.warn(
              `Number of datapath flows (${nDp}) twice as high as current dynamic flow limit ` +
                `(${killAllLimit}).  Starting to delete flows unconditionally as an emergency measure.`,
            );
          }
        }
      }
      const maxIdle = nDp > flowLimit ? 100 : shared.maxIdle;
      const ops = this.#pusher.ops;
      ops.n = 0;
      for (let i = 0; i < n; i++) {
        const f = this.#flows[i];
        const slot = ukeyAcquire(this.#ctx, f, revalSeq, ops, this.#digest, this.#hint(f));
        if (slot < 0) continue;
        this.#nextUkey = slot + 1;
        this.#noteUkey(f, slot);
        if (ukeys.dumpSeq(slot) === dumpSeq) {
          if (this.#reval.xcacheOf(slot) !== undefined) covDupFlow.inc();
          else covNewFlow.inc();
          ukeys.unlock(slot);
          continue;
        }
        if (ukeys.state(slot) === UKEY_INCONSISTENT) {
          // Its flow's modify failed (cf11766cb): delete the flow. (Gone
          // meanwhile, it is the sweep's, as a flow the dump missed.)
          if (!dpif.dumpFill(f)) {
            ukeys.unlock(slot);
            continue;
          }
          ukeys.setDumpSeq(slot, dumpSeq);
          this.#pusher.opInit(UKEY_DELETE, slot, f, undefined, FDR_UPDATE_FAIL);
          ukeys.unlock(slot);
          covInconsistent.inc();
          continue;
        }
        if (ukeys.state(slot) <= UKEY_OPERATIONAL) {
          ukeys.transition(slot, UKEY_OPERATIONAL);
        } else {
          const state = ukeyStateNumber(ukeys.state(slot), shared.compat31);
          log.info(`Unexpected ukey transition from state ${state}`);
          ukeys.unlock(slot);
          continue;
        }
        let used = f.used;
        if (!used) used = this.#updateUsed(slot, f, now, useUfid);
        let result: number;
        let actions: OdpAction[] | undefined;
        let reason: number;
        const expired = killThemAll || (used !== 0 && used < now - maxIdle);
        // A terse dump's flow gets its key and mask only when they are
        // read; one gone meanwhile is left to the sweep, as a missed flow.
        if ((expired || this.#reval.needsFlow(slot, f, revalSeq)) && !dpif.dumpFill(f)) {
          ukeys.unlock(slot);
          continue;
        }
        if (expired) {
          result = UKEY_DELETE;
          reason = killThemAll ? FDR_FLOW_LIMIT : FDR_FLOW_IDLE;
        } else {
          const o = this.#reval.revalidate(slot, f, f.key, f.mask, revalSeq, now);
          result = o.result;
          actions = o.actions;
          reason = o.reason;
        }
        ukeys.setDumpSeq(slot, dumpSeq);
        if (result !== UKEY_KEEP) this.#pusher.opInit(result, slot, f, actions, reason);
        ukeys.unlock(slot);
      }
      if (ops.n) this.#pusher.push();
    }
  }

  /** Where `f`'s ukey probably is: where the flow in its slot had it, else after the last one found. */
  #hint(f: DumpedFlow): number {
    const bySlot = this.#ukeyBySlot[f.pmd];
    const known = bySlot !== undefined && f.slot >= 0 && f.slot < bySlot.length
      ? bySlot[f.slot]
      : -1;
    return known >= 0 ? known : this.#nextUkey;
  }

  #noteUkey(f: DumpedFlow, slot: number): void {
    if (f.slot < 0) return;
    let bySlot = this.#ukeyBySlot[f.pmd];
    if (bySlot === undefined || f.slot >= bySlot.length) {
      let n = bySlot?.length ?? 1024;
      while (n <= f.slot) n *= 2;
      const grown = new Int32Array(n).fill(-1);
      if (bySlot !== undefined) grown.set(bySlot);
      this.#ukeyBySlot[f.pmd] = bySlot = grown;
    }
    bySlot[f.slot] = slot;
  }

  /** udpif_update_used(): a terse dump has no `used`; estimate it. */
  #updateUsed(slot: number, f: DumpedFlow, now: number, useUfid: boolean): number {
    const { ukeys } = this.#ctx;
    if (!useUfid) return ukeys.created(slot);
    if (f.packets > ukeys.packets(slot)) f.used = now;
    else f.used = ukeys.used(slot) || ukeys.created(slot);
    return f.used;
  }

  /** The sweep phase (_revalidator_sweep.ts); with `purge`, deletes every flow that has a ukey. */
  sweep(purge = false, revalSeq = this.#ctx.shared.revalSeq.read()): void {
    this.#sweeper.sweep(purge, revalSeq);
  }
}

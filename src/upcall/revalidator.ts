/**
 * Revalidator logic (revalidate, push_dp_ops, revalidator_sweep__): the
 * dump phase walks this thread's share of a datapath dump in batches of
 * 50, deciding per flow; the sweep phase walks this thread's share of the
 * ukeys, revalidates ukeys the dump missed, and frees the ukeys of
 * deleted flows. Ukeys are only ever freed in the sweep, so a flow seen
 * twice in one dump is never credited twice.
 *
 * OVS's sweep takes umaps i, i + n, ... and walks each one's chains. Here
 * thread i takes the i-th of n runs of ukey records in slot order, which
 * covers every linked ukey once as well, but reads the records
 * sequentially (chains are in hash order: a random read per ukey, most
 * of a stats-only pass); the umap lock is taken per freed ukey.
 */
import type { OdpAction } from "../flow/mod.ts";
import { coverageCounter, getLogger, timeMsec } from "../lib/mod.ts";
import type { UdpifContext } from "./handler.ts";
import { ukeyAcquire } from "./_ukey_acquire.ts";
import { DP_OK, type DumpedFlow, type UdpifOp } from "./ports.ts";
import { NO_ACTIONS, Ops, REVALIDATE_MAX_BATCH } from "./_ukey_ops.ts";
import { RateLimit } from "./_rate_limit.ts";
import {
  UKEY_DELETE,
  UKEY_KEEP,
  UKEY_MODIFY,
  UkeyRevalidation,
  XcacheStore,
} from "./revalidate_ukey.ts";
import {
  UKEY_EVICTED,
  UKEY_EVICTING,
  UKEY_INCONSISTENT,
  UKEY_OPERATIONAL,
  UKEY_VISIBLE,
} from "./ukey_table.ts";
import { ukeyStateNumber } from "./ukey_state.ts";
import { pushStatsByTranslation } from "./_safe_xlate.ts";
import {
  FDR_FLOW_IDLE,
  FDR_FLOW_LIMIT,
  FDR_FLOW_MISSING_DP,
  FDR_PURGE,
  FDR_UPDATE_FAIL,
  noteDeletion,
} from "./deletion_reasons.ts";
import { beginStats, commitStats } from "./worker_journal.ts";

export { REVALIDATE_MAX_BATCH } from "./_ukey_ops.ts";

const covContention = coverageCounter("upcall_ukey_contention");
const covDupFlow = coverageCounter("dumped_duplicate_flow");
const covNewFlow = coverageCounter("dumped_new_flow");
const covLimitHit = coverageCounter("upcall_flow_limit_hit");
const covKill = coverageCounter("upcall_flow_limit_kill");
const covMissed = coverageCounter("revalidate_missed_dp_flow");
const covMissing = coverageCounter("revalidate_missing_dp_flow");
const covInvalidStatReset = coverageCounter("ukey_invalid_stat_reset");
const covInconsistent = coverageCounter("dumped_inconsistent_flow");
/*
 * OVS 3.2+ counts a flow that moved between datapath layers (kernel, tc,
 * hardware offload). The userspace datapath has one layer, so it never
 * moves, as in OVS's dpif-netdev; declared so that reading it gives 0.
 */
coverageCounter("ukey_dp_change");
/** Dumps a flow may miss in a row before its ukey is dropped (OVS 3.5). */
const MAX_MISSED_DUMPS = 4;
const log = getLogger("ofproto_dpif_upcall");
const rlKill = new RateLimit(1, 1);

export class Revalidator {
  /** 0 is the leader. */
  readonly index: number;
  readonly #ctx: UdpifContext;
  readonly #reval: UkeyRevalidation;
  readonly #flows: DumpedFlow[];
  readonly #got: DumpedFlow;
  readonly #ops = new Ops();
  readonly #retry: UdpifOp[] = [];
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
    this.#got = ctx.dpif.newDumpedFlow();
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
      const ops = this.#ops;
      ops.n = 0;
      for (let i = 0; i < n; i++) {
        const f = this.#flows[i];
        const slot = ukeyAcquire(this.#ctx, f, revalSeq, this.#ops, this.#digest, this.#hint(f));
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
          this.#opInit(UKEY_DELETE, slot, f, undefined, FDR_UPDATE_FAIL);
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
        if (result !== UKEY_KEEP) this.#opInit(result, slot, f, actions, reason);
        ukeys.unlock(slot);
      }
      if (ops.n) this.#pushDpOps();
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

  /** reval_op_init(): the ukey lock is held; `reason` says why a delete is one. */
  #opInit(
    result: number,
    slot: number,
    f: DumpedFlow,
    actions: OdpAction[] | undefined,
    reason: number,
  ): void {
    const { ukeys } = this.#ctx;
    if (result === UKEY_DELETE) {
      noteDeletion(this.#ctx.shared, f.ufid, reason);
      this.#ops.add(UKEY_DELETE, slot, ukeys.gen(slot), f);
      ukeys.transition(slot, UKEY_EVICTING);
    } else if (result === UKEY_MODIFY && actions) {
      ukeys.setActionsDigest(slot, this.#reval.digestOf(actions));
      this.#ops.add(UKEY_MODIFY, slot, ukeys.gen(slot), f, actions);
    }
  }

  /**
   * push_dp_ops(): runs the batch, then credits deleted flows' last stats.
   * A failed delete leaves its ukey EVICTED; since OVS 3.2 (cf11766cb) a
   * failed modify makes its ukey INCONSISTENT, for the next dump or sweep
   * to delete the flow (not EVICTED: the sweep would free the ukey and
   * leave the flow, whose stats a later dump would credit again). OVS 3.1
   * ignored a failed modify.
   */
  #pushDpOps(): void {
    const { dpif, ukeys, xlate } = this.#ctx;
    const ops = this.#ops;
    const { journal } = this.#ctx;
    // The deletes are journaled before and after the datapath answers them,
    // so that a death before their credits commit loses none (worker_journal.ts).
    journal?.recordDeletes(ops.list, ops.slot, ops.gen, ops.n, false);
    dpif.operate(ops.list, ops.n, false);
    this.#forgetRecycled();
    this.#deleteUnmodified();
    journal?.recordDeletes(ops.list, ops.slot, ops.gen, ops.n, true);
    // The deleted flows' last credits are one transaction (worker_journal.ts).
    journal?.prepareUkey(-1, 0, 0, 0, 0, 0);
    beginStats(xlate);
    for (let i = 0; i < ops.n; i++) {
      const op = ops.list[i];
      op.actions = NO_ACTIONS;
      const slot = ops.slot[i];
      if (op.type === "put" && op.error !== DP_OK && slot >= 0 && !this.#ctx.shared.compat31) {
        ukeys.lock(slot);
        ukeys.transition(slot, UKEY_INCONSISTENT);
        ukeys.unlock(slot);
      }
      if (op.type !== "del") continue;
      if (slot >= 0) {
        ukeys.lock(slot);
        ukeys.transition(slot, UKEY_EVICTED);
        ukeys.unlock(slot);
      }
      if (op.error !== DP_OK) continue;
      const st = op.stats;
      let packets = st.packets, bytes = st.bytes, used = st.used, flags = st.tcpFlags;
      if (slot >= 0) {
        // Since OVS 3.2 (4d69c1900) a delete's counters below the ukey's are counted.
        if (packets < ukeys.packets(slot) && !this.#ctx.shared.compat31) covInvalidStatReset.inc();
        packets -= ukeys.packets(slot);
        bytes -= ukeys.bytes(slot);
        used = Math.max(used, ukeys.used(slot));
        flags |= ukeys.tcpFlags(slot);
      }
      if (packets <= 0) continue;
      const xc = slot >= 0 ? this.#reval.xcacheOf(slot) : undefined;
      if (xc !== undefined) {
        xlate.pushStats(xc, packets, bytes, used, flags);
      } else {
        pushStatsByTranslation(xlate, op.key, packets, bytes, used, flags);
      }
    }
    commitStats(xlate, journal);
    journal?.done();
  }

  /**
   * A ukey freed and recycled while its op ran (main-thread purge races a
   * cycle end) is not ours any more: treat its op as one without a ukey.
   */
  #forgetRecycled(): void {
    const { ukeys } = this.#ctx;
    const ops = this.#ops;
    for (let i = 0; i < ops.n; i++) {
      const slot = ops.slot[i];
      if (slot >= 0 && ukeys.gen(slot) !== ops.gen[i]) ops.slot[i] = -1;
    }
  }

  /**
   * A modify that landed on another, overlapping flow (the datapath finds
   * the flow to modify by key) left ours with its old actions while its
   * ukey now holds the new ones, so no later pass would notice: delete it
   * instead, and let the next packet install a correct flow.
   */
  #deleteUnmodified(): void {
    const { dpif, ukeys } = this.#ctx;
    const ops = this.#ops;
    const retry = this.#retry;
    retry.length = 0;
    for (let i = 0; i < ops.n; i++) {
      const op = ops.list[i];
      if (op.type !== "put" || !op.otherFlow) continue;
      op.type = "del";
      const slot = ops.slot[i];
      if (slot >= 0) {
        noteDeletion(this.#ctx.shared, op.ufid, FDR_UPDATE_FAIL);
        ukeys.lock(slot);
        ukeys.transition(slot, UKEY_EVICTING);
        ukeys.unlock(slot);
      }
      retry.push(op);
    }
    if (retry.length) dpif.operate(retry, retry.length, false);
  }

  /** The sweep phase; with `purge`, deletes every flow that has a ukey. */
  sweep(purge = false, revalSeq = this.#ctx.shared.revalSeq.read()): void {
    const { shared, ukeys } = this.#ctx;
    const dumpSeq = shared.dumpSeq.read();
    const step = Math.max(shared.nRevalidators, 1);
    const ops = this.#ops;
    // A ukey installed above the high water meanwhile waits for the next sweep.
    const high = ukeys.highWater();
    const share = Math.ceil(high / step);
    const end = Math.min(high, (this.index + 1) * share);
    ops.n = 0;
    for (let slot = this.index * share; slot < end; slot++) {
      // Most ukeys were seen by the dump that just ended and missed none
      // before: the sweep would keep them and change nothing, so it
      // does not take their locks (a store each) to find that out.
      if (!purge && ukeys.sweepKeeps(slot, dumpSeq)) continue;
      if (!ukeys.linked(slot)) continue;
      if (!ukeys.tryLock(slot)) {
        // Counted since OVS 3.4 (ed379a810); 3.1 counted only the dump's.
        if (!shared.compat31) covContention.inc();
        continue;
      }
      const state = ukeys.state(slot);
      if (
        state === UKEY_OPERATIONAL || state === UKEY_INCONSISTENT ||
        (state === UKEY_VISIBLE && purge)
      ) {
        this.#sweepOne(slot, purge, dumpSeq, revalSeq);
      }
      ukeys.unlock(slot);
      if (state === UKEY_EVICTED) this.#remove(slot);
      if (ops.n === REVALIDATE_MAX_BATCH) this.#pushUkeyOps();
    }
    if (ops.n) this.#pushUkeyOps();
  }

  /** ukey_delete() of a ukey whose flow is gone, under its umap's lock. */
  #remove(slot: number): void {
    const { ukeys } = this.#ctx;
    const umap = ukeys.umapOf(slot);
    ukeys.lockUmap(umap);
    ukeys.removeLocked(slot);
    ukeys.unlockUmap(umap);
    this.xcaches.drop(slot);
  }

  /** One OPERATIONAL or INCONSISTENT (or, purging, VISIBLE) ukey of the sweep; its lock is held. */
  #sweepOne(slot: number, purge: boolean, dumpSeq: number, revalSeq: number): void {
    const { ukeys, dpif, shared } = this.#ctx;
    const f = this.#got;
    ukeys.ufid(slot, f.ufid);
    f.pmd = ukeys.pmdId(slot);
    const seqMismatch = ukeys.dumpSeq(slot) !== dumpSeq && ukeys.revalSeq(slot) !== revalSeq;
    const missing = !purge && !shared.compat31 &&
      ukeys.countMissedDump(slot, dumpSeq) >= MAX_MISSED_DUMPS;
    const inconsistent = ukeys.state(slot) === UKEY_INCONSISTENT;
    let result = UKEY_KEEP;
    let actions: OdpAction[] | undefined;
    let reason = FDR_PURGE;
    const have = purge || seqMismatch || missing || inconsistent ? dpif.flowGet(f.ufid, f) : false;
    if (purge) {
      result = UKEY_DELETE;
    } else if (missing) {
      // OVS 3.5 (180ab2fd6 "ofproto-dpif-upcall: Avoid stale ukeys leaks."):
      // a flow no dump has seen for 4 rounds is taken to be gone.
      if (seqMismatch && !inconsistent) covMissed.inc();
      covMissing.inc();
      result = UKEY_DELETE;
      reason = FDR_FLOW_MISSING_DP;
    } else if (inconsistent) {
      result = UKEY_DELETE;
      reason = FDR_UPDATE_FAIL;
    } else if (seqMismatch) {
      covMissed.inc();
      if (!have) {
        // The key to translate again is the datapath's: without the flow, drop the ukey.
        result = UKEY_DELETE;
        reason = FDR_FLOW_MISSING_DP;
      } else {
        f.packets = ukeys.packets(slot);
        f.bytes = ukeys.bytes(slot);
        f.used = ukeys.used(slot);
        f.tcpFlags = ukeys.tcpFlags(slot);
        const o = this.#reval.revalidate(slot, f, f.key, f.mask, revalSeq);
        result = o.result;
        actions = o.actions;
        reason = o.reason;
      }
    }
    if (result !== UKEY_KEEP) {
      if (!have) f.key.fill(0), f.mask.fill(0);
      this.#opInit(result, slot, f, actions, reason);
    }
  }

  /** push_ukey_ops(): datapath ops, then free the ukeys of deleted flows. */
  #pushUkeyOps(): void {
    const ops = this.#ops;
    this.#pushDpOps();
    for (let i = 0; i < ops.n; i++) {
      if (ops.list[i].type === "del" && ops.slot[i] >= 0) this.#remove(ops.slot[i]);
    }
    ops.n = 0;
  }
}

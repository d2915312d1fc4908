/**
 * The revalidator's sweep phase (revalidator_sweep__): after a dump,
 * thread i walks its share of the ukeys, revalidates the ones the dump
 * missed, deletes the flows of ukeys gone stale, and frees the ukeys of
 * deleted flows. Ukeys are only ever freed here, so a flow seen twice in
 * one dump is never credited twice.
 *
 * OVS's sweep takes umaps i, i + n, ... and walks each one's chains. Here
 * thread i takes the i-th of n runs of ukey records in slot order, which
 * covers every linked ukey once as well, but reads the records
 * sequentially (chains are in hash order: a random read per ukey, most
 * of a stats-only pass); the umap lock is taken per freed ukey.
 *
 * Thread-safety: one per revalidator thread, beside its dump phase
 * (revalidator.ts), never at the same time as it.
 */
import type { OdpAction } from "../flow/mod.ts";
import { coverageCounter } from "../lib/mod.ts";
import type { UdpifContext } from "./handler.ts";
import type { DumpedFlow } from "./ports.ts";
import { REVALIDATE_MAX_BATCH } from "./_ukey_ops.ts";
import type { DpOpsPusher } from "./_push_dp_ops.ts";
import { UKEY_DELETE, UKEY_KEEP, type UkeyRevalidation } from "./revalidate_ukey.ts";
import { UKEY_EVICTED, UKEY_INCONSISTENT, UKEY_OPERATIONAL, UKEY_VISIBLE } from "./ukey_table.ts";
import { FDR_FLOW_MISSING_DP, FDR_PURGE, FDR_UPDATE_FAIL } from "./deletion_reasons.ts";

const covContention = coverageCounter("upcall_ukey_contention");
const covMissed = coverageCounter("revalidate_missed_dp_flow");
const covMissing = coverageCounter("revalidate_missing_dp_flow");
/** Dumps a flow may miss in a row before its ukey is dropped (OVS 3.5). */
const MAX_MISSED_DUMPS = 4;

export class RevalidatorSweep {
  readonly #ctx: UdpifContext;
  readonly #index: number;
  readonly #reval: UkeyRevalidation;
  readonly #pusher: DpOpsPusher;
  /** The flow of the ukey being swept, as the datapath has it. */
  readonly #got: DumpedFlow;

  constructor(ctx: UdpifContext, index: number, reval: UkeyRevalidation, pusher: DpOpsPusher) {
    this.#ctx = ctx;
    this.#index = index;
    this.#reval = reval;
    this.#pusher = pusher;
    this.#got = ctx.dpif.newDumpedFlow();
  }

  /** The sweep phase; with `purge`, deletes every flow that has a ukey. */
  sweep(purge: boolean, revalSeq: number): void {
    const { shared, ukeys } = this.#ctx;
    const dumpSeq = shared.dumpSeq.read();
    const step = Math.max(shared.nRevalidators, 1);
    const ops = this.#pusher.ops;
    // A ukey installed above the high water meanwhile waits for the next sweep.
    const high = ukeys.highWater();
    const share = Math.ceil(high / step);
    const end = Math.min(high, (this.#index + 1) * share);
    ops.n = 0;
    for (let slot = this.#index * share; slot < end; slot++) {
      // Most ukeys were seen by the dump that just ended and missed none
      // before: the sweep would keep them and change nothing, so it
      // does not take their locks (a store each) to find that out.
      if (!purge && ukeys.sweepKeeps(slot, dumpSeq)) continue;
      if (!ukeys.linked(slot)) continue;
      if (!ukeys.tryLockForRevalidation(slot)) {
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
    this.#reval.xcaches.drop(slot);
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
      this.#pusher.opInit(result, slot, f, actions, reason);
    }
  }

  /** push_ukey_ops(): datapath ops, then free the ukeys of deleted flows. */
  #pushUkeyOps(): void {
    const ops = this.#pusher.ops;
    this.#pusher.push();
    for (let i = 0; i < ops.n; i++) {
      if (ops.list[i].type === "del" && ops.slot[i] >= 0) this.#remove(ops.slot[i]);
    }
    ops.n = 0;
  }
}

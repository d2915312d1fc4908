/**
 * A revalidator's datapath operations (reval_op_init, push_dp_ops): the
 * dump and the sweep queue a delete or a modify per ukey that needs one,
 * then run them as a batch and credit the deleted flows' last
 * statistics to their rules.
 *
 * Thread-safety: one per revalidator thread; the ukey locks are taken
 * per ukey as OVS takes them.
 */
import type { OdpAction } from "../flow/mod.ts";
import type { UdpifContext } from "./handler.ts";
import { DP_OK, type DumpedFlow, type UdpifOp } from "./ports.ts";
import { NO_ACTIONS, Ops } from "./_ukey_ops.ts";
import { UKEY_DELETE, UKEY_MODIFY, type UkeyRevalidation } from "./revalidate_ukey.ts";
import { UKEY_EVICTED, UKEY_EVICTING, UKEY_INCONSISTENT } from "./ukey_table.ts";
import { pushStatsByTranslation } from "./_safe_xlate.ts";
import { FDR_UPDATE_FAIL, noteDeletion } from "./deletion_reasons.ts";
import { beginStats, commitStats } from "./worker_journal.ts";
import { coverageCounter } from "../lib/mod.ts";

const covInvalidStatReset = coverageCounter("ukey_invalid_stat_reset");

export class DpOpsPusher {
  readonly #ctx: UdpifContext;
  readonly #reval: UkeyRevalidation;
  readonly ops = new Ops();
  readonly #retry: UdpifOp[] = [];

  constructor(ctx: UdpifContext, reval: UkeyRevalidation) {
    this.#ctx = ctx;
    this.#reval = reval;
  }

  /** reval_op_init(): the ukey lock is held; `reason` says why a delete is one. */
  opInit(
    result: number,
    slot: number,
    f: DumpedFlow,
    actions: OdpAction[] | undefined,
    reason: number,
  ): void {
    const { ukeys } = this.#ctx;
    if (result === UKEY_DELETE) {
      noteDeletion(this.#ctx.shared, f.ufid, reason);
      this.ops.add(UKEY_DELETE, slot, ukeys.gen(slot), f);
      ukeys.transition(slot, UKEY_EVICTING);
    } else if (result === UKEY_MODIFY && actions) {
      ukeys.setActionsDigest(slot, this.#reval.digestOf(actions));
      this.ops.add(UKEY_MODIFY, slot, ukeys.gen(slot), f, actions);
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
  push(): void {
    const { dpif, ukeys, xlate } = this.#ctx;
    const ops = this.ops;
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
    const ops = this.ops;
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
    const ops = this.ops;
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
}

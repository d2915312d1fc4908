/**
 * A revalidator's pending datapath operations of one batch (struct
 * ukey_op[]): the ops themselves, allocated once, and the ukey each
 * belongs to.
 */
import { newKey, type OdpAction } from "../flow/mod.ts";
import { type DumpedFlow, newUdpifOp, type UdpifOp } from "./ports.ts";
import { UKEY_MODIFY } from "./revalidate_ukey.ts";

export const REVALIDATE_MAX_BATCH = 50;
export const NO_ACTIONS: OdpAction[] = [];

/** Pending datapath operations of one batch (struct ukey_op[]). */
export class Ops {
  n = 0;
  /** Ukey slot per op, or -1 for a flow that has none. */
  readonly slot = new Int32Array(REVALIDATE_MAX_BATCH);
  readonly list: UdpifOp[] = Array.from({ length: REVALIDATE_MAX_BATCH }, () => {
    const op = newUdpifOp();
    op.key = newKey();
    op.mask = newKey();
    return op;
  });

  /** The ukey's generation when queued (see #forgetRecycled). */
  readonly gen = new Int32Array(REVALIDATE_MAX_BATCH);

  add(kind: number, slot: number, gen: number, f: DumpedFlow, actions?: OdpAction[]): void {
    const i = this.n++;
    const op = this.list[i];
    op.type = kind === UKEY_MODIFY ? "put" : "del";
    op.modify = true;
    this.slot[i] = slot;
    this.gen[i] = gen;
    op.ufid.set(f.ufid);
    op.pmd = f.pmd;
    op.key.set(f.key);
    op.mask.set(f.mask);
    op.actions = actions ?? NO_ACTIONS;
  }
}

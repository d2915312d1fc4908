/**
 * The PMD's side of flow installation: put (create/modify), delete, get
 * and flush on its flow table, dpcls and UFID index, as
 * `flow_put_on_pmd()` and friends do in OVS. A put looks the new flow's
 * key up in the classifier first, so an overlapping flow is found even
 * under another UFID: then MODIFY replaces its actions, CREATE alone gives
 * EEXIST, neither gives EINVAL; a key the datapath cannot parse gives
 * EINVAL too.
 *
 * Thread-safety: private to the PMD that owns the table.
 */
import { FLOW_MAX_VLAN_HEADERS, FLOW_WORDS, getVlanLimit } from "../flow/mod.ts";
import { recordUnits } from "./_flow_layout.ts";
import { Dpcls } from "./dpcls.ts";
import type { Emc } from "./emc.ts";
import type { FlowTable } from "./flow_table.ts";
import {
  EEXIST,
  EINVAL,
  ENOENT,
  ENOSPC,
  PUT_CREATE,
  PUT_MODIFY,
  PUT_ZERO_STATS,
} from "./protocol.ts";

/** vlans[0].tci word and the VID|CFI bits a put always matches on. */
const VLAN_TCI_WORD = 36;
const VLAN_TCI_EXACT = 0x1fff;

/**
 * Whether the datapath can take `key` as a flow key, as
 * dpif_netdev_flow_from_nlattrs() demands a perfect fit: it reads keys
 * with the VLAN limit its flow_extract uses (other_config:vlan-limit, a
 * global of the PMD's flow module), so a key with a VLAN header beyond
 * that limit is one it cannot parse. Feature probing counts on this.
 */
function keyFits(src: Uint32Array, keyAt: number): boolean {
  for (let i = getVlanLimit(); i < FLOW_MAX_VLAN_HEADERS; i++) {
    // The header's CFI bit (present) is bit 4 of the tci's first byte.
    if ((src[keyAt + VLAN_TCI_WORD + i] >>> 16) & 0x10) return false;
  }
  return true;
}

export class FlowOps {
  readonly dpcls: Dpcls;
  private readonly free: Int32Array;
  private nFree: number;
  private readonly ufidSlots: Int32Array;
  private readonly maskRefs: Int32Array;
  private readonly scratchMask = new Uint32Array(FLOW_WORDS);

  constructor(readonly table: FlowTable, readonly emc: Emc) {
    this.dpcls = new Dpcls(table);
    this.free = new Int32Array(table.capacity);
    this.nFree = table.capacity;
    for (let i = 0; i < table.capacity; i++) this.free[i] = table.capacity - 1 - i;
    let size = 16;
    while (size < table.capacity * 2) size *= 2;
    this.ufidSlots = new Int32Array(size).fill(-1);
    this.maskRefs = new Int32Array(table.maskCapacity);
    if (table.highWater() > 0) this.rebuild();
  }

  /**
   * Rebuilds the private indexes (classifier, UFID index, free list, mask
   * references) from a table a previous PMD left behind, so that a
   * restarted PMD worker carries on with the same flows. A slot caught
   * mid-write (odd seq) cannot be trusted and is freed.
   */
  private rebuild(): void {
    const t = this.table, hwm = t.highWater();
    t.repairTornSlots();
    const live = new Uint8Array(t.capacity);
    for (let s = 0; s < hwm; s++) {
      if (!t.isLive(s)) continue;
      live[s] = 1;
      const maskId = t.maskOf(s);
      let st = this.dpcls.subtableFor(maskId);
      if (!st) {
        st = this.dpcls.addSubtable(
          maskId,
          t.u32.subarray(t.maskIndex(maskId), t.maskIndex(maskId) + FLOW_WORDS),
        );
      }
      st.insert(s, t);
      this.maskRefs[maskId]++;
      this.ufidInsert(s);
    }
    this.nFree = 0;
    for (let s = t.capacity - 1; s >= 0; s--) if (!live[s]) this.free[this.nFree++] = s;
  }

  /** The live flow with this UFID, or -1. */
  findUfid(u: Uint32Array, off: number): number {
    const m = this.ufidSlots.length - 1;
    const tu = this.table.u32;
    for (let p = u[off] & m;; p = (p + 1) & m) {
      const s = this.ufidSlots[p];
      if (s === -1) return -1;
      if (s >= 0) {
        const b = this.table.ufidBase + s * 4;
        if (
          tu[b] === u[off] && tu[b + 1] === u[off + 1] && tu[b + 2] === u[off + 2] &&
          tu[b + 3] === u[off + 3]
        ) return s;
      }
    }
  }

  private ufidInsert(slot: number): void {
    const m = this.ufidSlots.length - 1;
    let p = this.table.u32[this.table.ufidBase + slot * 4] & m;
    while (this.ufidSlots[p] >= 0) p = (p + 1) & m;
    this.ufidSlots[p] = slot;
  }

  private ufidRemove(slot: number): void {
    const m = this.ufidSlots.length - 1;
    let p = this.table.u32[this.table.ufidBase + slot * 4] & m;
    for (; this.ufidSlots[p] !== -1; p = (p + 1) & m) {
      if (this.ufidSlots[p] === slot) {
        this.ufidSlots[p] = -2;
        return;
      }
    }
  }

  /**
   * Puts a flow whose UFID, key and mask are at word indices `ufidAt`,
   * `keyAt`, `maskAt` of `src` and whose `nAct` bytes of encoded actions
   * start at word `actAt` (`src8` is the byte view of the same memory).
   * Returns the slot of the flow created or modified, or -errno.
   */
  put(
    src: Uint32Array,
    src8: Uint8Array,
    ufidAt: number,
    keyAt: number,
    maskAt: number,
    actAt: number,
    nAct: number,
    flags: number,
    now: number,
  ): number {
    // One pass over the key and mask: the mask's copy and the counts of
    // nonzero words the record's size and the subtable search need.
    const mask = this.scratchMask;
    let nMasked = 0, nKey = 0;
    for (let i = 0; i < FLOW_WORDS; i++) {
      const mw = src[maskAt + i];
      mask[i] = mw;
      if (mw !== 0) nMasked++;
      if (src[keyAt + i] !== 0) nKey++;
    }
    if (mask[21] !== 0xffffffff) return -EINVAL;
    if (!keyFits(src, keyAt)) return -EINVAL;
    if (((mask[VLAN_TCI_WORD] >>> 16) & 0xffff) === 0) {
      if (mask[VLAN_TCI_WORD] === 0) nMasked++;
      mask[VLAN_TCI_WORD] |= ((VLAN_TCI_EXACT >> 8) | ((VLAN_TCI_EXACT & 0xff) << 8)) << 16;
    }
    const existing = this.dpcls.lookup(src, keyAt);
    if (existing >= 0) {
      if (flags & PUT_MODIFY) {
        const zero = (flags & PUT_ZERO_STATS) !== 0;
        return this.table.modify(existing, src8, actAt * 4, nAct, zero) ? existing : -ENOSPC;
      }
      return -(flags & PUT_CREATE ? EEXIST : EINVAL);
    }
    if (!(flags & PUT_CREATE)) return -ENOENT;
    if (this.nFree === 0) return -ENOSPC;
    const units = recordUnits(nMasked, nAct, nKey);
    if (!this.table.hasRoom(units)) return -ENOSPC;
    let st = this.dpcls.subtableWithMask(mask, nMasked);
    if (!st) {
      const maskId = this.allocMask();
      if (maskId < 0) return -ENOSPC;
      this.table.writeMask(maskId, mask, 1);
      st = this.dpcls.addSubtable(maskId, mask);
    }
    const slot = this.free[--this.nFree];
    this.maskRefs[st.maskId]++;
    this.table.create(
      slot,
      src,
      ufidAt,
      keyAt,
      st.maskId,
      src8,
      actAt * 4,
      nAct,
      now,
      units,
      st.wordMask,
    );
    st.insert(slot, this.table);
    this.ufidInsert(slot);
    return slot;
  }

  private allocMask(): number {
    for (let i = 0; i < this.maskRefs.length; i++) {
      if (this.maskRefs[i] === 0 && !this.dpcls.subtableFor(i)) return i;
    }
    return -1;
  }

  /** Removes a live flow. */
  remove(slot: number): void {
    const maskId = this.table.maskOf(slot);
    const st = this.dpcls.subtableFor(maskId);
    if (st) {
      st.remove(slot, this.table);
      if (st.nFlows === 0) {
        this.dpcls.removeSubtable(st);
        this.table.writeMask(maskId, this.scratchMask.fill(0), -1);
      }
    }
    this.maskRefs[maskId]--;
    this.ufidRemove(slot);
    this.table.remove(slot);
    this.free[this.nFree++] = slot;
  }

  /** Deletes every flow. */
  flush(): void {
    const hwm = this.table.highWater();
    for (let s = 0; s < hwm; s++) if (this.table.isLive(s)) this.remove(s);
    this.emc.clear();
  }
}

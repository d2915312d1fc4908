/**
 * Freezing and thawing a translation (ofproto-dpif-xlate.c:
 * finish_freezing__, compose_recirculate_and_fork, and the frozen-state
 * branch of xlate_actions): the state a recirculated packet resumes from
 * (table, in_port, metadata, registers, whether it was conntracked) gets a
 * recirculation id that the translation references until its holder (a
 * ukey) lets go; the datapath action `recirc(N)` sends the packet back,
 * and an upcall with recirc_id(N) restores that state and looks the
 * table up. Conntrack's fork is in conntrack.ts, the controller's
 * freezing in output.ts.
 */
import { F, getUint, regOffset, setUint } from "../flow/mod.ts";
import type { XlateCtx } from "./context.ts";
import {
  FROZEN_STATE_WORDS,
  FS_BRIDGE,
  FS_CONNTRACKED,
  FS_IN_PORT,
  FS_METADATA,
  FS_REGS,
  FS_RESUME_ACTION,
  FS_RESUME_RULE,
  FS_TABLE,
} from "./recirc.ts";

/** flow_clear_conntrack: the packet is untracked again. */
export function clearConntrackFields(f: Uint8Array): void {
  for (const span of [F.ct_state, F.ct_nw_proto, F.ct_zone, F.ct_mark, F.ct_label]) {
    f.fill(0, span.off, span.off + span.len);
  }
  f.fill(0, F.ct_nw_src.off, F.ct_nw_dst.off + 4);
  f.fill(0, F.ct_ipv6_src.off, F.ct_ipv6_dst.off + 16);
  f.fill(0, F.ct_tp_src.off, F.ct_tp_dst.off + 2);
}

/** clear_conntrack. */
export function clearConntrack(ctx: XlateCtx): void {
  ctx.conntracked = false;
  clearConntrackFields(ctx.f);
}

/** The state a packet frozen now resumes from at `table` (frozen_metadata_from_flow). */
export function frozenStateOf(ctx: XlateCtx, table: number): Uint32Array {
  const f = ctx.f;
  const state = new Uint32Array(FROZEN_STATE_WORDS);
  state[FS_TABLE] = table;
  state[FS_IN_PORT] = getUint(f, F.in_port.off, 4);
  state[FS_METADATA] = getUint(f, F.metadata.off, 4);
  state[FS_METADATA + 1] = getUint(f, F.metadata.off + 4, 4);
  for (let i = 0; i < 16; i++) state[FS_REGS + i] = getUint(f, regOffset(i), 4);
  state[FS_CONNTRACKED] = ctx.conntracked ? 1 : 0;
  // A patch port's peer bridge freezes too: the packet resumes there.
  state[FS_BRIDGE] = ctx.cache.bridge + 1;
  return state;
}

/**
 * A recirculation id for `state`, referenced by this translation (its
 * `recircs`); 0, with the translation failed, when none is left.
 */
export function allocRecircId(ctx: XlateCtx, state: Uint32Array): number {
  const id = ctx.xin.recircIds.idFor(state);
  if (!id) {
    ctx.report("error", "Failed to allocate recirculation id");
    ctx.error = "No recirculation context";
    return 0;
  }
  ctx.recircs.push(id);
  return id;
}

/**
 * Moves the translation into bridge `id` (the frozen state's, when a
 * patch port's peer froze it), as xlate_actions does when the state's
 * ofproto is not the one the upcall's in_port found; the trace keeps the
 * first bridge's heading, as OVS's does.
 */
function resumeInBridge(ctx: XlateCtx, id: number): void {
  if (id < 0 || id === ctx.cache.bridge) return;
  const b = ctx.xin.bridgeById?.(id);
  if (!b) return;
  ctx.xin.bridge = b.bridge;
  ctx.xin.tables = b.tables;
  ctx.xin.ml = b.ml;
  ctx.cache.bridge = b.id;
}

/**
 * The frozen-state branch of xlate_actions, for a flow with a nonzero
 * recirc_id: restores the state and returns the table to look up, or -1
 * (translation failed) when the id names no state.
 */
export function thaw(ctx: XlateCtx): number {
  const f = ctx.f;
  const id = getUint(f, F.recirc_id.off, 4);
  const state = new Uint32Array(FROZEN_STATE_WORDS);
  if (!ctx.xin.recircIds.stateOf(id, state)) {
    ctx.report("error", `Recirculation context not found for ID ${id.toString(16)}`);
    ctx.error = "No recirculation context";
    return -1;
  }
  // The flow resuming holds its own id too (ukey->key_recirc_id), so the
  // state outlives the flow that recirculated into it as long as needed.
  ctx.recircs.push(ctx.xin.recircIds.idFor(state));
  const table = state[FS_TABLE];
  const outer = ctx.trace;
  ctx.trace = ctx.report("thaw", "thaw");
  ctx.report("thaw", `Resuming from table ${table}`);
  ctx.trace = outer;
  resumeInBridge(ctx, state[FS_BRIDGE] - 1);
  ctx.tableId = table;
  ctx.conntracked = state[FS_CONNTRACKED] !== 0;
  if (!ctx.conntracked) clearConntrack(ctx);
  setUint(f, F.in_port.off, 4, state[FS_IN_PORT]);
  setUint(f, F.metadata.off, 4, state[FS_METADATA]);
  setUint(f, F.metadata.off + 4, 4, state[FS_METADATA + 1]);
  for (let i = 0; i < 16; i++) setUint(f, regOffset(i), 4, state[FS_REGS + i]);
  ctx.resumeRule = state[FS_RESUME_RULE];
  ctx.resumeAction = state[FS_RESUME_ACTION];
  return table;
}

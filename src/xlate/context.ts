/**
 * The translation context (OVS's struct xlate_ctx): the flow as actions
 * rewrite it, the "base" flow the datapath actions emitted so far have
 * already produced, the wildcards, the datapath actions, and the trace
 * tree when tracing.
 */
import {
  bytesOf,
  F,
  FLOW_BYTES,
  FLOW_WORDS,
  type FlowKey,
  type OdpAction,
  setUint,
} from "../flow/mod.ts";
import type { Group, GroupSelection, MacLearning, NatAction, OfAction } from "../ofproto/mod.ts";
import type { XBridge } from "./bridge.ts";
import { XlateCache } from "./cache.ts";
import type { RecircIds } from "./recirc.ts";
import type { LearnSink } from "./learn.ts";

/** A rule as translation needs it (structurally, ofproto's Rule). */
export interface XlateRule {
  readonly id: number;
  readonly tableId: number;
  readonly priority: number;
  readonly cookie: bigint;
  readonly actions: readonly OfAction[];
  readonly match: { readonly key: FlowKey; readonly mask: FlowKey };
}

/** A tables version: lookup ORs every bit it examined into `wc`. */
export interface XlateTables {
  lookup(tableId: number, flow: FlowKey, wc: FlowKey | null): XlateRule | null;
  /** The rule with `id`, for resuming frozen actions; none without such rules. */
  ruleById?(id: number): XlateRule | undefined;
  /** The group with `id` and its selection setup (group_dpif_lookup); none without groups. */
  group?(id: number): { group: Group; selection: GroupSelection } | undefined;
}

export type TraceNodeType =
  | "bridge"
  | "table"
  | "action"
  | "bucket"
  /** Resuming a frozen translation (OFT_THAW): nests like a table. */
  | "thaw"
  | "detail"
  | "warn"
  | "error";

/** One line of `ofproto/trace` output and the lines nested under it. */
export interface TraceNode {
  type: TraceNodeType;
  text: string;
  subs: TraceNode[];
}

/** Why a translation failed; its actions are then dropped (OVS xlate_error). */
export type XlateError = "Recursion too deep" | "Too many resubmits" | "No recirculation context";

/** Slow-path reasons (enum slow_path_reason). */
export const SLOW_ACTION = 1 << 5;

/**
 * Another bridge of the same datapath backer, as a patch port leads into
 * it: its ports, tables and MAC table, and its id (its rules' credits and
 * MAC learning in the xlate cache name it).
 */
export interface PatchBridge {
  id: number;
  bridge: XBridge;
  tables: XlateTables;
  ml: MacLearning | null;
  /** Its ofproto UUID, for the controller cookies its rules make. */
  uuid?: Uint8Array;
  /** Where its rules' learns and fin_timeouts go (none: they only show in traces). */
  learnSink?: LearnSink;
}

/**
 * Everything a translation reads. `bridge`, `tables` and `ml` are the
 * current bridge's: output to a patch port swaps in the peer bridge's
 * for the rest of that output (patch.ts) and puts them back.
 */
export interface XlateInput {
  /** The packet's flow; in_port is the OpenFlow port unless `inPort` gives it. Not modified. */
  flow: FlowKey;
  /**
   * The OpenFlow in_port, when `flow` carries another (a datapath flow's
   * key, with its datapath port number): the translation's flow and base
   * take this one, and the caller copies no key just to change a word.
   * Nothing reads in_port from `flow` itself.
   */
  inPort?: number;
  tables: XlateTables;
  bridge: XBridge;
  /** The bridge's MAC table (NORMAL); null means NORMAL never learns or finds. */
  ml: MacLearning | null;
  /** Shared clock time, for MAC learning and aging. */
  nowMs: number;
  /** Allocates ids for frozen states (controller actions). */
  recircIds: RecircIds;
  /**
   * Whether a table miss goes to the controller (OVS's miss rule): a
   * pre-1.3 controller connection wants misses (connmgr's
   * want_packet_in_on_miss). Otherwise a miss drops.
   */
  packetInOnMiss?: boolean;
  /** The packet's bytes, for the packets the switch consumes (LACPDUs); none when revalidating. */
  packet?: Uint8Array | null;
  /** Whether NORMAL may learn (false for ofproto/trace and revalidation). */
  sideEffects?: boolean;
  /** Whether an xlate cache is being built (controller actions then send). */
  buildCache?: boolean;
  /** Where learn and fin_timeout side effects go; without one they only show in traces. */
  learnSink?: LearnSink;
  /** TCP flags seen on the flow's packets (fin_timeout looks for FIN and RST). */
  tcpFlags?: number;
  /** Record the trace tree (ofproto/trace). */
  trace?: boolean;
  /**
   * Actions to run instead of looking the flow up in table 0: a
   * packet-out's (xlate_in's ofpacts). Table lookups they lead to
   * (resubmit, output:TABLE) still happen.
   */
  ofpacts?: readonly OfAction[];
  /**
   * Keys to work in instead of fresh ones (a hot-path caller keeps one
   * set per thread: allocating the keys was most of a translation's
   * cost). The output object, its `wc` and its `finalFlow` are then the
   * keys', valid until the caller's next translation with them.
   */
  keys?: XlateKeys;
  /** The bridge a patch port's peer is on (by the peer's name); without it, patch ports drop. */
  patchPeer?: (peer: string) => PatchBridge | undefined;
  /**
   * Another bridge of the backer by its id: a packet frozen in a patch
   * port's peer bridge resumes there (freeze.ts). Without it, in `bridge`.
   */
  bridgeById?: (id: number) => PatchBridge | undefined;
  /** The id of `bridge`, for the xlate cache (0 when absent). */
  bridgeId?: number;
  /**
   * `bridge`'s ofproto UUID: controller cookies carry it so that the
   * packet-in goes to the controllers of the bridge whose rule sent it
   * (zeros when absent: the datapath in_port's bridge then).
   */
  ofprotoUuid?: Uint8Array;
  /**
   * A cache of an earlier translation to clear and fill instead of a new
   * one (xlate_cache_clear on a ukey's xcache); the output's `cache` is
   * then this object.
   */
  cache?: XlateCache;
  /**
   * With `keys`: the caller is done with the actions of the last
   * translation that had this flag on these keys, so this one refills
   * that array instead of making one (a revalidator only compares them,
   * and copies them for the rare flow it modifies).
   */
  reuseActions?: boolean;
  /** Formats a rule's match and an action, for the trace. */
  formatMatch?: (rule: XlateRule) => string;
  formatAction?: (action: OfAction) => string;
}

/** What a translation produces. */
export interface XlateOutput {
  /** Datapath actions; empty means drop. */
  actions: OdpAction[];
  /** The megaflow mask: every bit the translation depended on. */
  wc: FlowKey;
  /** Slow-path reasons (0: the flow can be installed as is). */
  slow: number;
  error: XlateError | null;
  /** Enough to push stats and relearn MACs without translating again. */
  cache: XlateCache;
  /** The flow after all rewrites (trace's "Final flow"). */
  finalFlow: FlowKey;
  /** Whether NORMAL learned or moved a MAC (OVS then revalidates). */
  macChanged: boolean;
  /**
   * The result must not be cached in a datapath flow (xlate_out's
   * avoid_caching): a learn with a limit, translated without side
   * effects, whose learned flow is not in the table (learn.ts).
   */
  avoidCaching: boolean;
  /** Controller actions emitted: packet-ins each packet of the flow sends. */
  packetIns: number;
  /**
   * Recirculation ids this translation referenced: the holder of the
   * actions (a ukey) releases them when it goes away.
   */
  recircs: number[];
  /** The trace tree, when asked for. */
  trace: TraceNode[] | null;
  /**
   * When tracing: the recirculations conntrack forked, for ofproto/trace
   * to follow (oftrace_add_recirc_node). Each holds a reference on its id
   * of its own, which the tracer releases.
   */
  traceRecircs: TraceRecirc[];
}

/** A conntrack recirculation ofproto/trace resumes after the first pass. */
export interface TraceRecirc {
  id: number;
  /** The flow at the fork, recirc_id and ct_zone set. */
  flow: FlowKey;
  /** The ct()'s nat, whose first address and port the trace simulates. */
  nat: NatAction | null;
}

/** ofp_packet_in_reason values. */
export const OFPR_ACTION = 1;
export const OFPR_INVALID_TTL = 2;
export const OFPR_EXPLICIT_MISS = 6;

export const MAX_DEPTH = 64;
export const MAX_RESUBMITS = 4096;

/**
 * The keys a translation works in (the flow, the base flow, the
 * wildcards), a key for the caller's input flow, and their byte views, in
 * one buffer; and the context a translation with them runs in, reused
 * from one translation to the next: allocating buffers, views and
 * contexts dominated a translation (see XlateInput.keys). One set per
 * thread, never two translations with it at once.
 */
export class XlateKeys {
  readonly flow: FlowKey;
  readonly f: Uint8Array;
  readonly base: FlowKey;
  readonly b: Uint8Array;
  readonly wc: FlowKey;
  readonly w: Uint8Array;
  /** The output of a translation with these keys, refilled by the next one. */
  #output: XlateOutput | undefined;
  #ctx: XlateCtx | undefined;

  constructor() {
    const buf = new ArrayBuffer(FLOW_BYTES * 3);
    this.flow = new Uint32Array(buf, 0, FLOW_WORDS);
    this.f = bytesOf(this.flow);
    this.base = new Uint32Array(buf, FLOW_BYTES, FLOW_WORDS);
    this.b = bytesOf(this.base);
    this.wc = new Uint32Array(buf, FLOW_BYTES * 2, FLOW_WORDS);
    this.w = bytesOf(this.wc);
  }

  /** The context for a translation of `xin` (whose `keys` are these), reset for it. */
  ctxFor(xin: XlateInput): XlateCtx {
    if (this.#ctx === undefined) return this.#ctx = new XlateCtx(xin);
    this.#ctx.reset(xin);
    return this.#ctx;
  }

  /** The output object of translations with these keys (made at the first). */
  outputOf(ctx: XlateCtx): XlateOutput {
    return this.#output ??= newOutput(ctx);
  }
}

/** `ctx`'s output as it stands (xlate's end fills it in again). */
export function newOutput(ctx: XlateCtx): XlateOutput {
  return {
    actions: ctx.actions,
    wc: ctx.wc,
    slow: ctx.slow,
    error: ctx.error,
    cache: ctx.cache,
    finalFlow: ctx.flow,
    macChanged: ctx.macChanged,
    avoidCaching: ctx.avoidCaching,
    packetIns: ctx.packetIns,
    recircs: ctx.recircs,
    trace: ctx.traceRoot,
    traceRecircs: ctx.traceRecircs,
  };
}

export class XlateCtx {
  xin: XlateInput;
  readonly flow: FlowKey;
  readonly f: Uint8Array;
  readonly base: FlowKey;
  readonly b: Uint8Array;
  readonly wc: FlowKey;
  readonly w: Uint8Array;
  actions: OdpAction[] = [];
  /** The array translations with `XlateInput.reuseActions` refill. */
  readonly #reusedActions: OdpAction[] = [];
  cache!: XlateCache;
  traceRoot: TraceNode[] | null = null;
  /** Where trace nodes go now: the subs of the current table node. */
  trace: TraceNode[] | null = null;
  depth = 0;
  resubmits = 0;
  tableId = 0;
  rule: XlateRule | null = null;
  ruleCookie = 0xffffffffffffffffn;
  exit = false;
  error: XlateError | null = null;
  slow = 0;
  macChanged = false;
  avoidCaching = false;
  packetIns = 0;
  recircs: number[] = [];
  /** Whether the packet went through conntrack in this pass (ctx->conntracked). */
  conntracked = false;
  /** The nat() of the ct() being composed (ctx->ct_nat_action). */
  ctNat: NatAction | null = null;
  /**
   * A thawed state's frozen actions (a dp_hash group's): rule id + 1 (0:
   * none, look the table up) and the index of the first action to run.
   */
  resumeRule = 0;
  resumeAction = 0;
  traceRecircs: TraceRecirc[] = [];

  constructor(xin: XlateInput) {
    this.xin = xin;
    const keys = xin.keys ?? new XlateKeys();
    this.flow = keys.flow;
    this.f = keys.f;
    this.base = keys.base;
    this.b = keys.b;
    this.wc = keys.wc;
    this.w = keys.w;
    this.reset(xin);
  }

  /**
   * Starts the translation of `xin` over this context's keys. What the
   * last translation's output holds (actions, cache, recirculation ids,
   * trace) is left to it: this one gets its own.
   */
  reset(xin: XlateInput): void {
    this.xin = xin;
    this.flow.set(xin.flow);
    this.base.set(xin.flow);
    if (xin.inPort !== undefined) {
      setUint(this.f, F.in_port.off, 4, xin.inPort);
      setUint(this.b, F.in_port.off, 4, xin.inPort);
    }
    this.wc.fill(0);
    if (xin.reuseActions) {
      // Popped, not cut to length 0, which would free the array's storage.
      const reused = this.#reusedActions;
      while (reused.length) reused.pop();
      this.actions = reused;
    } else this.actions = [];
    if (xin.cache) xin.cache.clear();
    this.cache = xin.cache ?? new XlateCache();
    this.cache.bridge = xin.bridgeId ?? 0;
    this.traceRoot = xin.trace ? [] : null;
    this.trace = this.traceRoot;
    this.depth = 0;
    this.resubmits = 0;
    this.tableId = 0;
    this.rule = null;
    this.ruleCookie = 0xffffffffffffffffn;
    this.exit = false;
    this.error = null;
    this.slow = 0;
    this.macChanged = false;
    this.avoidCaching = false;
    this.packetIns = 0;
    if (this.recircs.length) this.recircs = [];
    this.conntracked = false;
    this.ctNat = null;
    this.resumeRule = 0;
    this.resumeAction = 0;
    if (this.traceRecircs.length) this.traceRecircs = [];
  }

  /** Adds a trace node under the current one; returns its subs (or null). */
  report(type: TraceNodeType, text: string): TraceNode[] | null {
    if (!this.trace) return null;
    const node: TraceNode = { type, text, subs: [] };
    this.trace.push(node);
    return node.subs;
  }
}

/**
 * Learning between the workers' translations and the bridge's master
 * tables (OVS's ofproto_flow_mod_learn and ofproto_rule_reduce_timeouts,
 * run where the tables live).
 *
 * `QueueLearnSink` is what the workers' translations hand learn and
 * fin_timeout side effects to: it answers a learn's
 * `limit` from its own replica of the tables and queues the record
 * (learn_queue.ts). `BridgeLearning` on the main thread drains the queue:
 * for each learn it rebuilds the flow_mod from the learning rule's
 * action and the recorded flow, refreshes the learned rule when it is
 * already there as learned or the record is an xlate cache's refresh
 * (its hard timeout counts from now), or adds or modifies it (subject
 * to `limit`), all of one drain as one tables
 * change; for each fin_timeout it shortens the rule's timeouts. The main
 * thread's own translations (packet-outs) learn through
 * `BridgeLearning.direct`, at once.
 *
 * Thread-safety: a QueueLearnSink per thread, over its thread's tables;
 * BridgeLearning on the main thread only.
 */
import { getLogger, timeMsec } from "../lib/mod.ts";
import {
  FF_SEND_FLOW_REM,
  type FlowMod,
  learnActionsOf,
  learnFlowMod,
  newFlowMod,
  newMatch,
  type OfAction,
  type OfTables,
  type Rule,
  type TablesUpdate,
} from "../ofproto/mod.ts";
import type { LearnSink } from "../xlate/mod.ts";
import type { FlowKey } from "../flow/mod.ts";
import { FIN_TIMEOUT_RECORD, LEARN_RECORD, LearnQueue, type LearnRecord } from "./learn_queue.ts";

const log = getLogger("ofproto");

/** How many flows table `tableId` has with exactly `cookie`. */
function countWithCookie(tables: OfTables, tableId: number, cookie: bigint): number {
  const filter = newFlowMod("delete", false, newMatch(), 0);
  filter.tableId = tableId;
  filter.cookie = cookie;
  filter.cookieMask = (1n << 64n) - 1n;
  return tables.selectRules(filter).length;
}

const sameActions = (a: readonly OfAction[], b: readonly OfAction[]): boolean =>
  JSON.stringify(a, (_k, v) => typeof v === "bigint" ? v.toString() : v) ===
    JSON.stringify(b, (_k, v) => typeof v === "bigint" ? v.toString() : v);

/**
 * Whether `rule` is what learning `fm` would leave in the table
 * (ofproto_flow_mod_init_for_learn's test for reusing the existing rule):
 * cookie, timeouts, send_flow_rem and actions all the same.
 */
function learnedAsIs(rule: Rule, fm: FlowMod): boolean {
  return rule.cookie === (fm.newCookie ?? 0n) && rule.idleTimeout === fm.idleTimeout &&
    rule.hardTimeout === fm.hardTimeout &&
    (rule.flags & FF_SEND_FLOW_REM) === (fm.flags & FF_SEND_FLOW_REM) &&
    sameActions(rule.actions, fm.actions ?? []);
}

/** Whether `tables` hold the flow `fm` learns, as learning would leave it. */
function isLearnedIn(tables: OfTables, fm: FlowMod): boolean {
  const rule = tables.findExact(fm.tableId ?? 0, fm.match, fm.priority);
  return rule !== undefined && learnedAsIs(rule, fm);
}

export class QueueLearnSink implements LearnSink {
  readonly #queue: LearnQueue;
  readonly #tables: OfTables;

  constructor(queue: LearnQueue, tables: OfTables) {
    this.#queue = queue;
    this.#tables = tables;
  }

  learn(ruleId: number, ordinal: number, flow: FlowKey, fm: FlowMod | null, limit: number) {
    // Only packet-outs learn outside a rule, and the main thread translates those (`direct`).
    if (ruleId < 0) return false;
    if (fm && limit && !this.#tables.findExact(fm.tableId ?? 0, fm.match, fm.priority)) {
      if (countWithCookie(this.#tables, fm.tableId ?? 0, fm.newCookie ?? 0n) >= limit) {
        return false;
      }
    }
    // b = 1: a refresh from an xlate cache (XC_LEARN), which never modifies.
    this.#queue.push(LEARN_RECORD, ruleId, ordinal, fm ? 0 : 1, flow);
    return true;
  }

  isLearned(fm: FlowMod): boolean {
    return isLearnedIn(this.#tables, fm);
  }

  reduceTimeouts(ruleId: number, idle: number, hard: number): void {
    this.#queue.push(FIN_TIMEOUT_RECORD, ruleId, idle, hard, null);
  }

  releaseLockOf(owner: number): void {
    this.#queue.releaseLockOf(owner);
  }
}

/** reduce_timeout: `max` replaces no timeout or a longer one. */
const reduce = (max: number, cur: number): number => (max && (!cur || cur > max) ? max : cur);

export class BridgeLearning {
  readonly queue = LearnQueue.create();
  readonly #tables: OfTables;
  readonly #changed: (u: TablesUpdate | null, counted: boolean) => void;

  /**
   * `changed` publishes a tables change (the bridge's tablesChanged),
   * `counted` as a revalidation reason unless a packet-out learned.
   */
  constructor(tables: OfTables, changed: (u: TablesUpdate | null, counted: boolean) => void) {
    this.#tables = tables;
    this.#changed = changed;
  }

  /** Applies whatever the translations queued; cheap when nothing is. */
  run(nowMs: number): void {
    if (!this.queue.pending) return;
    const mods: FlowMod[] = [];
    const seen = new Set<string>();
    const added = new Map<string, number>();
    this.queue.drain((rec) => {
      if (rec.kind === FIN_TIMEOUT_RECORD) this.#reduceTimeouts(rec);
      else if (rec.kind === LEARN_RECORD) this.#learn(rec, nowMs, mods, seen, added);
    });
    this.#commit(mods, nowMs, true);
  }

  #reduceTimeouts(rec: Pick<LearnRecord, "ruleId" | "a" | "b">): void {
    const r = this.#tables.ruleById(rec.ruleId);
    if (!r) return;
    r.idleTimeout = reduce(rec.a, r.idleTimeout);
    r.hardTimeout = reduce(rec.b, r.hardTimeout);
  }

  #learn(
    rec: LearnRecord,
    nowMs: number,
    mods: FlowMod[],
    seen: Set<string>,
    added: Map<string, number>,
  ): void {
    const learn = learnActionsOf(this.#tables.ruleById(rec.ruleId)?.actions ?? [])[rec.a];
    // The learning rule went away since: nothing learns from it any more.
    if (!learn) return;
    const fm = learnFlowMod(learn, rec.flow.slice());
    const key = `${fm.tableId}/${fm.priority}/${fm.match.key}/${fm.match.mask}`;
    if (seen.has(key)) return;
    seen.add(key);
    this.#plan(fm, learn.limit, rec.b === 1, nowMs, mods, added);
  }

  /**
   * What learning `fm` does to the tables: refreshes the learned rule it
   * matches exactly (a `refresh` from an xlate cache, or the same flow
   * learned again), else modifies it, else adds it unless the table
   * already has `limit` flows with its cookie (counting `added`, those
   * this batch adds). Returns false when `limit` refused it.
   */
  #plan(
    fm: FlowMod,
    limit: number,
    refresh: boolean,
    nowMs: number,
    mods: FlowMod[],
    added: Map<string, number>,
  ): boolean {
    const tableId = fm.tableId ?? 0;
    const cookie = fm.newCookie ?? 0n;
    const old = this.#tables.findExact(tableId, fm.match, fm.priority);
    if (old) {
      if (refresh || learnedAsIs(old, fm)) {
        // ofproto_flow_mod_learn_refresh: the hard timeout restarts.
        old.modifiedMs = nowMs;
        return true;
      }
      mods.push(fm);
      return true;
    }
    if (limit) {
      const k = `${tableId}/${cookie}`;
      const n = countWithCookie(this.#tables, tableId, cookie) + (added.get(k) ?? 0);
      if (n >= limit) {
        log.info(`Learn limit for flow ${cookie} reached.`);
        return false;
      }
      added.set(k, (added.get(k) ?? 0) + 1);
    }
    mods.push({ ...fm, command: "add", strict: false });
    return true;
  }

  #commit(mods: FlowMod[], nowMs: number, counted: boolean): void {
    if (!mods.length) return;
    try {
      this.#changed(this.#tables.flowMods(mods, false, nowMs), counted);
    } catch (e) {
      log.warn(`learned flows refused: ${e instanceof Error ? e.message : e}`);
    }
  }

  /**
   * The sink of the main thread's own translations (packet-outs): their
   * learns reach the tables at once, as ofproto_flow_mod_learn applies
   * them in the thread that translates, and a learn in the packet-out's
   * own actions (no rule to rebuild it from) is applied as it was made.
   */
  readonly direct: LearnSink = this.#directSink(false);

  /**
   * The sink of a packet-out sent to another bridge whose translation
   * crossed into this one through a patch port: the same, but OVS bumps
   * this bridge's tables version for it (ofproto_flow_mod_learn_finish on
   * a bridge other than the packet-out's), a revalidation reason
   * (rev_flow_table).
   */
  readonly crossed: LearnSink = this.#directSink(true);

  #directSink(counted: boolean): LearnSink {
    return {
      learn: (_ruleId, _ordinal, _flow, fm, limit) => {
        if (!fm) return true;
        const nowMs = timeMsec();
        const mods: FlowMod[] = [];
        const ok = this.#plan(fm, limit, false, nowMs, mods, new Map());
        this.#commit(mods, nowMs, counted);
        return ok;
      },
      isLearned: (fm) => isLearnedIn(this.#tables, fm),
      reduceTimeouts: (ruleId, idle, hard) => this.#reduceTimeouts({ ruleId, a: idle, b: hard }),
    };
  }
}

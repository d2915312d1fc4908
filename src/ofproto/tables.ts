/**
 * The OpenFlow tables of one bridge (tables 0..254) and the flow-table
 * commands ovs-ofctl drives: add-flow(s), mod-flows, del-flows, dump-flows,
 * with OVS's strict/loose, cookie-mask and out_port semantics, timeouts
 * driven by a clock value, and a version that every change bumps.
 *
 * Every change is also described by a TablesUpdate, a structured-clone
 * friendly message that a replica applies with applyUpdate to reach the
 * same rules and version as the master copy.
 */
import type { FlowKey } from "../flow/mod.ts";
import { N_TABLES, RuleIndex } from "./_rule_index.ts";
import { applyOps, snapshot, type TablesOp, type TablesUpdate } from "./tables_update.ts";
import { DEFAULT_PREFIX_FIELDS } from "./prefix_fields.ts";
import {
  FF_RESET_COUNTS,
  type FlowMod,
  type FlowModOptions,
  parseFlowMod,
  parseFlowModLine,
} from "./flow_mod.ts";
import type { Match } from "./match.ts";
import { checkOverlaps, flowModSelects, MAX_VISIBLE_PRIORITY } from "./_rule_select.ts";
import { dumpFlowsHeader, formatRule, type FormatRuleOptions, type Rule } from "./rule.ts";
import { OfctlError } from "./ofctl_error.ts";
import { type SortCriterion, sortRules } from "./dump_sort.ts";
import { coverageCounter } from "../lib/mod.ts";
import type { Group, GroupMod } from "./group.ts";
import { decodeGroupStatsId, GroupModError, type GroupSelection, GroupTable } from "./groups.ts";
import { learnedCookiesToFlush } from "./learned_cookies.ts";

const covExpired = coverageCounter("ofproto_dpif_expired");

export { MAX_VISIBLE_PRIORITY, N_TABLES };
export type { RuleSnapshot, TablesOp, TablesUpdate } from "./tables_update.ts";

/** A flow_mod the switch refused with OFPERR `error` (ovs-ofctl prints both). */
export class FlowModRefused extends OfctlError {
  constructor(readonly error: string, readonly fm: FlowMod) {
    super(error);
  }
}

/** Why a rule left the tables (OFPRR_IDLE_TIMEOUT, OFPRR_HARD_TIMEOUT, OFPRR_DELETE). */
export type RuleRemovedReason = "idle" | "hard" | "delete";

export class OfTables {
  /**
   * Told of each rule a delete or an expiry removes (the master copy's
   * owner sends flow-removed messages from it); replicas leave it unset.
   */
  onRemoved: ((rule: Rule, reason: RuleRemovedReason, nowMs: number) => void) | undefined;

  /** Bumped by every change; replicas carry the master's number. */
  version = 0;
  private readonly idx = new RuleIndex();
  private nextId = 1;
  /** The group table, versioned with the rules (group_mods bump `version` too). */
  readonly groups = new GroupTable();
  /** Rules removed or replaced by the change being made (for delete_learned). */
  private removed: Rule[] = [];

  get nRules(): number {
    return this.idx.byId.size;
  }

  /** Highest-priority rule of table `tableId` matching `flow`; ORs examined bits into `wc`. */
  lookup(tableId: number, flow: FlowKey, wc: FlowKey | null): Rule | null {
    return this.idx.tables[tableId].lookup(flow, wc);
  }

  ruleById(id: number): Rule | undefined {
    return this.idx.byId.get(id);
  }

  /** A group and its selection setup, for translation. */
  group(id: number): { group: Group; selection: GroupSelection } | undefined {
    const group = this.groups.get(id);
    return group && { group, selection: this.groups.selection(id)! };
  }

  /**
   * Applies group_mods in order as one change, as ovs-ofctl sends a
   * file's; deleting a group deletes the rules whose actions use it, as
   * OVS does. A refused one (GroupModError, thrown with the update of
   * the ones before it in `error.applied`) stops the rest.
   */
  groupMods(gms: GroupMod[], nowMs: number): TablesUpdate | null {
    const all: TablesOp[] = [];
    let current: GroupMod | undefined;
    try {
      for (const gm of gms) {
        current = gm;
        const { ops, deleted } = this.groups.apply(gm, nowMs);
        all.push(...ops);
        for (const r of [...this.rules()]) {
          if (r.actions.some((a) => a.type === "group" && deleted.includes(a.groupId))) {
            this.removeRule(r, all);
            this.onRemoved?.(r, "delete", nowMs);
          }
        }
      }
    } catch (e) {
      if (e instanceof GroupModError) {
        e.gm = current;
        e.applied = this.commit(all);
      }
      throw e;
    }
    return this.commit(all);
  }

  /** Credits a rule with traffic (translation and revalidators call this). */
  creditStats(ruleId: number, nPackets: number, nBytes: number, usedMs: number): void {
    if (ruleId < 0) {
      const { groupId, bucketIndex } = decodeGroupStatsId(ruleId);
      this.groups.credit(groupId, bucketIndex, nPackets, nBytes);
      return;
    }
    const r = this.idx.byId.get(ruleId);
    if (!r) return;
    r.nPackets += nPackets;
    r.nBytes += nBytes;
    if (usedMs > r.usedMs) r.usedMs = usedMs;
  }

  /** Every rule: tables in order, each in classifier dump order. */
  rules(): IterableIterator<Rule> {
    return this.idx.rules();
  }

  addFlow(text: string, nowMs: number, opts: FlowModOptions = {}): TablesUpdate | null {
    return this.flowMods([parseFlowMod(text, "add", false, opts)], false, nowMs);
  }

  /**
   * add-flows: one flow per line (or a command and a flow: `delete tcp`,
   * `modify_strict ...`), `#` comments and blank lines skipped.
   * All or nothing: a bad line (reported as `SOURCE:LINE: error`, or
   * `line N: error`) or an overlap refused by check_overlap changes nothing.
   */
  addFlows(
    fileText: string,
    nowMs: number,
    opts: FlowModOptions & { source?: string } = {},
  ): TablesUpdate | null {
    const mods: FlowMod[] = [];
    fileText.split("\n").forEach((raw, i) => {
      const line = raw.trim();
      if (line === "" || line.startsWith("#")) return;
      try {
        mods.push(parseFlowModLine(line, opts));
      } catch (e) {
        if (!(e instanceof OfctlError)) throw e;
        const where = opts.source === undefined ? `line ${i + 1}` : `${opts.source}:${i + 1}`;
        throw new OfctlError(`${where}: ${e.message}`);
      }
    });
    return this.flowMods(mods, false, nowMs);
  }

  modFlows(
    text: string,
    strict: boolean,
    nowMs: number,
    opts: FlowModOptions = {},
  ): TablesUpdate | null {
    return this.flowMods([parseFlowMod(text, "modify", strict, opts)], strict, nowMs);
  }

  delFlows(text: string, strict: boolean, opts: FlowModOptions = {}): TablesUpdate | null {
    return this.flowMods([parseFlowMod(text, "delete", strict, opts)], strict, 0);
  }

  /**
   * Applies parsed flow mods in order as one change; returns the update, or
   * null if nothing changed. Throws (changing nothing) if check_overlap
   * refuses an add. `strict` applies --strict to every mod, as the command
   * line's option does; otherwise each mod's own `strict` holds.
   */
  flowMods(mods: FlowMod[], strict: boolean, nowMs: number): TablesUpdate | null {
    checkOverlaps(mods, (tableId) => this.idx.tables[tableId].rules());
    // ofproto_check_ofpacts: a group action must name an existing group.
    for (const fm of mods) {
      if (fm.actions?.some((a) => a.type === "group" && !this.groups.get(a.groupId))) {
        throw new FlowModRefused("OFPBAC_BAD_OUT_GROUP", fm);
      }
    }
    const ops: TablesOp[] = [];
    for (const fm of mods) this.applyFlowMod(strict ? { ...fm, strict } : fm, nowMs, ops);
    return this.commit(ops, nowMs);
  }

  /** Removes rules whose idle or hard timeout has passed at `nowMs`. */
  expire(nowMs: number): TablesUpdate | null {
    const ops: TablesOp[] = [];
    for (const r of [...this.idx.byId.values()]) {
      const hard = r.hardTimeout && nowMs > r.modifiedMs + r.hardTimeout * 1000;
      const idle = r.idleTimeout && nowMs > r.usedMs + r.idleTimeout * 1000;
      if (hard || idle) {
        covExpired.inc();
        this.removeRule(r, ops);
        this.onRemoved?.(r, hard ? "hard" : "idle", nowMs);
      }
    }
    return this.commit(ops, nowMs);
  }

  /**
   * Sets the prefix fields of table `tableId`, or of every table (a
   * Flow_Table's `prefixes`, default ip_dst,ip_src). Megaflow masks change,
   * rules do not; a bad list throws and changes nothing.
   */
  setPrefixFields(fields: readonly string[], tableId?: number): TablesUpdate | null {
    const ops: TablesOp[] = [];
    for (let t = 0; t < N_TABLES; t++) {
      if (tableId !== undefined && t !== tableId) continue;
      const cls = this.idx.tables[t];
      const before = cls.prefixFieldNames().join();
      cls.setPrefixFields(fields);
      if (cls.prefixFieldNames().join() !== before) {
        ops.push({ op: "prefixes", tableId: t, fields: cls.prefixFieldNames() });
      }
    }
    return this.commit(ops);
  }

  /**
   * The whole tables as one update at the current version (clear, then every
   * rule in dump order), for a replica starting late or restarting: it can
   * replace the log of earlier updates.
   */
  snapshotUpdate(): TablesUpdate {
    const ops: TablesOp[] = [{ op: "clear" }];
    this.idx.tables.forEach((cls, tableId) => {
      const fields = cls.prefixFieldNames();
      if (fields.join() !== DEFAULT_PREFIX_FIELDS.join()) {
        ops.push({ op: "prefixes", tableId, fields });
      }
    });
    for (const group of this.groups.groups()) ops.push({ op: "group-set", group });
    for (const r of this.rules()) ops.push({ op: "add", rule: snapshot(r) });
    return { type: "tables-update", version: this.version, ops };
  }

  /**
   * Brings a replica to the master's state. Updates must come in version
   * order; older ones are ignored, and a gap throws (a snapshot fills any).
   */
  applyUpdate(u: TablesUpdate): void {
    const isSnapshot = u.ops[0]?.op === "clear";
    if (u.version <= this.version && !(isSnapshot && u.version === this.version)) return;
    if (!isSnapshot && u.version !== this.version + 1) {
      throw new Error(`tables update ${u.version} cannot follow version ${this.version}`);
    }
    for (const op of u.ops) {
      if (op.op === "clear") this.groups.clear();
      else if (op.op === "group-set" || op.op === "group-delete") this.groups.applyOp(op);
    }
    this.nextId = Math.max(this.nextId, applyOps(this.idx, u.ops));
    this.version = u.version;
  }

  /**
   * dump-flows text: the header, then a line per rule. `filter` is a
   * del-flows style match; `sort` gives --sort/--rsort criteria.
   */
  dumpFlows(
    opts: FormatRuleOptions & FlowModOptions & { filter?: string; sort?: SortCriterion[] } = {},
  ): string {
    // ovs-ofctl prints a sorted or --names dump without the reply's header.
    const bare = opts.sort?.length || opts.namesByPort;
    const lines = bare ? [] : [dumpFlowsHeader(opts.version)];
    const rules = opts.filter
      ? this.collect(parseFlowMod(opts.filter, "delete", false, opts))
      : [...this.rules()].filter((r) => r.priority <= MAX_VISIBLE_PRIORITY);
    for (const r of sortRules(rules, opts.sort ?? [])) lines.push(formatRule(r, opts));
    return lines.join("\n") + "\n";
  }

  /**
   * The rules a flow-stats request selects: `fm` is a loose delete-style
   * filter (table, cookie and mask, out_port, match), as OVS reads one.
   */
  selectRules(fm: FlowMod): Rule[] {
    return this.collect(fm);
  }

  /** The rule `tableId` has with exactly `match` and `priority`, if any. */
  findExact(tableId: number, match: Match, priority: number): Rule | undefined {
    return this.idx.tables[tableId].findExact(match, priority);
  }

  private commit(ops: TablesOp[], nowMs = 0): TablesUpdate | null {
    // delete_learned: flows learned by rules that left go too, and so on.
    while (this.removed.length) {
      const removed = this.removed;
      this.removed = [];
      for (const { tableId, cookie } of learnedCookiesToFlush(removed, this.rules())) {
        for (const r of [...this.idx.withCookie(cookie)]) {
          if (r.tableId !== tableId) continue;
          this.removeRule(r, ops);
          this.onRemoved?.(r, "delete", nowMs);
        }
      }
    }
    if (!ops.length) return null;
    this.version++;
    return { type: "tables-update", version: this.version, ops };
  }

  /**
   * The rules a mod, del or dump selects, in OVS's order (collect_rules_loose):
   * by the cookie index for an exact cookie, else table by table.
   */
  private collect(fm: FlowMod): Rule[] {
    const exactCookie = fm.cookieMask === (1n << 64n) - 1n;
    const from = exactCookie ? this.idx.withCookie(fm.cookie) : this.rules();
    return [...from].filter((r) => flowModSelects(fm, r));
  }

  private applyFlowMod(fm: FlowMod, nowMs: number, ops: TablesOp[]): void {
    if (fm.command === "add") {
      this.addRule(fm, nowMs, ops);
      return;
    }
    const hits = this.collect(fm);
    if (fm.command === "delete") {
      for (const r of hits) {
        this.removeRule(r, ops);
        this.onRemoved?.(r, "delete", nowMs);
      }
      return;
    }
    if (!hits.length) {
      // A modify that sets a cookie and matches none by cookie adds the flow.
      if (fm.newCookie !== undefined && fm.cookieMask === 0n) this.addRule(fm, nowMs, ops);
      return;
    }
    for (const old of hits) {
      const reset = (fm.flags & FF_RESET_COUNTS) !== 0;
      const r: Rule = {
        ...old,
        cookie: fm.newCookie ?? old.cookie,
        actions: fm.actions!,
        modifiedMs: nowMs,
        nPackets: reset ? 0 : old.nPackets,
        nBytes: reset ? 0 : old.nBytes,
      };
      this.replaceRule(old, r, ops);
    }
  }

  private addRule(fm: FlowMod, nowMs: number, ops: TablesOp[]): void {
    const tableId = fm.tableId ?? 0;
    const old = this.idx.tables[tableId].findExact(fm.match, fm.priority);
    // Re-adding a flow replaces it; its counters carry over unless the add
    // resets them (always, in OpenFlow 1.0).
    const keep = old && !(fm.flags & FF_RESET_COUNTS) ? old : undefined;
    const r: Rule = {
      id: old ? old.id : this.nextId++,
      tableId,
      priority: fm.priority,
      cookie: fm.newCookie ?? fm.cookie,
      match: { key: fm.match.key.slice(), mask: fm.match.mask.slice() },
      actions: fm.actions!,
      idleTimeout: fm.idleTimeout,
      hardTimeout: fm.hardTimeout,
      flags: fm.flags,
      nPackets: keep ? keep.nPackets : 0,
      nBytes: keep ? keep.nBytes : 0,
      createdMs: nowMs,
      usedMs: keep ? keep.usedMs : nowMs,
      modifiedMs: nowMs,
    };
    if (old) {
      this.replaceRule(old, r, ops);
      return;
    }
    this.idx.insert(r);
    ops.push({ op: "add", rule: snapshot(r) });
  }

  private replaceRule(old: Rule, r: Rule, ops: TablesOp[]): void {
    this.removed.push(old);
    this.idx.replace(old, r);
    ops.push({ op: "replace", id: old.id, rule: snapshot(r) });
  }

  private removeRule(r: Rule, ops: TablesOp[]): void {
    this.removed.push(r);
    this.idx.remove(r);
    ops.push({ op: "delete", id: r.id });
  }
}

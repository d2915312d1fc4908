/**
 * The messages that carry table changes to replicas: a TablesUpdate per
 * change (or a snapshot of everything), each a list of ops on rules by id.
 * They are structured-clone friendly (typed arrays, bigints), for
 * postMessage to handler and revalidator workers.
 */
import type { OfAction } from "./of_action.ts";
import type { RuleIndex } from "./_rule_index.ts";
import type { Rule } from "./rule.ts";
import type { GroupOp } from "./groups.ts";

/** A rule as carried in a TablesUpdate (no stats: those stay with the master). */
export interface RuleSnapshot {
  id: number;
  tableId: number;
  priority: number;
  cookie: bigint;
  key: Uint32Array;
  mask: Uint32Array;
  actions: OfAction[];
  idleTimeout: number;
  hardTimeout: number;
  flags: number;
  createdMs: number;
  modifiedMs: number;
}

export type TablesOp =
  | { op: "add"; rule: RuleSnapshot }
  /**
   * The rule with `id` is replaced by `rule`, same match, priority and id
   * (mod-flows, or add-flow of an existing flow); the master keeps its stats.
   */
  | { op: "replace"; id: number; rule: RuleSnapshot }
  | { op: "delete"; id: number }
  /** Drops every rule: the first op of a snapshot. */
  | { op: "clear" }
  /** Table `tableId` now tracks `fields` with prefix tries. */
  | { op: "prefixes"; tableId: number; fields: string[] }
  /** A group added, replaced or deleted (the GroupTable applies these). */
  | GroupOp;

/** One table change: replicas apply updates in version order. */
export interface TablesUpdate {
  type: "tables-update";
  version: number;
  ops: TablesOp[];
}

export function snapshot(r: Rule): RuleSnapshot {
  return {
    id: r.id,
    tableId: r.tableId,
    priority: r.priority,
    cookie: r.cookie,
    key: r.match.key.slice(),
    mask: r.match.mask.slice(),
    actions: r.actions,
    idleTimeout: r.idleTimeout,
    hardTimeout: r.hardTimeout,
    flags: r.flags,
    createdMs: r.createdMs,
    modifiedMs: r.modifiedMs,
  };
}

function fromSnapshot(s: RuleSnapshot): Rule {
  return {
    id: s.id,
    tableId: s.tableId,
    priority: s.priority,
    cookie: s.cookie,
    match: { key: s.key.slice(), mask: s.mask.slice() },
    actions: s.actions,
    idleTimeout: s.idleTimeout,
    hardTimeout: s.hardTimeout,
    flags: s.flags,
    nPackets: 0,
    nBytes: 0,
    createdMs: s.createdMs,
    usedMs: s.createdMs,
    modifiedMs: s.modifiedMs,
  };
}

/** Applies `ops` to a replica's rules; returns the next free rule id. */
export function applyOps(idx: RuleIndex, ops: readonly TablesOp[]): number {
  let nextId = 0;
  for (const op of ops) {
    if (op.op === "clear") {
      idx.clear();
    } else if (op.op === "add") {
      idx.insert(fromSnapshot(op.rule));
    } else if (op.op === "group-set" || op.op === "group-delete") {
      continue;
    } else if (op.op === "prefixes") {
      idx.tables[op.tableId].setPrefixFields(op.fields);
    } else if (op.op === "replace") {
      const old = idx.byId.get(op.id);
      const r = fromSnapshot(op.rule);
      if (old) idx.replace(old, r);
      else idx.insert(r);
    } else {
      const old = idx.byId.get(op.id);
      if (old) idx.remove(old);
    }
    if (op.op === "add" || op.op === "replace") nextId = Math.max(nextId, op.rule.id + 1);
  }
  return nextId;
}

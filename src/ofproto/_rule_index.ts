/**
 * Where rules live: one classifier per table, plus the two indexes OVS's
 * ofproto keeps beside them, by id and by cookie. Every insertion, removal
 * and replacement goes through here so the three never disagree, in the
 * master copy and in replicas alike.
 */
import { Classifier } from "./classifier.ts";
import type { Rule } from "./rule.ts";

export const N_TABLES = 255;

export class RuleIndex {
  readonly tables: Classifier<Rule>[] = [];
  readonly byId = new Map<number, Rule>();
  /**
   * Rules by cookie in OVS's hindex order: the first rule inserted stays
   * first, each later one goes right after it (so the rest run newest
   * first). Exact-cookie mods, dels and dumps visit rules in this order.
   */
  private readonly byCookie = new Map<bigint, Rule[]>();

  constructor() {
    this.clear();
  }

  clear(): void {
    this.tables.length = 0;
    for (let i = 0; i < N_TABLES; i++) this.tables.push(new Classifier<Rule>());
    this.byId.clear();
    this.byCookie.clear();
  }

  insert(r: Rule): void {
    this.tables[r.tableId].insert(r);
    this.index(r);
  }

  remove(r: Rule): void {
    this.tables[r.tableId].remove(r);
    this.unindex(r);
  }

  /** `r` takes `old`'s place (same table, match and priority). */
  replace(old: Rule, r: Rule): void {
    this.tables[old.tableId].replace(old, r);
    this.unindex(old);
    this.index(r);
  }

  /** Every rule: tables in order, each in classifier dump order. */
  *rules(): IterableIterator<Rule> {
    for (const t of this.tables) yield* t.rules();
  }

  /** The rules with exactly this cookie, in hindex order. */
  withCookie(cookie: bigint): readonly Rule[] {
    return this.byCookie.get(cookie) ?? [];
  }

  private index(r: Rule): void {
    this.byId.set(r.id, r);
    const list = this.byCookie.get(r.cookie);
    if (list) list.splice(1, 0, r);
    else this.byCookie.set(r.cookie, [r]);
  }

  private unindex(r: Rule): void {
    this.byId.delete(r.id);
    const list = this.byCookie.get(r.cookie)!;
    list.splice(list.indexOf(r), 1);
    if (!list.length) this.byCookie.delete(r.cookie);
  }
}

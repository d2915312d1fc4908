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
   * Rules by cookie in OVS's hindex order: the chain's head, then the other
   * rules newest first (each insertion goes right after the head; removing
   * the head promotes the newest). `rest` holds those others oldest first.
   */
  private readonly byCookie = new Map<bigint, { head: Rule; rest: Set<Rule> }>();

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
  withCookie(cookie: bigint): Rule[] {
    const chain = this.byCookie.get(cookie);
    return chain ? [chain.head, ...[...chain.rest].reverse()] : [];
  }

  private index(r: Rule): void {
    this.byId.set(r.id, r);
    const chain = this.byCookie.get(r.cookie);
    if (chain) chain.rest.add(r);
    else this.byCookie.set(r.cookie, { head: r, rest: new Set() });
  }

  private unindex(r: Rule): void {
    this.byId.delete(r.id);
    const chain = this.byCookie.get(r.cookie)!;
    if (chain.head !== r) {
      chain.rest.delete(r);
      return;
    }
    const newest = [...chain.rest].pop();
    if (newest === undefined) {
      this.byCookie.delete(r.cookie);
      return;
    }
    chain.rest.delete(newest);
    chain.head = newest;
  }
}

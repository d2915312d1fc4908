/**
 * The classifier of one OpenFlow table, with OVS's un-wildcarding: a
 * lookup returns the highest-priority matching rule and ORs into the
 * caller's wildcards exactly the bits OVS 3.1's classifier_lookup looks at.
 *
 * Rules are grouped in subtables by mask, visited in decreasing order of
 * their highest priority (ties: oldest first), skipping those that cannot
 * beat a match already found. Inside a subtable the lookup is staged
 * (metadata, L2, L3, then L4, by the flow layout's segment boundaries):
 * each stage checks a set of partial hashes and stops at the first stage
 * no rule can pass, so only the stages examined reach the wildcards.
 * Prefix tries on the table's prefix fields (OVS's default: ip_dst and
 * ip_src) let a stage holding an address stop after the prefix bits that
 * tell rules apart, and a per-subtable ports trie narrows tp_src/tp_dst the same way
 * when the last stage fails.
 *
 * Lookup allocates nothing: trie state is preallocated, hashes are
 * numbers, and keys are read word by word.
 */
import { be32, F, FLOW_WORDS, type FlowKey } from "../flow/mod.ts";
import { PrefixTrie } from "./_trie.ts";
import {
  DEFAULT_PREFIX_FIELDS,
  hasPrefixBits,
  maskPrefixLen,
  MAX_PREFIX_FIELDS,
  type PrefixField,
  prefixFields,
  setPrefixBits,
} from "./prefix_fields.ts";
import type { Match } from "./match.ts";

export interface ClsRule {
  priority: number;
  match: Match;
}

/**
 * Word boundaries of the lookup stages (FLOW_SEGMENT_*_ENDS_AT: dl_dst,
 * nw_src, nd_target). nd_target opens the L4 segment in OVS 3.1, so a
 * rule on nd_target is decided in the final stage, after its ports trie
 * has un-wildcarded the ICMPv6 type.
 */
const SEGMENTS = [0, F.dl_dst.off / 4, F.nw_src.off / 4, F.nd_target.off / 4, FLOW_WORDS];
const DL_TYPE_WORD = F.dl_type.off >> 2;
const TP_PORTS_WORD = F.tp_src.off / 4;

function mix(h: number, w: number): number {
  w = Math.imul(w, 0xcc9e2d51);
  w = (w << 15) | (w >>> 17);
  w = Math.imul(w, 0x1b873593);
  h ^= w;
  h = (h << 13) | (h >>> 19);
  return (Math.imul(h, 5) + 0xe6546b64) | 0;
}

class Subtable<R extends ClsRule> {
  readonly mask: FlowKey;
  /** Stage i covers words [stageStart[i], stageEnd[i]); the last one is the final stage. */
  readonly stageStart: number[] = [];
  readonly stageEnd: number[] = [];
  /** Per stage, the words where the mask has bits (what a stage hashes). */
  readonly stageWords: Int32Array[] = [];
  /** Every word where the mask has bits: all a rule's match compare needs to look at. */
  readonly maskWords: Int32Array;
  readonly nIndices: number;
  readonly indices: Map<number, number>[] = [];
  readonly buckets = new Map<number, R[]>();
  /** Insertion order (rules_list): a replaced rule moves to the end. */
  readonly rules = new Set<R>();
  /** The mask's prefix length on each trie field (0: the trie does not apply). */
  triePlen: number[] = [];
  readonly portsMaskLen: number;
  readonly portsTrie = new PrefixTrie();
  maxPriority = -1;
  /** How many rules have maxPriority, so removals rescan only when the last goes. */
  maxCount = 0;

  constructor(mask: FlowKey, fields: readonly PrefixField[]) {
    this.mask = mask.slice();
    const nonEmpty = (a: number, b: number) => {
      for (let w = a; w < b; w++) if (mask[w]) return true;
      return false;
    };
    let index = 0;
    for (let s = 0; s < 3; s++) {
      if (nonEmpty(SEGMENTS[s], SEGMENTS[s + 1])) {
        this.stageStart.push(SEGMENTS[s]);
        this.stageEnd.push(SEGMENTS[s + 1]);
        index++;
      }
    }
    if (index > 0 && !nonEmpty(SEGMENTS[3], SEGMENTS[4])) {
      index--;
    } else {
      this.stageStart.push(SEGMENTS[3]);
      this.stageEnd.push(SEGMENTS[4]);
    }
    this.nIndices = index;
    for (let i = 0; i <= index; i++) {
      const words: number[] = [];
      for (let w = this.stageStart[i]; w < this.stageEnd[i]; w++) if (mask[w]) words.push(w);
      this.stageWords.push(Int32Array.from(words));
    }
    const all: number[] = [];
    for (let w = 0; w < FLOW_WORDS; w++) if (mask[w]) all.push(w);
    this.maskWords = Int32Array.from(all);
    for (let i = 0; i < index; i++) this.indices.push(new Map());
    this.triePlen = fields.map((f) => maskPrefixLen(mask, f));
    const ports = be32(mask[TP_PORTS_WORD]);
    this.portsMaskLen = ports === 0 ? 0 : 32 - (31 - Math.clz32(ports & -ports));
  }

  stageHash(key: FlowKey, i: number, basis: number): number {
    const m = this.mask;
    const words = this.stageWords[i];
    let h = basis;
    for (let j = 0; j < words.length; j++) {
      const w = words[j];
      h = mix(h, (key[w] & m[w]) ^ w);
    }
    // 30 bits keep the hash a small integer: no boxing when it keys a Map.
    return h & 0x3fffffff;
  }

  /** The hash of a rule's key over every stage: its bucket. */
  fullHash(key: FlowKey): number {
    let h = 0;
    for (let i = 0; i <= this.nIndices; i++) h = this.stageHash(key, i, h);
    return h;
  }

  /** The flow's L4 ports under the subtable's mask, as a key word. */
  ports(key: FlowKey): number {
    return key[TP_PORTS_WORD] & this.mask[TP_PORTS_WORD];
  }
}

/** Per-lookup state of each prefix trie (trie_ctx), shared: lookups never overlap. */
const trieDone = new Uint8Array(MAX_PREFIX_FIELDS);
const trieBits = new Int32Array(MAX_PREFIX_FIELDS);
/** 1 when the flow lacks the field's prerequisite: every prefix may match. */
const trieAll = new Uint8Array(MAX_PREFIX_FIELDS);
/** The L4 ports word of the flow being looked up, for the ports trie. */
const portsWord = new Uint32Array(1);

export class Classifier<R extends ClsRule> {
  private subtables: Subtable<R>[] = [];
  private fields: PrefixField[] = prefixFields(DEFAULT_PREFIX_FIELDS);
  private tries: PrefixTrie[] = this.fields.map(() => new PrefixTrie());
  private count = 0;

  /**
   * Tracks `names` with prefix tries instead (classifier_set_prefix_fields):
   * every rule goes into the new tries. Throws, changing nothing, on a bad list.
   */
  setPrefixFields(names: readonly string[]): void {
    const fields = prefixFields(names);
    if (fields.map((f) => f.name).join() === this.fields.map((f) => f.name).join()) return;
    this.fields = fields;
    this.tries = fields.map(() => new PrefixTrie());
    for (const st of this.subtables) {
      st.triePlen = fields.map((f) => maskPrefixLen(st.mask, f));
      for (const r of st.rules) this.trieInsert(st, r.match.key);
    }
  }

  prefixFieldNames(): string[] {
    return this.fields.map((f) => f.name);
  }

  private trieInsert(st: Subtable<R>, key: FlowKey): void {
    for (let j = 0; j < this.fields.length; j++) {
      if (st.triePlen[j]) this.tries[j].insert(key, this.fields[j].word, st.triePlen[j]);
    }
  }

  get size(): number {
    return this.count;
  }

  private findSubtable(mask: FlowKey): Subtable<R> | undefined {
    outer: for (const st of this.subtables) {
      for (let w = 0; w < FLOW_WORDS; w++) if (st.mask[w] !== mask[w]) continue outer;
      return st;
    }
    return undefined;
  }

  /** Inserts `rule`; the caller has removed any rule with the same match and priority. */
  insert(rule: R): void {
    const { key, mask } = rule.match;
    let st = this.findSubtable(mask);
    if (!st) {
      st = new Subtable<R>(mask, this.fields);
      this.subtables.push(st);
    }
    let h = 0;
    for (let i = 0; i < st.nIndices; i++) {
      h = st.stageHash(key, i, h);
      st.indices[i].set(h, (st.indices[i].get(h) ?? 0) + 1);
    }
    h = st.stageHash(key, st.nIndices, h);
    const bucket = st.buckets.get(h);
    if (bucket) bucket.push(rule);
    else st.buckets.set(h, [rule]);
    st.rules.add(rule);
    this.trieInsert(st, key);
    if (st.portsMaskLen) st.portsTrie.insert(key, TP_PORTS_WORD, st.portsMaskLen);
    this.count++;
    if (st.rules.size === 1 || rule.priority > st.maxPriority) {
      st.maxPriority = rule.priority;
      st.maxCount = 1;
      this.sortSubtables();
    } else if (rule.priority === st.maxPriority) {
      st.maxCount++;
    }
  }

  /**
   * Replaces `old` by `rule` (same match and priority). Lookups see the new
   * rule; in dumps it moves to the end of its subtable's list, because OVS
   * inserts the new version of a modified rule before removing the old one.
   */
  replace(old: R, rule: R): void {
    const st = this.findSubtable(old.match.mask)!;
    st.rules.delete(old);
    st.rules.add(rule);
    const bucket = st.buckets.get(st.fullHash(old.match.key))!;
    bucket[bucket.indexOf(old)] = rule;
  }

  remove(rule: R): boolean {
    const { key, mask } = rule.match;
    const st = this.findSubtable(mask);
    if (!st) return false;
    if (!st.rules.delete(rule)) return false;
    let h = 0;
    for (let i = 0; i < st.nIndices; i++) {
      h = st.stageHash(key, i, h);
      const n = (st.indices[i].get(h) ?? 1) - 1;
      if (n) st.indices[i].set(h, n);
      else st.indices[i].delete(h);
    }
    h = st.stageHash(key, st.nIndices, h);
    const bucket = st.buckets.get(h)!;
    bucket.splice(bucket.indexOf(rule), 1);
    if (!bucket.length) st.buckets.delete(h);
    for (let j = 0; j < this.fields.length; j++) {
      if (st.triePlen[j]) this.tries[j].remove(key, this.fields[j].word, st.triePlen[j]);
    }
    if (st.portsMaskLen) st.portsTrie.remove(key, TP_PORTS_WORD, st.portsMaskLen);
    this.count--;
    if (!st.rules.size) {
      // pvector_remove: the last entry takes the hole, then a stable sort.
      const subs = this.subtables;
      const last = subs.pop()!;
      if (last !== st) subs[subs.indexOf(st)] = last;
      this.sortSubtables();
    } else if (rule.priority === st.maxPriority && --st.maxCount === 0) {
      let max = -1;
      let n = 0;
      for (const r of st.rules) {
        if (r.priority > max) [max, n] = [r.priority, 1];
        else if (r.priority === max) n++;
      }
      st.maxPriority = max;
      st.maxCount = n;
      this.sortSubtables();
    }
    return true;
  }

  /** Subtables by max priority, ties kept in order (pvector's publish, a stable sort). */
  private sortSubtables(): void {
    this.subtables.sort((a, b) => b.maxPriority - a.maxPriority);
  }

  /** Rules in dump order: subtables by priority, then insertion order. */
  *rules(): IterableIterator<R> {
    for (const st of this.subtables) yield* st.rules;
  }

  /** The rule with exactly this match and priority (for strict mod/del and replace). */
  findExact(match: Match, priority: number): R | undefined {
    const st = this.findSubtable(match.mask);
    const bucket = st?.buckets.get(st.fullHash(match.key));
    if (!bucket) return undefined;
    return bucket.find((r) =>
      r.priority === priority && r.match.key.every((w, i) => w === match.key[i])
    );
  }

  /**
   * The highest-priority rule matching `flow`, ORing into `wc` (when given)
   * the bits OVS's classifier would have examined to decide.
   */
  lookup(flow: FlowKey, wc: FlowKey | null): R | null {
    trieDone.fill(0);
    let best: R | null = null;
    let hardPri = -1;
    const subtables = this.subtables;
    for (let s = 0; s < subtables.length; s++) {
      const st = subtables[s];
      if (st.maxPriority <= hardPri) break;
      const r = wc ? this.findMatchWc(st, flow, wc) : this.findMatch(st, flow, st.fullHash(flow));
      if (r && r.priority > hardPri) {
        best = r;
        hardPri = r.priority;
      }
    }
    return best;
  }

  private findMatch(st: Subtable<R>, flow: FlowKey, h: number): R | null {
    const bucket = st.buckets.get(h);
    if (!bucket) return null;
    const m = st.mask;
    const words = st.maskWords;
    let best: R | null = null;
    for (let b = 0; b < bucket.length; b++) {
      const r = bucket[b];
      const k = r.match.key;
      let ok = true;
      for (let j = 0; j < words.length; j++) {
        const w = words[j];
        if (((flow[w] ^ k[w]) & m[w]) !== 0) {
          ok = false;
          break;
        }
      }
      if (ok && (!best || r.priority > best.priority)) best = r;
    }
    return best;
  }

  /** check_tries: may the trie on a field in stage `i` rule the subtable out? */
  private checkTries(st: Subtable<R>, i: number, flow: FlowKey, wc: FlowKey): boolean {
    for (let j = 0; j < this.fields.length; j++) {
      const plen = st.triePlen[j];
      const f = this.fields[j];
      if (!plen || f.word < st.stageStart[i] || f.word >= st.stageEnd[i]) continue;
      if (!trieDone[j]) {
        trieDone[j] = 1;
        trieAll[j] = (be32(flow[DL_TYPE_WORD]) >>> 16) === f.dlType ? 0 : 1;
        trieBits[j] = trieAll[j] ? 0 : this.tries[j].lookup(flow, f.word, f.nBits);
      }
      if (trieAll[j] || this.tries[j].plens[plen]) continue;
      const bits = trieBits[j];
      if (bits <= plen) {
        setPrefixBits(wc, f, bits);
        return true;
      }
      if (hasPrefixBits(wc, f, bits)) return true;
    }
    return false;
  }

  private fold(st: Subtable<R>, wc: FlowKey, nStages: number): void {
    const m = st.mask;
    for (let i = 0; i < nStages; i++) {
      const words = st.stageWords[i];
      for (let j = 0; j < words.length; j++) wc[words[j]] |= m[words[j]];
    }
  }

  private findMatchWc(st: Subtable<R>, flow: FlowKey, wc: FlowKey): R | null {
    let h = 0;
    let i = 0;
    for (; i < st.nIndices; i++) {
      if (this.checkTries(st, i, flow, wc)) {
        this.fold(st, wc, i);
        return null;
      }
      h = st.stageHash(flow, i, h);
      if (!st.indices[i].has(h)) {
        this.fold(st, wc, i + 1);
        return null;
      }
    }
    if (this.checkTries(st, i, flow, wc)) {
      this.fold(st, wc, i);
      return null;
    }
    h = st.stageHash(flow, i, h);
    const rule = this.findMatch(st, flow, h);
    if (!rule && st.portsMaskLen) {
      portsWord[0] = st.ports(flow);
      const mbits = st.portsTrie.lookup(portsWord, 0, 32);
      const prefix = mbits === 0 ? 0 : (0xffffffff << (32 - mbits)) >>> 0;
      const ports = (be32(st.mask[TP_PORTS_WORD]) & prefix) | be32(wc[TP_PORTS_WORD]);
      this.fold(st, wc, i + 1);
      wc[TP_PORTS_WORD] = be32(ports >>> 0);
      return null;
    }
    this.fold(st, wc, i + 1);
    return rule;
  }
}

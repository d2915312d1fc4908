/**
 * A binary prefix trie over a field of up to 128 bits, answering OVS's
 * trie question: "how many leading bits of this value must a lookup look
 * at to know which rule prefixes it can match?" (classifier.c's
 * trie_lookup_value).
 *
 * OVS path-compresses its tries; this one keeps one node per bit. The
 * answers are the same: a compressed edge is a chain of one-child nodes
 * here, and a mismatch inside it is a missing child with a sibling.
 * Values are read straight from flow-key words; nodes live in typed
 * arrays, so a lookup allocates nothing.
 */
import { be32, type FlowKey } from "../flow/mod.ts";

/** Bit `d` (0 = most significant) of the field starting at key word `word`. */
function bitAt(key: FlowKey, word: number, d: number): number {
  return (be32(key[word + (d >>> 5)]) >>> (31 - (d & 31))) & 1;
}

export class PrefixTrie {
  private child0 = new Int32Array(64);
  private child1 = new Int32Array(64);
  private nRules = new Int32Array(64);
  private free: number[] = [];
  private used = 1;
  private readonly path = new Int32Array(129);
  /** plens[n] = 1: some rule has an n-bit prefix that the last value matched. */
  readonly plens = new Uint8Array(129);
  /** The deepest entry of `plens` the last lookup may have set. */
  #lastDepth = 128;
  /**
   * The last lookup of a value of one word, while no rule was added or
   * removed since: the same value again has the same answer, and `plens`
   * still holds it. (The flows of a revalidation pass mostly share their
   * ports under a subtable's mask: one walk of up to 32 nodes each.)
   */
  #lastValid = false;
  #lastWord = 0;
  #lastBits = 0;
  #lastAt = 0;
  #lastAnswer = 0;

  private alloc(): number {
    const n = this.free.pop() ?? this.used++;
    if (n >= this.child0.length) {
      const grow = (a: Int32Array) => {
        const b = new Int32Array(a.length * 2);
        b.set(a);
        return b;
      };
      this.child0 = grow(this.child0);
      this.child1 = grow(this.child1);
      this.nRules = grow(this.nRules);
    }
    this.child0[n] = this.child1[n] = this.nRules[n] = 0;
    return n;
  }

  /** Adds a rule whose field (at `key` word `word`) has a `plen`-bit prefix mask. */
  insert(key: FlowKey, word: number, plen: number): void {
    this.#lastValid = false;
    let node = 0;
    for (let d = 0; d < plen; d++) {
      const bit = bitAt(key, word, d);
      let next = bit ? this.child1[node] : this.child0[node];
      if (!next) {
        next = this.alloc();
        (bit ? this.child1 : this.child0)[node] = next;
      }
      node = next;
    }
    this.nRules[node]++;
  }

  remove(key: FlowKey, word: number, plen: number): void {
    this.#lastValid = false;
    const path = this.path;
    let node = 0;
    path[0] = 0;
    for (let d = 0; d < plen; d++) {
      node = bitAt(key, word, d) ? this.child1[node] : this.child0[node];
      if (!node) return;
      path[d + 1] = node;
    }
    if (this.nRules[node] > 0) this.nRules[node]--;
    for (let d = plen; d > 0; d--) {
      const n = path[d];
      if (this.nRules[n] || this.child0[n] || this.child1[n]) break;
      const parent = path[d - 1];
      if (bitAt(key, word, d - 1)) this.child1[parent] = 0;
      else this.child0[parent] = 0;
      this.free.push(n);
    }
  }

  /**
   * Number of leading bits of the value that decide the outcome, counting
   * the first mismatching bit; fills `plens` with the prefix lengths at
   * which rules match the value.
   */
  lookup(key: FlowKey, word: number, nBits: number): number {
    if (nBits > 32) {
      this.#lastValid = false;
      return this.#walk(key, word, nBits);
    }
    const value = key[word];
    if (
      this.#lastValid && value === this.#lastWord && nBits === this.#lastBits &&
      word === this.#lastAt
    ) {
      return this.#lastAnswer;
    }
    this.#lastAnswer = this.#walk(key, word, nBits);
    this.#lastWord = value;
    this.#lastBits = nBits;
    this.#lastAt = word;
    this.#lastValid = true;
    return this.#lastAnswer;
  }

  #walk(key: FlowKey, word: number, nBits: number): number {
    const plens = this.plens;
    // Only the lengths the last lookup could have set (up to its depth) need clearing.
    plens.fill(0, 0, this.#lastDepth + 1);
    const child0 = this.child0, child1 = this.child1, nRules = this.nRules;
    let node = 0;
    // The field's current word, big-endian, read once per 32 bits rather than per bit.
    let value = 0;
    for (let d = 0;; d++) {
      if (d > 0 && nRules[node] > 0) plens[d] = 1;
      if (d >= nBits) {
        this.#lastDepth = nBits;
        return nBits;
      }
      if ((d & 31) === 0) value = be32(key[word + (d >>> 5)]);
      const bit = (value >>> (31 - (d & 31))) & 1;
      const next = bit ? child1[node] : child0[node];
      if (next) {
        node = next;
        continue;
      }
      this.#lastDepth = d;
      const sibling = bit ? child0[node] : child1[node];
      return sibling ? d + 1 : d;
    }
  }
}

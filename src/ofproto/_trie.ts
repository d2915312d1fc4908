/**
 * A binary prefix trie over 32-bit values, answering OVS's trie question:
 * "how many leading bits of this value must a lookup look at to know which
 * rule prefixes it can match?" (classifier.c's trie_lookup_value).
 *
 * OVS path-compresses its tries; this one keeps one node per bit. The
 * answers are the same: a compressed edge is a chain of one-child nodes
 * here, and a mismatch inside it is a missing child with a sibling.
 * Nodes live in typed arrays so a lookup allocates nothing.
 */

export class PrefixTrie {
  private child0 = new Int32Array(64);
  private child1 = new Int32Array(64);
  private nRules = new Int32Array(64);
  private free: number[] = [];
  private used = 1;
  private readonly path = new Int32Array(33);
  /** Bit (n-1) set: some rule has a prefix of length n that the last value matched. */
  plens = 0;

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

  /** Adds a rule whose field is `value` under a `plen`-bit prefix mask. */
  insert(value: number, plen: number): void {
    let node = 0;
    for (let d = 0; d < plen; d++) {
      const bit = (value >>> (31 - d)) & 1;
      const arr = bit ? this.child1 : this.child0;
      let next = arr[node];
      if (!next) {
        next = this.alloc();
        (bit ? this.child1 : this.child0)[node] = next;
      }
      node = next;
    }
    this.nRules[node]++;
  }

  remove(value: number, plen: number): void {
    const path = this.path;
    let node = 0;
    path[0] = 0;
    for (let d = 0; d < plen; d++) {
      node = ((value >>> (31 - d)) & 1) ? this.child1[node] : this.child0[node];
      if (!node) return;
      path[d + 1] = node;
    }
    if (this.nRules[node] > 0) this.nRules[node]--;
    for (let d = plen; d > 0; d--) {
      const n = path[d];
      if (this.nRules[n] || this.child0[n] || this.child1[n]) break;
      const parent = path[d - 1];
      if ((value >>> (32 - d)) & 1) this.child1[parent] = 0;
      else this.child0[parent] = 0;
      this.free.push(n);
    }
  }

  /**
   * Number of leading bits of `value` that decide the outcome, counting
   * the first mismatching bit; sets `plens` to the prefix lengths at which
   * rules match `value`.
   */
  lookup(value: number, nBits: number): number {
    let node = 0;
    let plens = 0;
    for (let d = 0;; d++) {
      if (d > 0 && this.nRules[node] > 0) plens |= 1 << (d - 1);
      if (d >= nBits) {
        this.plens = plens;
        return nBits;
      }
      const bit = (value >>> (31 - d)) & 1;
      const next = bit ? this.child1[node] : this.child0[node];
      if (next) {
        node = next;
        continue;
      }
      this.plens = plens;
      const sibling = bit ? this.child0[node] : this.child1[node];
      return sibling ? d + 1 : d;
    }
  }
}

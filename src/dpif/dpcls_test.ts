import assert from "node:assert/strict";
import { FLOW_WORDS } from "../flow/mod.ts";
import { GOLDEN } from "./_dpcls_subtable.ts";
import { Emc } from "./emc.ts";
import { FlowOps } from "./flow_ops.ts";
import { FlowTable } from "./flow_table.ts";
import { PUT_CREATE } from "./protocol.ts";

/** One put's source buffer: UFID at word 0, key at 4, mask after it, actions after that. */
const KEY_AT = 4, MASK_AT = KEY_AT + FLOW_WORDS, ACT_AT = MASK_AT + FLOW_WORDS;

/** A deterministic pseudo-random sequence, so a failure replays. */
function rng(seed: number): () => number {
  let x = seed;
  return () => (x = (Math.imul(x, 1103515245) + 12345) >>> 0);
}

/** Key words the masks pick from (21 is always exact, as the datapath wants). */
const WORDS = [0, 5, 31, 32, 40, 63, 64, FLOW_WORDS - 1];
const PARTIAL = [0xffffffff, 0xffff0000, 0x8000ffff, 0x00ff00ff];

/**
 * A flow table of 8192 slots, its ops, and a put's source buffer whose
 * mask is exact on key words 21 (an IPv4 ethertype), then `words`.
 */
function exactWordsTable(...words: number[]) {
  const table = FlowTable.create(8192, 4, 64);
  const ops = new FlowOps(table, new Emc(table));
  const src = new Uint32Array(ACT_AT + 4), src8 = new Uint8Array(src.buffer);
  for (const w of [21, ...words]) src[MASK_AT + w] = 0xffffffff;
  src[KEY_AT + 21] = 0x08000001;
  return { table, ops, src, src8 };
}

interface Flow {
  maskId: number;
  /** The key under its mask, FLOW_WORDS words. */
  masked: Uint32Array;
}

/** The slot of the first flow, in the classifier's subtable order, whose masked key `key` has. */
function bruteLookup(ops: FlowOps, flows: Map<number, Flow>, key: Uint32Array): number {
  for (const st of ops.dpcls.subtables) {
    for (const [slot, f] of flows) {
      if (f.maskId !== st.maskId) continue;
      let i = 0;
      while (i < FLOW_WORDS && ((key[i] & st.mask[i]) >>> 0) === f.masked[i]) i++;
      if (i === FLOW_WORDS) return slot;
    }
  }
  return -1;
}

Deno.test("dpcls: lookups through the word index find exactly what a scan of every flow finds", () => {
  const next = rng(14);
  const table = FlowTable.create(3000, 16, 64);
  const ops = new FlowOps(table, new Emc(table));
  // Eight masks; each word's values come from a pool of 1 to 400, high bits
  // included, so buckets hold no flow, one, or several (the hash's case).
  const masks = Array.from({ length: 8 }, () => {
    const m = new Uint32Array(FLOW_WORDS);
    m[21] = 0xffffffff;
    for (const w of WORDS) if (next() % 2) m[w] = PARTIAL[next() % PARTIAL.length];
    return m;
  });
  const pools = new Map(WORDS.map((w) => {
    const n = [1, 3, 40, 400][next() % 4];
    return [w, Array.from({ length: n }, () => (next() ^ (next() << 16)) >>> 0)];
  }));
  const randomKey = (key: Uint32Array, at: number) => {
    key.fill(0, at, at + FLOW_WORDS);
    key[at + 21] = 0x08000001;
    for (const [w, pool] of pools) key[at + w] = pool[next() % pool.length];
  };
  const src = new Uint32Array(ACT_AT + 4), src8 = new Uint8Array(src.buffer);
  const flows = new Map<number, Flow>();
  const probe = new Uint32Array(FLOW_WORDS);
  let singles = 0, shared = 0, hits = 0;
  for (let round = 0; round < 6000; round++) {
    if (flows.size > 0 && next() % 3 === 0) {
      const slots = [...flows.keys()];
      const slot = slots[next() % slots.length];
      ops.remove(slot);
      flows.delete(slot);
    } else {
      randomKey(src, KEY_AT);
      src[0] = round;
      src.set(masks[next() % masks.length], MASK_AT);
      const slot = ops.put(src, src8, 0, KEY_AT, MASK_AT, ACT_AT, 0, PUT_CREATE, round);
      if (slot >= 0) {
        const masked = new Uint32Array(FLOW_WORDS);
        const mask = ops.dpcls.subtableFor(table.maskOf(slot))!.mask;
        for (let i = 0; i < FLOW_WORDS; i++) masked[i] = src[KEY_AT + i] & mask[i];
        flows.set(slot, { maskId: table.maskOf(slot), masked });
      }
    }
    if (round % 500 === 250) ops.dpcls.rank();
    if (round % 40 !== 0) continue;
    const live = [...flows.values()];
    for (let k = 0; k < 100; k++) {
      randomKey(probe, 0);
      if (live.length > 0 && k % 2 === 0) {
        // A live flow's key, its unmasked bits random: a hit, unless an
        // earlier subtable has a flow for it too.
        const f = live[next() % live.length], mask = ops.dpcls.subtableFor(f.maskId)!.mask;
        for (let i = 0; i < FLOW_WORDS; i++) probe[i] = (probe[i] & ~mask[i]) | f.masked[i];
      }
      const want = bruteLookup(ops, flows, probe);
      assert.equal(ops.dpcls.lookup(probe, 0), want, `round ${round} probe ${k}`);
      if (want >= 0) hits++;
    }
    for (const st of ops.dpcls.subtables) {
      for (const b of st.buckets) b > 0 ? singles++ : b < 0 ? shared++ : 0;
    }
  }
  // The probes went both ways, and the index had both kinds of bucket.
  assert.ok(hits > 1000 && singles > 0 && shared > 0, `${hits} hits, ${singles}/${shared} buckets`);
});

Deno.test("dpcls: a large subtable's index word, chosen on a sample of its flows, is still the most varied", () => {
  const n = 5000;
  const { table, ops, src, src8 } = exactWordsTable(31, 40, 63);
  for (let i = 0; i < n; i++) {
    src[0] = i;
    src[KEY_AT + 31] = i >> 4; // n / 16 values
    src[KEY_AT + 40] = 0x40000000 | i; // n values
    src[KEY_AT + 63] = i & 7; // 8 values, and the last word, the index's first pick
    assert.ok(ops.put(src, src8, 0, KEY_AT, MASK_AT, ACT_AT, 0, PUT_CREATE, 0) >= 0);
  }
  const [st] = ops.dpcls.subtables;
  assert.equal(st.nFlows, n);
  assert.equal(st.indexWord, 40);
  // Every flow is found again through the index.
  const probe = src.slice(KEY_AT, KEY_AT + FLOW_WORDS);
  for (let i = 0; i < n; i += 7) {
    probe[31] = i >> 4, probe[40] = 0x40000000 | i, probe[63] = i & 7;
    const s = ops.dpcls.lookup(probe, 0);
    assert.ok(s >= 0 && table.u32[table.ufidBase + s * 4] === i, `flow ${i}`);
  }
});

Deno.test("dpcls: the index picks the word whose values differ most among a subtable's flows", () => {
  const table = FlowTable.create(512, 4, 64);
  const ops = new FlowOps(table, new Emc(table));
  const src = new Uint32Array(ACT_AT + 4), src8 = new Uint8Array(src.buffer);
  src[MASK_AT + 21] = src[MASK_AT + 31] = src[MASK_AT + 63] = 0xffffffff;
  src[KEY_AT + 21] = 0x08000001;
  for (let i = 0; i < 200; i++) {
    src[0] = i;
    src[KEY_AT + 31] = 0x80000000 | i; // 200 values
    src[KEY_AT + 63] = i & 3; // 4 values, and the last word, the index's first pick
    assert.ok(ops.put(src, src8, 0, KEY_AT, MASK_AT, ACT_AT, 0, PUT_CREATE, 0) >= 0);
  }
  const [st] = ops.dpcls.subtables;
  assert.equal(st.indexWord, 31);
  // Every bucket in use names its one flow, so a hit is one flow's check.
  assert.ok(st.buckets.every((b) => b >= 0));
  const probe = src.slice(KEY_AT, KEY_AT + FLOW_WORDS);
  probe[31] = 0x80000000 | 77;
  probe[63] = 77 & 3;
  assert.equal(table.maskOf(ops.dpcls.lookup(probe, 0)), st.maskId);
  probe[63] = 2;
  assert.equal(ops.dpcls.lookup(probe, 0), -1);
});

Deno.test("dpcls: after the doublings of a large subtable (tombstones, the index's sampled choice and refill) each live flow is found and no removed one", () => {
  const n = 6000;
  const { ops, src, src8 } = exactWordsTable(31, 40);
  const keyOf = (i: number, at: number, into: Uint32Array) => {
    into[at + 31] = i % 97; // shared index buckets: the hash path
    into[at + 40] = 0x40000000 | i; // distinct values: the index's single buckets
  };
  const slots = new Map<number, number>();
  const probe = src.slice(KEY_AT, KEY_AT + FLOW_WORDS);
  const checkAll = (upTo: number) => {
    for (let i = 0; i < upTo; i++) {
      keyOf(i, 0, probe);
      assert.equal(ops.dpcls.lookup(probe, 0), slots.get(i) ?? -1, `flow ${i} of ${upTo}`);
    }
  };
  for (let i = 0; i < n; i++) {
    src[0] = i;
    keyOf(i, KEY_AT, src);
    const slot = ops.put(src, src8, 0, KEY_AT, MASK_AT, ACT_AT, 0, PUT_CREATE, 0);
    assert.ok(slot >= 0);
    slots.set(i, slot);
    // Every fifth flow goes again soon, leaving tombstones for the next grow.
    if (i % 5 === 4) {
      ops.remove(slots.get(i - 2)!);
      slots.delete(i - 2);
    }
    // The table doubles near each power of two: look every flow up past each.
    if (((i + 1) & i) === 0) checkAll(i + 1);
  }
  checkAll(n);
  assert.equal(ops.dpcls.subtables[0].nFlows, slots.size);
});

Deno.test("dpcls: while a subtable moves its flows to a grown table and fills a new index, lookups, removes and the index stay exact", () => {
  const n = 5000;
  const { ops, src, src8 } = exactWordsTable(31, 40);
  // Word 40 is the index's first pick and has few values; 31 has a value
  // per two flows, so the index changes word as well as size on the way,
  // and its buckets hold two flows (the hash's case).
  const keyOf = (i: number, at: number, into: Uint32Array) => {
    into[at + 31] = 0x40000000 | (i >> 1);
    into[at + 40] = i % 7;
  };
  const next = rng(6);
  const slots = new Map<number, number>();
  const removed: number[] = [];
  const probe = src.slice(KEY_AT, KEY_AT + FLOW_WORDS);
  const check = (at: number) => {
    const st = ops.dpcls.subtables[0];
    for (const [i, slot] of slots) {
      keyOf(i, 0, probe);
      assert.equal(ops.dpcls.lookup(probe, 0), slot, `flow ${i} after ${at}`);
    }
    for (const i of removed) {
      keyOf(i, 0, probe);
      assert.equal(ops.dpcls.lookup(probe, 0), -1, `removed flow ${i} after ${at}`);
    }
    // Each bucket of the index in use counts exactly the live flows whose
    // value of its word lands there.
    const counts = new Int32Array(st.buckets.length);
    for (const [i] of slots) {
      keyOf(i, 0, probe);
      counts[Math.imul(probe[st.indexWord] & st.indexMask, GOLDEN) >>> st.indexShift]++;
    }
    counts.forEach((c, b) => {
      const v = st.buckets[b];
      const ok = c === 0 ? v === 0 : c === 1 ? v > 0 || v === -1 : v === -c;
      assert.ok(ok, `bucket ${b}: ${c} flows, ${v} after ${at}`);
    });
  };
  let words = new Set<number>();
  for (let i = 0; i < n; i++) {
    src[0] = i;
    keyOf(i, KEY_AT, src);
    const slot = ops.put(src, src8, 0, KEY_AT, MASK_AT, ACT_AT, 0, PUT_CREATE, 0);
    assert.ok(slot >= 0);
    slots.set(i, slot);
    // A third of the flows go again, some soon, some long after: members
    // already in the new index and not yet, flows moved and not yet.
    if (i % 3 === 2) {
      const live = [...slots.keys()];
      const gone = live[next() % live.length];
      ops.remove(slots.get(gone)!);
      slots.delete(gone);
      removed.push(gone);
    }
    // A grow drains over the next half-size inserts, an index fills over
    // the next quarter: check often in those stretches, past each power of two.
    const k = 31 - Math.clz32(slots.size);
    if (slots.size - (1 << k) < (1 << k) / 2 && i % 9 === 0) check(i);
    words = words.add(ops.dpcls.subtables[0].indexWord);
  }
  check(n);
  assert.deepEqual([...words].sort(), [31, 40]);
});

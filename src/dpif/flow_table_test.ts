import assert from "node:assert/strict";
import { FLOW_WORDS } from "../flow/mod.ts";
import { Emc } from "./emc.ts";
import { FlowOps } from "./flow_ops.ts";
import { FlowSnapshot, FlowTable } from "./flow_table.ts";
import { ENOSPC, PUT_CREATE, PUT_MODIFY } from "./protocol.ts";

/** One put's source buffer: UFID at word 0, key at 4, mask after it, actions after that. */
const KEY_AT = 4, MASK_AT = KEY_AT + FLOW_WORDS, ACT_AT = MASK_AT + FLOW_WORDS;

function source(): { src: Uint32Array; src8: Uint8Array } {
  const src = new Uint32Array(ACT_AT + 96);
  return { src, src8: new Uint8Array(src.buffer) };
}

/** A deterministic pseudo-random sequence, so a failure replays. */
function rng(seed: number): () => number {
  let x = seed;
  return () => (x = (Math.imul(x, 1103515245) + 12345) >>> 0);
}

interface Model {
  key: Uint32Array;
  actions: Uint8Array;
}

function fill(src: Uint32Array, src8: Uint8Array, id: number, next: () => number, nAct: number) {
  src.fill(0);
  src.set([id, id ^ 0x5555, 7, 9], 0);
  src[KEY_AT + 21] = 0x08000001;
  // Words in all three map words, high bits included, some zero.
  for (const i of [0, 5, 21, 31, 32, 40, 63, 64, FLOW_WORDS - 1]) {
    if (i !== 21) src[KEY_AT + i] = next() & 1 ? next() | 0x80000000 : 0;
  }
  src[KEY_AT + 40] = id;
  // The masked half of word 63 follows the id, so the same id finds its flow again.
  src[KEY_AT + 63] = ((id << 16) | (next() & 0xffff)) >>> 0;
  src[MASK_AT + 21] = 0xffffffff;
  src[MASK_AT + 40] = 0xffffffff;
  src[MASK_AT + 63] = 0xffff0000;
  for (let i = 0; i < nAct; i++) src8[ACT_AT * 4 + i] = next() & 0xff;
}

function check(table: FlowTable, models: Map<number, Model>) {
  const snap = new FlowSnapshot();
  for (let s = 0; s < table.highWater(); s++) {
    const want = models.get(s);
    assert.equal(table.read(s, snap), want !== undefined, `slot ${s} live`);
    if (!want) continue;
    assert.deepEqual(snap.key, want.key, `slot ${s} key`);
    assert.deepEqual(
      snap.actions.subarray(0, snap.nActionBytes),
      want.actions,
      `slot ${s} actions`,
    );
  }
}

Deno.test("flow table: keys and actions of any length survive creates, modifies and deletes", () => {
  // A tight arena, so reuse from the free lists and splits happen often.
  const table = FlowTable.create(64, 8, 24);
  const ops = new FlowOps(table, new Emc(table));
  const { src, src8 } = source();
  const next = rng(1);
  const models = new Map<number, Model>();
  for (let round = 0; round < 3000; round++) {
    const id = next() % 96, nAct = next() % 2 ? (next() % 9) * 48 : next() % 385;
    fill(src, src8, id, next, nAct);
    const slot = ops.dpcls.lookup(src, KEY_AT);
    if (slot >= 0 && next() % 3 === 0) {
      ops.remove(slot);
      models.delete(slot);
      continue;
    }
    const flags = slot >= 0 ? PUT_MODIFY : PUT_CREATE;
    const got = ops.put(src, src8, 0, KEY_AT, MASK_AT, ACT_AT, nAct, flags, round);
    if (got === -ENOSPC) continue;
    assert.ok(got >= 0, `put ${got}`);
    const actions = src8.slice(ACT_AT * 4, ACT_AT * 4 + nAct);
    const key = slot >= 0 ? models.get(slot)!.key : src.slice(KEY_AT, KEY_AT + FLOW_WORDS);
    models.set(got, { key, actions });
    if (round % 100 === 0) check(table, models);
  }
  check(table, models);
  assert.equal(table.flowCount(), models.size);
});

Deno.test("flow table: a full arena refuses puts with ENOSPC, changes nothing, and takes them after deletes", () => {
  const table = FlowTable.create(256, 8, 8);
  const ops = new FlowOps(table, new Emc(table));
  const { src, src8 } = source();
  const next = rng(2);
  const slots: number[] = [];
  let refused = 0;
  for (let id = 0; id < 256 && refused === 0; id++) {
    fill(src, src8, id, next, 300);
    const got = ops.put(src, src8, 0, KEY_AT, MASK_AT, ACT_AT, 300, PUT_CREATE, 0);
    if (got === -ENOSPC) refused++;
    else slots.push(got);
  }
  assert.equal(refused, 1, "the arena filled before the slots did");
  assert.equal(table.flowCount(), slots.length);
  ops.remove(slots[0]);
  const got = ops.put(src, src8, 0, KEY_AT, MASK_AT, ACT_AT, 300, PUT_CREATE, 0);
  assert.ok(got >= 0, `put after a delete: ${got}`);
});

Deno.test("flow table: a new writer after a torn write frees the slot and reuses no live record", () => {
  const table = FlowTable.create(64, 8, 96);
  const first = new FlowOps(table, new Emc(table));
  const { src, src8 } = source();
  const next = rng(3);
  const models = new Map<number, Model>();
  for (let id = 0; id < 40; id++) {
    const nAct = next() % 200;
    fill(src, src8, id, next, nAct);
    const slot = first.put(src, src8, 0, KEY_AT, MASK_AT, ACT_AT, nAct, PUT_CREATE, 0);
    models.set(slot, {
      key: src.slice(KEY_AT, KEY_AT + FLOW_WORDS),
      actions: src8.slice(ACT_AT * 4, ACT_AT * 4 + nAct),
    });
  }
  for (const slot of [3, 17, 30]) {
    first.remove(slot);
    models.delete(slot);
  }
  // The writer dies inside slot 8's seqlock.
  const seqWord = table.metaBase + 8 * 8;
  Atomics.store(table.i32, seqWord, table.i32[seqWord] + 1);
  models.delete(8);
  const reader = new FlowTable(table.sab);
  const second = new FlowOps(reader, new Emc(reader));
  check(reader, models);
  for (let id = 100; id < 120; id++) {
    const nAct = next() % 384;
    fill(src, src8, id, next, nAct);
    const slot = second.put(src, src8, 0, KEY_AT, MASK_AT, ACT_AT, nAct, PUT_CREATE, 1);
    assert.ok(slot >= 0, `put ${slot}`);
    models.set(slot, {
      key: src.slice(KEY_AT, KEY_AT + FLOW_WORDS),
      actions: src8.slice(ACT_AT * 4, ACT_AT * 4 + nAct),
    });
  }
  check(reader, models);
});

Deno.test("flow table: a terse read has UFID and stats only; readRest completes it while the flow is there", () => {
  const table = FlowTable.create(64, 8, 96);
  const ops = new FlowOps(table, new Emc(table));
  const { src, src8 } = source();
  const next = rng(4);
  fill(src, src8, 1, next, 40);
  const slot = ops.put(src, src8, 0, KEY_AT, MASK_AT, ACT_AT, 40, PUT_CREATE, 0);
  const full = new FlowSnapshot();
  assert.ok(table.read(slot, full));
  const terse = new FlowSnapshot();
  assert.ok(table.readTerse(slot, terse));
  assert.deepEqual(terse.ufid, full.ufid);
  assert.equal(terse.slot, slot);
  assert.equal(terse.packets, full.packets);
  assert.ok(terse.key.every((w) => w === 0), "no key in a terse read");
  assert.equal(terse.nActionBytes, 0, "no actions in a terse read");
  assert.ok(table.readRest(terse));
  assert.deepEqual(terse.key, full.key);
  assert.deepEqual(terse.mask, full.mask);
  assert.deepEqual(terse.actions.subarray(0, 40), full.actions.subarray(0, 40));
  // The slot freed and taken by another flow: the terse read's flow is gone.
  ops.remove(slot);
  assert.equal(table.readRest(terse), false);
  fill(src, src8, 2, next, 8);
  assert.equal(ops.put(src, src8, 0, KEY_AT, MASK_AT, ACT_AT, 8, PUT_CREATE, 0), slot);
  assert.equal(table.readRest(terse), false, "another UFID in the slot");
  assert.ok(table.readTerse(slot, terse) && table.readRest(terse));
});

Deno.test("flow table: a reader's copy of a mask is kept across flows that share it, and not taken for a mask id reused", () => {
  const table = FlowTable.create(64, 8, 96);
  const ops = new FlowOps(table, new Emc(table));
  const { src, src8 } = source();
  const next = rng(5);
  fill(src, src8, 1, next, 8);
  const a = ops.put(src, src8, 0, KEY_AT, MASK_AT, ACT_AT, 8, PUT_CREATE, 0);
  fill(src, src8, 2, next, 8);
  const b = ops.put(src, src8, 0, KEY_AT, MASK_AT, ACT_AT, 8, PUT_CREATE, 0);
  assert.equal(table.maskOf(a), table.maskOf(b), "one mask for both flows");
  const snap = new FlowSnapshot(), full = new FlowSnapshot();
  assert.ok(table.read(a, full));
  assert.ok(table.readTerse(a, snap) && table.readRest(snap));
  assert.deepEqual(snap.mask, full.mask);
  // The copy is the mask's: a reader that scribbles over it would see that
  // kept, so this proves the second read did not copy again.
  snap.mask[0] = 0xdead;
  assert.ok(table.readTerse(b, snap) && table.readRest(snap));
  assert.equal(snap.mask[0], 0xdead, "the mask held was not copied again");
  snap.mask[0] = 0;
  // Both flows gone, their mask id freed; a flow with another mask takes
  // the same id: the reader's copy under that id is stale, and is replaced.
  const maskId = table.maskOf(a);
  ops.remove(a);
  ops.remove(b);
  fill(src, src8, 3, next, 8);
  src[MASK_AT + 63] = 0xffffff00;
  src[MASK_AT + 5] = 0x0000ffff;
  const c = ops.put(src, src8, 0, KEY_AT, MASK_AT, ACT_AT, 8, PUT_CREATE, 0);
  assert.equal(table.maskOf(c), maskId, "the freed mask id is reused");
  assert.ok(table.readTerse(c, snap) && table.readRest(snap));
  // full still holds the old mask under the same id, at its old generation.
  assert.ok(table.read(c, full));
  assert.equal(full.mask[5], 0x0000ffff);
  assert.deepEqual(snap.mask, full.mask);
});

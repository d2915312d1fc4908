/**
 * flow_extract on raw frames (src/flow/extract.ts, OVS's miniflow_extract).
 * Properties: it never throws; it never reads past `len` (the key is the
 * same for the exact-length copy and for the frame at the start of larger
 * buffers whose tail is filled with two different poison patterns, at a
 * nonzero byte offset too); the L3 offset it returns lies inside the
 * frame; in_port is kept; all this for vlan-limit 1 and 2. And the
 * one-pass common case (extract_fast.ts), where it takes a frame, gives
 * the same key and the miniflow and hash miniflowOf gives that key.
 */
import assert from "node:assert/strict";
import {
  DEFAULT_VLAN_LIMIT,
  extractIpv4L4,
  F,
  FLOW_WORDS,
  flowExtract,
  KEY_WORDS_LEN,
  keysEqual,
  MF_COUNT,
  MF_VALUES,
  MINIFLOW_WORDS,
  miniflowOf,
  PacketMiniflow,
  setVlanLimit,
} from "../../../src/flow/mod.ts";
import { mutateBytes, type Rng, type Target } from "../engine.ts";

const MAX = 2048;
const POISON = 64;
const exact = new Uint32Array(FLOW_WORDS);
const key = new Uint32Array(FLOW_WORDS);
const poisonFF = new Uint8Array(MAX + POISON);
const poison55 = new Uint8Array(MAX + POISON + 3);
const IN_PORT = 0x01020304;
const exactBytes = new Uint8Array(exact.buffer);
const portOnly = new Uint32Array(FLOW_WORDS);
const portOnlyBytes = new Uint8Array(portOnly.buffer);
flowExtract(new Uint8Array(0), 0, IN_PORT, portOnly);
/** The fast path's frame buffer (frame at byte 0, as a PMD holds it) and state. */
const words32 = new Uint32Array((MAX + POISON) / 4);
const words8 = new Uint8Array(words32.buffer);
const fastKey = new Uint32Array(FLOW_WORDS);
const fastWords = new Uint32Array(KEY_WORDS_LEN);
const fastMf = new PacketMiniflow();
const mf = new Uint32Array(MINIFLOW_WORDS);

/** Where extractIpv4L4 takes the frame, it must agree with flowExtract (`exact`) and miniflowOf. */
function checkFast(frame: Uint8Array, len: number): void {
  words8.fill(0xa5, len, len + POISON);
  words8.set(frame);
  if (!extractIpv4L4(words32, len, IN_PORT, fastKey, fastWords, fastMf)) return;
  assert.ok(keysEqual(fastKey, exact), "extractIpv4L4's key differs from flowExtract's");
  assert.equal(fastMf.hash, miniflowOf(exact, 0, mf), "extractIpv4L4's hash differs");
  const n = MF_VALUES + mf[MF_COUNT];
  assert.deepEqual(fastMf.mf.subarray(0, n), mf.subarray(0, n), "extractIpv4L4's miniflow differs");
}

function extractChecked(frame: Uint8Array, len: number, into: Uint32Array): number {
  const l3 = flowExtract(frame, len, IN_PORT, into);
  assert.ok(l3 === -1 || (l3 >= 14 && l3 <= len), `L3 offset ${l3} outside a ${len}-byte frame`);
  return l3;
}

export const flowExtractTarget: Target<Uint8Array> = {
  name: "flow_extract",
  kind: "bytes",
  mutate: (rng: Rng, corpus: readonly Uint8Array[]) => mutateBytes(rng, corpus, MAX),
  run(frame: Uint8Array): void {
    const len = frame.length;
    try {
      for (const limit of [1, 2]) {
        setVlanLimit(limit);
        const l3 = extractChecked(frame, len, exact);
        checkFast(frame, len);
        for (let i = F.in_port.off; i < F.in_port.off + 4; i++) {
          assert.equal(exactBytes[i], portOnlyBytes[i], "in_port not kept");
        }
        poisonFF.fill(0xff, len, len + POISON);
        poisonFF.set(frame);
        assert.equal(extractChecked(poisonFF, len, key), l3);
        assert.ok(
          keysEqual(key, exact),
          `key depends on bytes past len (0xff tail, vlan-limit ${limit})`,
        );
        const shifted = poison55.subarray(3);
        shifted.fill(0x55, len, len + POISON);
        shifted.set(frame);
        assert.equal(extractChecked(shifted, len, key), l3);
        assert.ok(
          keysEqual(key, exact),
          `key depends on bytes past len (0x55 tail, vlan-limit ${limit})`,
        );
      }
    } finally {
      setVlanLimit(DEFAULT_VLAN_LIMIT);
    }
  },
};

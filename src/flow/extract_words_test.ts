import assert from "node:assert/strict";
import { DEFAULT_VLAN_LIMIT, flowExtract, setVlanLimit } from "./extract.ts";
import { allKeyWords, KEY_WORDS_LEN, KEY_WORDS_VALID } from "./key_words.ts";
import { FLOW_WORDS } from "./layout.ts";
import { newKey } from "./key.ts";
import { hex, tcp4 } from "../../tests/support/flow/testpkt.ts";

const IP6 = "505400000007 505400000005 86dd";
const SRC6 = "fe800000000000000000000000000001";
const DST6 = "ff020000000000000000000000000002";
const SAMPLES = [
  tcp4("12"),
  tcp4("00", "8100 a00a"),
  tcp4("00", "88a8 0064 8100 000a"),
  hex(
    "ffffffffffff 505400000005 0806 0001 0800 06 04 0001 505400000005 0a000001 000000000000 0a000002",
  ),
  hex("505400000007 505400000005 8847 00001040 00002140 0000ff00"),
  hex("505400000007 505400000005 0030 aaaa03 000000 0800"),
  hex(IP6 + "60123456 0010 00 40" + SRC6 + DST6 + "1100000000000000" + "0035 0035 0008 0000"),
  hex(
    IP6 + "60000000 0020 3a ff" + SRC6 + DST6 +
      "8700 0000 00000000" + "fe800000000000000000000000000099" + "01 01 505400000005",
  ),
  hex(
    "505400000007 505400000005 0800 45000020 0000 0000 4001 0000 0a000001 0a000002 0800 0000 00000000 00000000",
  ),
  hex(
    "505400000007 505400000005 0800 45000020 0000 0000 4002 0000 0a000001 e0000001 1600 0000 e0000001",
  ),
  hex("5054000000"),
];

/** Frames that reach every parser: Ethernet types, IP protocols and lengths steered, the rest random. */
function* randomFrames(n: number): Generator<[Uint8Array, number]> {
  const buf = new Uint8Array(128);
  let seed = 4242;
  const next = () => (seed = (seed * 1103515245 + 12345) >>> 0) >>> 24;
  for (let i = 0; i < n; i++) {
    for (let j = 0; j < buf.length; j++) buf[j] = next();
    const len = 14 + (next() % 115);
    const t = [0x0800, 0x86dd, 0x8100, 0x8847, 0x0806, 0x88a8][i % 6];
    buf[12] = t >> 8;
    buf[13] = t & 0xff;
    const proto = [6, 17, 1, 2, 132, 58, 0, 44][next() & 7];
    if (t === 0x0800) {
      buf[14] = 0x45;
      buf[16] = 0;
      buf[17] = len - 14;
      buf[20] = buf[21] = 0;
      buf[23] = proto;
    }
    if (t === 0x86dd) {
      buf[14] = 0x60;
      buf[18] = 0;
      buf[19] = Math.max(0, len - 54);
      buf[20] = proto;
    }
    yield [buf, len];
  }
}

function check(pkt: Uint8Array, len: number, key: Uint32Array, words: Uint32Array): void {
  const fresh = newKey();
  flowExtract(pkt, len, 3, fresh);
  flowExtract(pkt, len, 3, key, words);
  assert.deepEqual(key, fresh);
  assert.equal(words[KEY_WORDS_VALID], 1);
  for (let i = 0; i < FLOW_WORDS; i++) {
    if (key[i] !== 0) assert.ok((words[i >> 5] >>> (i & 31)) & 1, `word ${i} not in the map`);
  }
}

Deno.test("extracting with a word map gives the fresh key and names every nonzero word", () => {
  const key = newKey(), words = new Uint32Array(KEY_WORDS_LEN);
  setVlanLimit(2);
  try {
    for (let round = 0; round < 2; round++) {
      for (const pkt of SAMPLES) check(pkt, pkt.length, key, words);
    }
    for (const [pkt, len] of randomFrames(20000)) check(pkt, len, key, words);
  } finally {
    setVlanLimit(DEFAULT_VLAN_LIMIT);
  }
});

Deno.test("an invalid word map clears the whole key first", () => {
  const key = newKey(), words = new Uint32Array(KEY_WORDS_LEN);
  flowExtract(SAMPLES[0], SAMPLES[0].length, 1, key, words);
  key[5] = 99; // a register: written by someone who then invalidated the map
  words[KEY_WORDS_VALID] = 0;
  flowExtract(SAMPLES[0], SAMPLES[0].length, 1, key, words);
  assert.equal(key[5], 0);
  allKeyWords(words);
  key[81] = 7;
  flowExtract(SAMPLES[0], SAMPLES[0].length, 1, key, words);
  assert.equal(key[81], 0);
});

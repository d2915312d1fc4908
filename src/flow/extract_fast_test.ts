import assert from "node:assert/strict";
import { DEFAULT_VLAN_LIMIT, flowExtract, setVlanLimit } from "./extract.ts";
import { KEY_WORDS_LEN, KEY_WORDS_VALID } from "./key_words.ts";
import { extractIpv4L4 } from "./extract_fast.ts";
import { FLOW_WORDS } from "./layout.ts";
import { newKey } from "./key.ts";
import { MINIFLOW_WORDS, miniflowOf, PacketMiniflow } from "./packet_miniflow.ts";
import { hex, tcp4 } from "../../tests/support/flow/testpkt.ts";

const BUF_WORDS = 64;
const UDP4 = hex(
  "505400000007 505400000005 0800 45b8001e 1234 4000 4011 0000 c0a80001 0a000002" +
    "1f90 0035 000a 0000 abcd",
);

/** The frame at byte 0 of a word buffer, as the PMD holds it, with `junk` past its end. */
function load(frame: Uint8Array, len: number, buf: Uint32Array, junk: number): void {
  const b = new Uint8Array(buf.buffer);
  b.fill(junk);
  b.set(frame.subarray(0, len));
}

/**
 * Extracts `frame[0..len)` both ways into keys that held other packets;
 * returns whether the fast path took it. Taken, key, miniflow and hash
 * must be flowExtract's then miniflowOf's; declined, nothing may change.
 */
function check(
  frame: Uint8Array,
  len: number,
  st: { buf: Uint32Array; key: Uint32Array; words: Uint32Array; pm: PacketMiniflow },
  junk: number,
): boolean {
  const fresh = newKey(), mf = new Uint32Array(MINIFLOW_WORDS);
  flowExtract(frame, len, 0x01020304, fresh);
  const h = miniflowOf(fresh, 0, mf);
  load(frame, len, st.buf, junk);
  const keyBefore = st.key.slice(), wordsBefore = st.words.slice();
  const mfBefore = st.pm.mf.slice(), hashBefore = st.pm.hash;
  if (!extractIpv4L4(st.buf, len, 0x01020304, st.key, st.words, st.pm)) {
    assert.deepEqual(st.key, keyBefore, "a declined frame changed the key");
    assert.deepEqual(st.words, wordsBefore, "a declined frame changed the word map");
    assert.deepEqual(st.pm.mf, mfBefore, "a declined frame changed the miniflow");
    assert.equal(st.pm.hash, hashBefore);
    // As the PMD then does: the generic path into the same key.
    flowExtract(frame, len, 0x01020304, st.key, st.words);
    return false;
  }
  assert.deepEqual(st.key, fresh, "the key differs from flowExtract's");
  assert.equal(st.pm.hash, h, "the hash differs from miniflowOf's");
  assert.deepEqual(st.pm.mf.subarray(0, 4 + mf[3]), mf.subarray(0, 4 + mf[3]));
  assert.equal(st.words[KEY_WORDS_VALID], 1);
  for (let i = 0; i < FLOW_WORDS; i++) {
    if (st.key[i] !== 0) assert.ok((st.words[i >> 5] >>> (i & 31)) & 1, `word ${i} not in the map`);
  }
  return true;
}

function state() {
  return {
    buf: new Uint32Array(BUF_WORDS),
    key: newKey(),
    words: new Uint32Array(KEY_WORDS_LEN),
    pm: new PacketMiniflow(),
  };
}

Deno.test("extractIpv4L4 takes IPv4 TCP and UDP, untagged or with a tag, as flowExtract does", () => {
  const st = state();
  assert.ok(check(tcp4("12"), tcp4("12").length, st, 0));
  assert.ok(check(tcp4("10", "8100 a00a"), tcp4("10", "8100 a00a").length, st, 0x11));
  assert.ok(st.pm.mf[3] === 11, "the tag is a value of its own");
  assert.ok(check(tcp4("10", "88a8 0000"), tcp4("10", "88a8 0000").length, st, 0));
  assert.ok(check(UDP4, UDP4.length, st, 0xff));
  assert.ok(check(tcp4("02"), tcp4("02").length, st, 0x55));
  // A zero TCP flags word and zero ports leave their words out of the miniflow.
  const zeros = tcp4("00");
  zeros.fill(0, 34, 38);
  assert.ok(check(zeros, zeros.length, st, 0));
  assert.ok(st.pm.mf[3] < 10);
});

Deno.test("extractIpv4L4 declines what flowExtract must parse, changing nothing", () => {
  const st = state();
  const declined = (f: Uint8Array, len = f.length) => assert.equal(check(f, len, st, 0), false);
  check(tcp4("12"), tcp4("12").length, st, 0);
  declined(tcp4("00", "88a8 0064 8100 000a")); // two tags
  setVlanLimit(2);
  try {
    declined(tcp4("00", "88a8 0064 8100 000a"));
  } finally {
    setVlanLimit(DEFAULT_VLAN_LIMIT);
  }
  const opts = tcp4("10");
  opts[14] = 0x46; // IHL 6
  declined(opts);
  const frag = tcp4("10");
  frag[20] = 0x20; // more fragments
  declined(frag);
  const later = tcp4("10");
  later[21] = 0x01; // fragment offset
  declined(later);
  const icmp = tcp4("10");
  icmp[23] = 1;
  declined(icmp);
  declined(tcp4("10"), 40); // shorter than its total length says
  const shortTcp = tcp4("10");
  shortTcp[17] = 39; // 19 bytes of TCP
  declined(shortTcp);
  const shortUdp = UDP4.slice();
  shortUdp[17] = 27; // 7 bytes of UDP
  declined(shortUdp);
  const ip6 = tcp4("10");
  ip6[12] = 0x86, ip6[13] = 0xdd;
  declined(ip6);
});

Deno.test("extractIpv4L4 agrees with flowExtract on random frames, whatever the key held before", () => {
  const st = state();
  const frame = new Uint8Array(BUF_WORDS * 4);
  // xorshift32: successive bytes of an LCG's top byte are too alike here.
  let seed = 7;
  const next = () => {
    seed ^= seed << 13;
    seed ^= seed >>> 17;
    seed ^= seed << 5;
    return (seed >>> 0) & 0xff;
  };
  let taken = 0;
  const N = 40000;
  try {
    for (let i = 0; i < N; i++) {
      for (let j = 0; j < frame.length; j++) frame[j] = next();
      // Mostly the common case, tagged or not, with one thing at a time made unusual.
      const bend = next() & 15, tagged = next() & 1, t = tagged ? 4 : 0;
      const len = 14 + t + (next() % 100);
      if (tagged) {
        frame[12] = bend === 9 ? next() : next() & 1 ? 0x81 : 0x88;
        frame[13] = frame[12] === 0x88 ? 0xa8 : 0;
      }
      frame[12 + t] = bend === 0 ? 0x81 : bend === 1 ? 0x86 : 0x08;
      frame[13 + t] = bend === 1 ? 0xdd : 0;
      frame[14 + t] = bend === 2 ? 0x40 | (next() & 15) : 0x45;
      const totLen = bend === 3 ? next() : len - 14 - t - (bend === 4 ? next() & 7 : 0);
      frame[16 + t] = bend === 5 ? next() : 0;
      frame[17 + t] = totLen & 0xff;
      frame[20 + t] = bend === 6 ? next() : 0x40 & next();
      frame[21 + t] = bend === 7 ? next() : 0;
      frame[23 + t] = bend === 8 ? next() : next() & 1 ? 6 : 17;
      if (i === N / 2) setVlanLimit(2);
      if (check(frame, len, st, next())) taken++;
    }
  } finally {
    setVlanLimit(DEFAULT_VLAN_LIMIT);
  }
  assert.ok(taken > N / 4, `only ${taken} of ${N} frames took the fast path`);
});

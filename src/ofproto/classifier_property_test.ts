/**
 * Property tests over random tables and packets (a fixed seed, so runs
 * repeat): the classifier returns what a linear scan returns, and its
 * wildcards are sound: any packet that agrees with the looked-up one on
 * every un-wildcarded bit gets the same rule, which is what makes a
 * megaflow built from them correct.
 */
import assert from "node:assert/strict";
import { bytesOf, FLOW_WORDS, type FlowKey, newKey } from "../flow/mod.ts";
import { OfTables } from "./tables.ts";
import type { Rule } from "./rule.ts";
import { prng } from "../../tests/support/lib/prng.ts";

const pick = <T>(rnd: () => number, xs: readonly T[]): T => xs[Math.floor(rnd() * xs.length)];

/** Rules over a small value space, so that packets hit them often. */
function randomRule(rnd: () => number, priority: number): string {
  const parts = [`priority=${priority}`];
  const proto = pick(rnd, ["", "ip", "tcp", "udp", "arp", "ipv6", "tcp6"]);
  if (proto.endsWith("6") && rnd() < 0.7) {
    const pfx = pick(rnd, [16, 32, 64, 100, 127, 128]);
    parts.push(`ipv6_dst=2001:db8:${pick(rnd, [0, 1])}::${pick(rnd, [0, 1, 2])}/${pfx}`);
  }
  if (proto) parts.push(proto);
  const v4 = proto === "ip" || proto === "tcp" || proto === "udp";
  if (v4 && rnd() < 0.5) {
    parts.push(
      `nw_dst=10.0.${pick(rnd, [0, 1])}.${pick(rnd, [0, 1, 2, 3])}/${
        pick(rnd, [8, 24, 30, 31, 32])
      }`,
    );
  }
  if (v4 && rnd() < 0.3) {
    parts.push(`nw_src=192.168.${pick(rnd, [0, 1])}.0/${pick(rnd, [16, 24])}`);
  }
  if ((proto === "tcp" || proto === "udp" || proto === "tcp6") && rnd() < 0.6) {
    parts.push(`tp_dst=${pick(rnd, [22, 53, 80, 443, 8080])}`);
  }
  if ((proto === "tcp" || proto === "udp") && rnd() < 0.2) parts.push(`tp_src=0x400/0xfc00`);
  if (rnd() < 0.2) parts.push(`in_port=${pick(rnd, [1, 2])}`);
  if (rnd() < 0.15) parts.push(`reg0=${pick(rnd, [0, 1])}`);
  if (rnd() < 0.1) parts.push(`dl_dst=01:00:00:00:00:00/01:00:00:00:00:00`);
  return `${parts.join(",")},actions=drop`;
}

function randomPacket(rnd: () => number): FlowKey {
  const k = newKey();
  const b = bytesOf(k);
  b[84 + 3] = pick(rnd, [1, 2, 3]);
  b[8 + 3] = pick(rnd, [0, 1]);
  b[128] = pick(rnd, [0, 1]);
  const dlType = pick(rnd, [0x0800, 0x0800, 0x0800, 0x0806, 0x86dd, 0x86dd]);
  b[140] = dlType >> 8;
  b[141] = dlType & 0xff;
  b.set([192, 168, pick(rnd, [0, 1, 2]), pick(rnd, [1, 9])], 168);
  b.set([10, pick(rnd, [0, 1]), pick(rnd, [0, 1]), pick(rnd, [0, 1, 2, 3, 200])], 172);
  b[255] = pick(rnd, [6, 17, 1]);
  b.set([0x20, 0x01, 0x0d, 0xb8, 0, pick(rnd, [0, 1, 3])], 200);
  b[215] = pick(rnd, [0, 1, 2, 3]);
  const sport = pick(rnd, [1000, 1024, 2000]);
  const dport = pick(rnd, [22, 53, 80, 81, 443, 8080, 8081]);
  b.set([sport >> 8, sport & 0xff, dport >> 8, dport & 0xff], 312);
  return k;
}

function linearLookup(rules: Rule[], flow: FlowKey): Rule | null {
  let best: Rule | null = null;
  for (const r of rules) {
    let ok = true;
    for (let w = 0; w < FLOW_WORDS && ok; w++) {
      ok = ((flow[w] ^ r.match.key[w]) & r.match.mask[w]) === 0;
    }
    if (ok && (!best || r.priority > best.priority)) best = r;
  }
  return best;
}

Deno.test("lookups agree with a linear scan and their wildcards are sound", () => {
  const rnd = prng(20261122);
  for (let round = 0; round < 30; round++) {
    const t = new OfTables();
    if (round % 2) t.setPrefixFields(["ipv6_dst", "ip_dst", "ip_src"]);
    const priorities = [...Array(40).keys()].map((i) => 10 + i * 3).sort(() => rnd() - 0.5);
    for (const p of priorities.slice(0, 5 + Math.floor(rnd() * 35))) {
      t.addFlow(randomRule(rnd, p), 0);
    }
    if (rnd() < 0.5) t.delFlows(pick(rnd, ["tcp", "ip,nw_dst=10.0.0.0/24", "in_port=1"]), false);
    const rules = [...t.rules()];
    for (let i = 0; i < 200; i++) {
      const flow = randomPacket(rnd);
      const wc = newKey();
      const hit = t.lookup(0, flow, wc);
      assert.equal(hit, linearLookup(rules, flow), `round ${round} packet ${i}`);
      for (let j = 0; j < 20; j++) {
        const other = randomPacket(rnd);
        for (let w = 0; w < FLOW_WORDS; w++) other[w] = (other[w] & ~wc[w]) | (flow[w] & wc[w]);
        assert.equal(t.lookup(0, other, null), hit, `round ${round} packet ${i} variant ${j}`);
      }
    }
  }
});

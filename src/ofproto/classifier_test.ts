import assert from "node:assert/strict";
import { isAllZero, newKey } from "../flow/mod.ts";
import { OfTables } from "./tables.ts";
import { flowOf, wcField } from "../../tests/support/ofproto/testflow.ts";

const TCP = "eth_type=0x0800,nw_proto=6,ip_src=192.168.0.1";

function tables(...flows: string[]): OfTables {
  const t = new OfTables();
  for (const f of flows) t.addFlow(f, 0);
  return t;
}

Deno.test("a miss on a /32 rule unwildcards only the prefix bits that tell the address apart", () => {
  const t = tables("priority=10,ip,nw_dst=10.0.0.1,actions=output:2", "priority=0,actions=drop");
  const wc = newKey();
  const r = t.lookup(0, flowOf(`${TCP},ip_dst=10.0.0.2,tcp_dst=80`), wc);
  assert.equal(r?.priority, 0);
  assert.equal(wcField(wc, "ip_dst"), 0xfffffffen); // 10.0.0.2/255.255.255.254
  assert.equal(wcField(wc, "eth_type"), 0xffffn);
  assert.equal(wcField(wc, "ip_src"), 0n);
  assert.equal(wcField(wc, "tcp_dst"), 0n);
});

Deno.test("a packet differing in the first bit unwildcards one bit of the address", () => {
  const t = tables("priority=10,ip,nw_dst=10.0.0.1,actions=output:2", "priority=0,actions=drop");
  const wc = newKey();
  t.lookup(0, flowOf(`${TCP},ip_dst=192.168.0.1`), wc);
  assert.equal(wcField(wc, "ip_dst"), 0x80000000n); // 192.168.0.1/128.0.0.0
});

Deno.test("a hit unwildcards the whole rule mask and skips lower-priority subtables", () => {
  const t = tables(
    "priority=10,ip,nw_dst=10.0.0.1,actions=output:2",
    "priority=0,tcp,actions=drop",
  );
  const wc = newKey();
  const r = t.lookup(0, flowOf(`${TCP},ip_dst=10.0.0.1`), wc);
  assert.equal(r?.priority, 10);
  assert.equal(wcField(wc, "ip_dst"), 0xffffffffn);
  assert.equal(wcField(wc, "nw_proto"), 0n);
});

Deno.test("a miss in the last stage narrows tp_dst through the ports trie", () => {
  const t = tables("priority=10,tcp,tp_dst=80,actions=output:2", "priority=0,actions=drop");
  for (const [port, mask] of [[22, 0xffc0n], [8080, 0xf000n], [80, 0xffffn]] as const) {
    const wc = newKey();
    t.lookup(0, flowOf(`${TCP},ip_dst=10.0.0.2,tcp_src=1000,tcp_dst=${port}`), wc);
    assert.equal(wcField(wc, "tcp_dst"), mask, `port ${port}`);
    assert.equal(wcField(wc, "tcp_src"), 0n);
    assert.equal(wcField(wc, "nw_proto"), 0xffn);
  }
});

Deno.test("a miss in an earlier stage stops before the later stages", () => {
  const t = tables("priority=10,tcp,tp_dst=80,actions=output:2", "priority=0,actions=drop");
  const wc = newKey();
  t.lookup(0, flowOf("eth_type=0x0800,nw_proto=17,udp_dst=80"), wc);
  assert.equal(wcField(wc, "nw_proto"), 0xffn);
  assert.equal(wcField(wc, "tcp_dst"), 0n);
  const arp = newKey();
  t.lookup(0, flowOf("eth_type=0x0806,arp_tpa=10.0.0.1"), arp);
  assert.equal(wcField(arp, "eth_type"), 0xffffn);
  assert.equal(wcField(arp, "nw_proto"), 0n);
});

Deno.test("the address tries are not consulted for non-IPv4 packets", () => {
  const t = tables("priority=10,arp,arp_tpa=10.0.0.1,actions=output:2", "priority=0,actions=drop");
  const wc = newKey();
  const r = t.lookup(0, flowOf("eth_type=0x0806,arp_tpa=10.0.0.2"), wc);
  assert.equal(r?.priority, 0);
  assert.equal(wcField(wc, "arp_tpa"), 0xffffffffn);
});

Deno.test("a non-prefix address mask is matched in full, without the trie", () => {
  const t = tables(
    "priority=10,ip,nw_dst=172.16.0.0/255.255.0.255,actions=drop",
    "priority=0,actions=drop",
  );
  const wc = newKey();
  t.lookup(0, flowOf(`${TCP},ip_dst=200.1.1.1`), wc);
  assert.equal(wcField(wc, "ip_dst"), 0xffff00ffn);
});

Deno.test("removing a rule prunes the tries so later lookups look at fewer bits", () => {
  const t = tables(
    "priority=10,ip,nw_dst=10.0.0.1,actions=drop",
    "priority=10,ip,nw_dst=10.0.0.0/8,actions=drop",
    "priority=0,actions=drop",
  );
  const before = newKey();
  t.lookup(0, flowOf(`${TCP},ip_dst=10.0.0.2`), before);
  assert.equal(wcField(before, "ip_dst"), 0xfffffffen);
  assert.ok(t.delFlows("priority=10,ip,nw_dst=10.0.0.1", true));
  assert.equal(t.nRules, 2);
  const after = newKey();
  t.lookup(0, flowOf(`${TCP},ip_dst=10.0.0.2`), after);
  assert.equal(wcField(after, "ip_dst"), 0xff000000n);
});

Deno.test("a lookup without wildcards finds the same rule and writes nothing", () => {
  const t = tables("priority=10,tcp,tp_dst=80,actions=output:2", "priority=5,ip,actions=drop");
  const flow = flowOf(`${TCP},tcp_dst=80`);
  assert.equal(t.lookup(0, flow, null)?.priority, 10);
  const wc = newKey();
  assert.equal(t.lookup(0, flowOf(`${TCP},tcp_dst=81`), wc)?.priority, 5);
  assert.equal(t.lookup(0, flowOf("eth_type=0x86dd"), null), null);
  assert.ok(!isAllZero(wc));
});

Deno.test("among equal priorities the subtable created first is searched first", () => {
  const t = tables(
    "priority=50,ip,nw_src=10.0.0.0/8,actions=drop",
    "priority=50,ip,nw_tos=32,actions=drop",
  );
  const wc = newKey();
  const r = t.lookup(0, flowOf(`eth_type=0x0800,ip_src=10.1.1.1,nw_tos=32`), wc);
  assert.equal(r?.id, [...t.rules()][0].id);
  assert.equal(wcField(wc, "nw_tos"), 0n);
});

Deno.test("nd_target is in the final stage: the ports trie decides the ICMPv6 type first", () => {
  const t = tables(
    "priority=20,icmp6,icmp_type=135,nd_target=fe80::1,actions=output:2",
    "priority=0,actions=drop",
  );
  const icmp6 = "eth_type=0x86dd,nw_proto=58,icmpv6_code=0";
  // A solicitation for another target reaches the ports trie (type exact)
  // and fails on nd_target, which the lookup then unwildcards too.
  let wc = newKey();
  t.lookup(0, flowOf(`${icmp6},icmpv6_type=135,nd_target=fe80::2`), wc);
  assert.equal(wcField(wc, "icmpv6_type"), 0xffn);
  assert.equal(wcField(wc, "nd_target"), (1n << 128n) - 1n);
  // A router solicitation (133) is told apart from 135 by its type's last
  // bit but one; the rest of the final stage is unwildcarded as it was read.
  wc = newKey();
  t.lookup(0, flowOf(`${icmp6},icmpv6_type=133`), wc);
  assert.equal(wcField(wc, "icmpv6_type"), 0xfen);
  assert.equal(wcField(wc, "nd_target"), (1n << 128n) - 1n);
});

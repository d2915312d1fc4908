import assert from "node:assert/strict";
import {
  executeSet,
  executeSetEncoded,
  odpExecuteActions,
  type OdpExecuteDatapath,
} from "./odp_execute.ts";
import { parsePacketSpec } from "./packet_spec.ts";
import { parseOdpActions } from "./odp_action_parse.ts";
import { ACT_HEADER_LEN, encodeActions } from "./odp_action_codec.ts";
import { setAttrBytes } from "./set_attr.ts";
import { PacketBuffer, parseHexPacket, popVlan, pushVlan, toHex } from "../packet/mod.ts";

const ETH = "in_port(1),eth(src=50:54:00:00:00:05,dst=50:54:00:00:00:07)";

function packet(spec: string): PacketBuffer {
  const b = new PacketBuffer();
  b.len = parsePacketSpec(spec, b.data);
  return b;
}

/** Applies `actions` (sets only) to the packet of `before`; it must equal the packet of `after`. */
function check(before: string, actions: string, after: string, encoded = false): void {
  const buf = packet(before);
  for (const a of parseOdpActions(actions)) {
    if (a.type !== "set" && a.type !== "set_masked") throw new Error(a.type);
    if (encoded) {
      const enc = encodeActions([a]);
      const keyOff = ACT_HEADER_LEN + 1;
      const maskOff = a.type === "set" ? -1 : keyOff + setAttrBytes(a.attr);
      executeSetEncoded(buf, enc[ACT_HEADER_LEN], enc, keyOff, maskOff);
    } else {
      const k = new Uint8Array(a.key.buffer);
      executeSet(buf, a.attr, k, a.type === "set" ? null : new Uint8Array(a.mask.buffer));
    }
  }
  const want = packet(after);
  assert.equal(toHex(buf.data, buf.len), toHex(want.data, want.len), actions);
}

const tcp = (src: string, dst: string, tos: string, ttl: number, sp: number, dp: number) =>
  `${ETH},eth_type(0x0800),ipv4(src=${src},dst=${dst},proto=6,tos=${tos},ttl=${ttl},frag=no),tcp(src=${sp},dst=${dp})`;

Deno.test("masked IPv4 and TCP sets keep both checksums right", () => {
  check(
    tcp("10.0.0.1", "10.0.0.2", "0", 64, 1000, 80),
    "set(ipv4(src=192.168.1.1,ttl=63)),set(tcp(dst=8080))",
    tcp("192.168.1.1", "10.0.0.2", "0", 63, 1000, 8080),
  );
  check(
    tcp("10.0.0.1", "10.0.0.2", "0", 64, 1000, 80),
    "set(ipv4(dst=10.0.0.0/255.0.0.0,tos=0x10))",
    tcp("10.0.0.1", "10.0.0.2", "0x10", 64, 1000, 80),
  );
});

Deno.test("sets work the same from the binary encoding", () => {
  check(
    tcp("10.0.0.1", "10.0.0.2", "0", 64, 1000, 80),
    "set(ipv4(src=1.2.3.4,dst=5.6.7.8,proto=6,tos=0x4,ttl=9,frag=no)),set(tcp(src=1,dst=2))",
    tcp("1.2.3.4", "5.6.7.8", "0x4", 9, 1, 2),
    true,
  );
});

Deno.test("an Ethernet set rewrites the addresses", () => {
  const eth2 = "in_port(1),eth(src=00:00:00:00:00:01,dst=00:00:00:00:00:07)";
  check(
    tcp("10.0.0.1", "10.0.0.2", "0", 64, 1, 2),
    "set(eth(src=00:00:00:00:00:01,dst=00:00:00:00:00:07))",
    tcp("10.0.0.1", "10.0.0.2", "0", 64, 1, 2).replace(ETH, eth2),
  );
});

Deno.test("UDP ports and IPv6 addresses update the UDP checksum", () => {
  const u6 = (src: string, hl: number, sp: number) =>
    `${ETH},eth_type(0x86dd),ipv6(src=${src},dst=2001:db8::2,label=0,proto=17,tclass=0,hlimit=${hl},frag=no),udp(src=${sp},dst=53)`;
  check(
    u6("2001:db8::1", 64, 1000),
    "set(ipv6(src=2001:db8::99,hlimit=63)),set(udp(src=5353))",
    u6("2001:db8::99", 63, 5353),
  );
});

Deno.test("ICMP type and code sets update the ICMP checksum", () => {
  const icmp = (t: number) =>
    `${ETH},eth_type(0x0800),ipv4(src=10.0.0.1,dst=10.0.0.2,proto=1,tos=0,ttl=64,frag=no),icmp(type=${t},code=0)`;
  check(icmp(8), "set(icmp(type=0,code=0))", icmp(0));
});

Deno.test("an ND target set updates the ICMPv6 checksum", () => {
  const nd = (t: string, sll: string) =>
    `${ETH},eth_type(0x86dd),ipv6(src=fe80::1,dst=ff02::1:ff00:2,label=0,proto=58,tclass=0,hlimit=255,frag=no),icmpv6(type=135,code=0),nd(target=${t},sll=${sll},tll=00:00:00:00:00:00)`;
  check(
    nd("fe80::2", "50:54:00:00:00:05"),
    "set(nd(target=fe80::3,sll=50:54:00:00:00:06))",
    nd("fe80::3", "50:54:00:00:00:06"),
  );
});

Deno.test("ARP sets rewrite the ARP fields", () => {
  const arp = (sip: string, op: number) =>
    `${ETH},eth_type(0x0806),arp(sip=${sip},tip=10.0.0.2,op=${op},sha=50:54:00:00:00:05,tha=00:00:00:00:00:00)`;
  check(arp("10.0.0.1", 1), "set(arp(sip=10.0.0.9,op=2))", arp("10.0.0.9", 2));
});

Deno.test("push_vlan then pop_vlan gives the tagged, then the original frame", () => {
  const plain = packet(tcp("10.0.0.1", "10.0.0.2", "0", 64, 1, 2));
  const tagged = packet(
    `${ETH},eth_type(0x8100),vlan(vid=10,pcp=3),encap(eth_type(0x0800),ipv4(src=10.0.0.1,dst=10.0.0.2,proto=6,tos=0,ttl=64,frag=no),tcp(src=1,dst=2))`,
  );
  const b = packet(tcp("10.0.0.1", "10.0.0.2", "0", 64, 1, 2));
  b.len = pushVlan(b.data, b.len, 0x8100, 0x600a | 0x1000);
  assert.equal(toHex(b.data, b.len), toHex(tagged.data, tagged.len));
  b.len = popVlan(b.data, b.len);
  assert.equal(toHex(b.data, b.len), toHex(plain.data, plain.len));
  assert.equal(popVlan(b.data, b.len), b.len);
});

Deno.test("a set for a header the packet lacks changes nothing", () => {
  const b = packet(tcp("10.0.0.1", "10.0.0.2", "0", 64, 1, 2));
  const before = toHex(b.data, b.len);
  const [a] = parseOdpActions("set(udp(src=1,dst=2))");
  if (a.type !== "set") throw new Error();
  executeSet(b, a.attr, new Uint8Array(a.key.buffer), null);
  assert.equal(toHex(b.data, b.len), before);
});

Deno.test("skb_priority and skb_mark sets change the packet's metadata", () => {
  const b = packet(tcp("10.0.0.1", "10.0.0.2", "0", 64, 1, 2));
  for (const a of parseOdpActions("set(skb_priority(0x5)),set(skb_mark(0x10))")) {
    if (a.type !== "set") throw new Error();
    executeSet(b, a.attr, new Uint8Array(a.key.buffer), null);
  }
  assert.equal(b.skbPriority, 5);
  assert.equal(b.pktMark, 16);
});

/** Full UDP-over-IPv6 checksum check: pseudo-header plus the datagram sums to 0xffff. */
function udp6Verifies(p: Uint8Array, l3: number, l4: number, len: number): boolean {
  let s = 0;
  for (let i = l3 + 8; i < l3 + 40; i += 2) s += (p[i] << 8) | p[i + 1];
  s += 17 + (len - l4);
  for (let i = l4; i < len; i += 2) s += (p[i] << 8) | (i + 1 < len ? p[i + 1] : 0);
  while (s > 0xffff) s = (s & 0xffff) + Math.floor(s / 0x10000);
  return s === 0xffff;
}

Deno.test("sets find UDP behind an IPv6 hop-by-hop header and keep its checksum", () => {
  const b = new PacketBuffer();
  b.len = parseHexPacket(
    "505400000007505400000005" + "86dd" + "60000000" + "0018" + "00" + "40" +
      "20010db8000000000000000000000001" + "20010db8000000000000000000000002" +
      "1100000000000000" + "0035003500100000" + "0102030405060708",
    b.data,
  );
  const l3 = 14, l4 = 14 + 40 + 8;
  // Fill in a correct checksum first.
  let s = 0;
  for (let i = l3 + 8; i < l3 + 40; i += 2) s += (b.data[i] << 8) | b.data[i + 1];
  s += 17 + 16;
  for (let i = l4; i < b.len; i += 2) s += (b.data[i] << 8) | b.data[i + 1];
  while (s > 0xffff) s = (s & 0xffff) + Math.floor(s / 0x10000);
  b.data[l4 + 6] = ~s >>> 8 & 0xff;
  b.data[l4 + 7] = ~s & 0xff;
  assert.ok(udp6Verifies(b.data, l3, l4, b.len));
  for (const a of parseOdpActions("set(udp(src=5353)),set(ipv6(src=2001:db8::99))")) {
    if (a.type !== "set_masked") throw new Error(a.type);
    executeSet(b, a.attr, new Uint8Array(a.key.buffer), new Uint8Array(a.mask.buffer));
  }
  assert.equal((b.data[l4] << 8) | b.data[l4 + 1], 5353);
  assert.equal(b.data[l3 + 8 + 15], 0x99);
  assert.ok(udp6Verifies(b.data, l3, l4, b.len));
});

/** Records what odpExecuteActions hands to the datapath. */
class Recorder implements OdpExecuteDatapath {
  log: string[] = [];
  output(pkt: PacketBuffer, port: number, len: number): void {
    this.log.push(`output(${port}) ${toHex(pkt.data, len)}`);
  }
  userspace(_p: PacketBuffer, acts: Uint8Array, at: number, n: number, last: boolean): void {
    this.log.push(`userspace ${toHex(acts.subarray(at), n)} last=${last}`);
  }
  /** The packets cloneBegin kept, innermost last. */
  private copies: Uint8Array[] = [];
  cloneBegin(pkt: PacketBuffer): void {
    this.log.push("cloneBegin");
    this.copies.push(pkt.data.slice(0, pkt.len));
  }
  cloneEnd(pkt: PacketBuffer): void {
    this.log.push("cloneEnd");
    const copy = this.copies.pop()!;
    pkt.data.set(copy);
    pkt.len = copy.length;
  }
}

function runList(spec: string, actions: string): Recorder {
  const b = packet(spec);
  const enc = encodeActions(parseOdpActions(actions));
  const r = new Recorder();
  odpExecuteActions(b, enc, 0, enc.length, r);
  return r;
}

Deno.test("odpExecuteActions: each output sees the packet as the actions before it left it", () => {
  const plain = tcp("10.0.0.1", "10.0.0.2", "0", 64, 1, 2);
  const b = packet(plain);
  const tagged = packet(
    `${ETH},eth_type(0x8100),vlan(vid=10,pcp=3),encap(eth_type(0x0800),ipv4(src=10.0.0.1,dst=10.0.0.2,proto=6,tos=0,ttl=64,frag=no),tcp(src=1,dst=2))`,
  );
  const r = runList(plain, "1,push_vlan(vid=10,pcp=3),2,pop_vlan,3,set(tcp(src=7,dst=2)),4");
  const rewritten = packet(tcp("10.0.0.1", "10.0.0.2", "0", 64, 7, 2));
  assert.deepEqual(r.log, [
    `output(1) ${toHex(b.data, b.len)}`,
    `output(2) ${toHex(tagged.data, tagged.len)}`,
    `output(3) ${toHex(b.data, b.len)}`,
    `output(4) ${toHex(rewritten.data, rewritten.len)}`,
  ]);
});

Deno.test("odpExecuteActions: trunc cuts only the next output", () => {
  const spec = tcp("10.0.0.1", "10.0.0.2", "0", 64, 1, 2);
  const b = packet(spec);
  const r = runList(spec, "trunc(20),1,2");
  assert.deepEqual(r.log, [`output(1) ${toHex(b.data, 20)}`, `output(2) ${toHex(b.data, b.len)}`]);
});

Deno.test("odpExecuteActions: userspace hands over its userdata and whether it is last", () => {
  const spec = tcp("10.0.0.1", "10.0.0.2", "0", 64, 1, 2);
  const r = runList(spec, "userspace(pid=0,userdata(01020304)),1,userspace(pid=0)");
  assert.equal(r.log.length, 3);
  assert.equal(r.log[0], "userspace 01020304 last=false");
  assert.equal(r.log[2], "userspace  last=true");
});

Deno.test("odpExecuteActions: a set after a VLAN push finds the headers where they moved to", () => {
  const r = runList(
    tcp("10.0.0.1", "10.0.0.2", "0", 64, 1, 2),
    "set(ipv4(src=10.0.0.1,dst=10.0.0.2,proto=6,tos=0,ttl=9,frag=no)),push_vlan(vid=10,pcp=3),set(tcp(src=7,dst=2)),1",
  );
  const want = packet(
    `${ETH},eth_type(0x8100),vlan(vid=10,pcp=3),encap(eth_type(0x0800),ipv4(src=10.0.0.1,dst=10.0.0.2,proto=6,tos=0,ttl=9,frag=no),tcp(src=7,dst=2))`,
  );
  assert.deepEqual(r.log, [`output(1) ${toHex(want.data, want.len)}`]);
});

Deno.test("odpExecuteActions: a clone's actions work on a copy; the actions after it see the packet as it was", () => {
  const spec = tcp("10.0.0.1", "10.0.0.2", "0", 64, 1, 2);
  const b = packet(spec);
  const rewritten = packet(tcp("10.0.0.1", "10.0.0.9", "0", 64, 1, 2));
  const tagged = packet(
    `${ETH},eth_type(0x8100),vlan(vid=10,pcp=3),encap(eth_type(0x0800),ipv4(src=10.0.0.1,dst=10.0.0.9,proto=6,tos=0,ttl=64,frag=no),tcp(src=1,dst=2))`,
  );
  const r = runList(
    spec,
    "clone(set(ipv4(dst=10.0.0.9)),1,clone(push_vlan(vid=10,pcp=3),2),3),4",
  );
  assert.deepEqual(r.log, [
    "cloneBegin",
    `output(1) ${toHex(rewritten.data, rewritten.len)}`,
    "cloneBegin",
    `output(2) ${toHex(tagged.data, tagged.len)}`,
    "cloneEnd",
    `output(3) ${toHex(rewritten.data, rewritten.len)}`,
    "cloneEnd",
    `output(4) ${toHex(b.data, b.len)}`,
  ]);
});

Deno.test("odpExecuteActions: a clone that is the last action needs no copy; an empty one does nothing", () => {
  const spec = tcp("10.0.0.1", "10.0.0.2", "0", 64, 1, 2);
  const b = packet(spec);
  const rewritten = packet(tcp("10.0.0.1", "10.0.0.9", "0", 64, 1, 2));
  const r = runList(spec, "1,clone(),clone(set(ipv4(dst=10.0.0.9)),2)");
  assert.deepEqual(r.log, [
    `output(1) ${toHex(b.data, b.len)}`,
    "cloneBegin",
    "cloneEnd",
    `output(2) ${toHex(rewritten.data, rewritten.len)}`,
  ]);
});

Deno.test("odpExecuteActions: a pending trunc goes with the clone's copy, not past it", () => {
  const spec = tcp("10.0.0.1", "10.0.0.2", "0", 64, 1, 2);
  const b = packet(spec);
  const r = runList(spec, "trunc(20),clone(1),2");
  assert.deepEqual(r.log, [
    "cloneBegin",
    `output(1) ${toHex(b.data, 20)}`,
    "cloneEnd",
    `output(2) ${toHex(b.data, b.len)}`,
  ]);
});

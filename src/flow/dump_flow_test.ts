import assert from "node:assert/strict";
import { formatDumpFlow, parseDumpFlow } from "./dump_flow.ts";
import { newKey } from "./key.ts";
import { parseOdpKey } from "./odp_key_parse.ts";
import { formatOdpKey } from "./odp_key_format.ts";
import { miniflowBits } from "./miniflow.ts";
import { OdpParseError } from "./_scan.ts";
import { DEFAULT_VLAN_LIMIT, setVlanLimit } from "./extract.ts";

const NAMES = new Map([["p1", 1], ["p2", 2], ["p3", 3]]);
const NUMBERS = new Map([...NAMES].map(([n, p]) => [p, n] as [number, string]));
const dir = new URL("./testdata/", import.meta.url);

function lines(file: string): string[] {
  return Deno.readTextFileSync(new URL(file, dir)).split("\n").filter((l) => l !== "");
}

function roundTrip(line: string, verbose: boolean): string {
  const f = parseDumpFlow(line, NAMES);
  return formatDumpFlow(f, { verbose, portNames: verbose ? NUMBERS : null });
}

Deno.test("every terse dump-flows line the oracle printed comes back unchanged", () => {
  const all = lines("oracle_dump_terse.txt");
  assert.ok(all.length >= 40);
  for (const l of all) assert.equal(roundTrip(l, false), l);
});

Deno.test("every verbose (-m) dump-flows line the oracle printed comes back unchanged", () => {
  const all = lines("oracle_dump_verbose.txt");
  assert.ok(all.length >= 40);
  for (const l of all) assert.equal(roundTrip(l, true), l);
});

Deno.test("more oracle dump lines (set actions, VLAN, IPv6, ARP, MPLS, slow path) come back unchanged", () => {
  const names = new Map([...NAMES, ["br0", 100]]);
  const numbers = new Map([...names].map(([n, p]) => [p, n] as [number, string]));
  for (
    const [file, verbose] of [["oracle_dump_more_terse.txt", false], [
      "oracle_dump_more_verbose.txt",
      true,
    ]] as const
  ) {
    const all = lines(file);
    assert.ok(all.length >= 25);
    for (const l of all) {
      const f = parseDumpFlow(l, names);
      assert.equal(formatDumpFlow(f, { verbose, portNames: verbose ? numbers : null }), l);
    }
  }
});

Deno.test("a parsed megaflow mask gives the oracle's miniflow_bits", () => {
  const names = new Map([...NAMES, ["br0", 100]]);
  for (const l of [...lines("oracle_dump_verbose.txt"), ...lines("oracle_dump_more_verbose.txt")]) {
    const f = parseDumpFlow(l, names);
    // Exact-match (megaflows off) flows carry mask bits the text cannot show.
    if (l.includes("ct_state(0/0xff)")) continue;
    const b = miniflowBits(f.mask!, f.key);
    assert.equal(`miniflow_bits(${b[0]},${b[1]})`, f.extraInfo, l);
  }
});

Deno.test("the verbose form of a terse megaflow shows every attribute with its mask", () => {
  const key = newKey(), mask = newKey();
  parseOdpKey(
    "recirc_id(0),in_port(1),packet_type(ns=0,id=0),eth_type(0x0800),ipv4(proto=17,frag=no)",
    key,
    mask,
  );
  assert.equal(
    formatOdpKey(key, mask, { verbose: true }),
    "skb_priority(0/0),skb_mark(0/0),ct_state(0/0),ct_zone(0/0),ct_mark(0/0),ct_label(0/0)," +
      "recirc_id(0),dp_hash(0/0),in_port(1),packet_type(ns=0,id=0)," +
      "eth(src=00:00:00:00:00:00/00:00:00:00:00:00,dst=00:00:00:00:00:00/00:00:00:00:00:00)," +
      "eth_type(0x0800),ipv4(src=0.0.0.0/0.0.0.0,dst=0.0.0.0/0.0.0.0,proto=17,tos=0/0,ttl=0/0,frag=no)," +
      "udp(src=0/0,dst=0/0)",
  );
});

Deno.test("stats with TCP flags print them the way tcpdump does", () => {
  const l = "recirc_id(0),in_port(1),packet_type(ns=0,id=0),eth_type(0x0800),ipv4(frag=no), " +
    "packets:3, bytes:180, used:1.250s, flags:SF., actions:2";
  const f = parseDumpFlow(l);
  assert.equal(f.stats?.tcpFlags, 0x013);
  assert.equal(f.stats?.usedAgoMs, 1250);
  assert.equal(formatDumpFlow(f), l);
});

Deno.test("a key with actions and no stats prints without stats", () => {
  const l = "in_port(1),eth(src=50:54:00:00:00:05,dst=50:54:00:00:00:07),eth_type(0x0800)," +
    "ipv4(src=10.0.0.1,dst=10.0.0.2,proto=6,tos=0,ttl=64,frag=no),tcp(src=8,dst=9), actions:drop";
  const f = parseDumpFlow(l);
  assert.equal(f.stats, null);
  assert.equal(formatDumpFlow(f), l);
});

const SHAPES = [
  "recirc_id(0),in_port(2),packet_type(ns=0,id=0),eth(src=00:01:02:03:04:05/ff:ff:ff:00:00:00),eth_type(0x8100),vlan(vid=10,pcp=3),encap(eth_type(0x0800),ipv4(src=10.0.0.0/255.0.0.0,proto=6,frag=no),tcp(dst=443),tcp_flags(+syn-ack))",
  "recirc_id(0),in_port(1),packet_type(ns=0,id=0),eth_type(0x88a8),vlan(vid=100/0xff0),encap(eth_type(0x8100),vlan(vid=5,pcp=0),encap(eth_type(0x86dd),ipv6(src=fe80::1,dst=ff02::1:ff00:1/ffff::,label=0x12345,proto=58,tclass=0x10,hlimit=255,frag=no),icmpv6(type=135,code=0),nd(target=fe80::99,sll=50:54:00:00:00:05)))",
  "recirc_id(0x5),dp_hash(0x3/0xf),in_port(3),packet_type(ns=0,id=0),eth(dst=ff:ff:ff:ff:ff:ff),eth_type(0x0806),arp(sip=10.0.0.1,tip=10.0.0.0/255.255.255.0,op=1)",
  "skb_mark(0x1),ct_state(-inv+trk),ct_zone(0x5),ct_mark(0x10/0xf0),ct_label(0x1234/0xffff),recirc_id(0),in_port(1),packet_type(ns=0,id=0),eth_type(0x8847),mpls(label=100,tc=0,ttl=64,bos=1)",
  "recirc_id(0),in_port(1),packet_type(ns=0,id=0),eth_type(0x0800),ipv4(src=192.168.1.1,proto=1,ttl=64/0xf0,frag=first),icmp(type=8)",
  "recirc_id(0),in_port(1),packet_type(ns=0,id=0),eth_type(0x0800),ipv4(proto=6,frag=later)",
  "recirc_id(0),in_port(1),packet_type(ns=0,id=0),eth(src=50:54:00:00:00:05),eth_type(0x05ff/0xffff)",
];

Deno.test("VLAN, IPv6/ND, ARP, MPLS, ct and fragment keys survive a round trip", () => {
  setVlanLimit(2);
  try {
    roundTripShapes();
  } finally {
    setVlanLimit(DEFAULT_VLAN_LIMIT);
  }
});

function roundTripShapes(): void {
  for (const s of SHAPES) {
    const key = newKey(), mask = newKey();
    parseOdpKey(s, key, mask);
    const expected = s.replace(",eth_type(0x05ff/0xffff)", ",eth_type(0/0xffff)");
    assert.equal(formatOdpKey(key, mask), expected);
    const verbose = formatOdpKey(key, mask, { verbose: true });
    const k2 = newKey(), m2 = newKey();
    parseOdpKey(verbose, k2, m2);
    assert.equal(formatOdpKey(k2, m2, { verbose: true }), verbose);
    assert.deepEqual(k2, key);
    assert.deepEqual(m2, mask);
  }
}

Deno.test("a bad token gets an error that names it", () => {
  const bad: Array<[string, string]> = [
    ["recirc_id(0),in_port(1),eth_type(0x0800),ipv4(src=10.0.0.300)", "10.0.0.300"],
    ["recirc_id(0),bogus(1)", "bogus(1)"],
    ["recirc_id(0),in_port(p9)", "in_port(p9)"],
    ["recirc_id(0),tcp(sport=1)", "sport=1"],
    ["recirc_id(0), packets:x", "packets:x"],
    ["recirc_id(0), actions:frobnicate", "frobnicate"],
    ["recirc_id(0", "recirc_id(0"],
  ];
  for (const [line, token] of bad) {
    assert.throws(() => parseDumpFlow(line, NAMES), (e: unknown) => {
      assert.ok(e instanceof OdpParseError, String(e));
      assert.equal(e.token, token);
      return true;
    });
  }
});

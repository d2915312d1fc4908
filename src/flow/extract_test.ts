import assert from "node:assert/strict";
import { DEFAULT_VLAN_LIMIT, flowExtract, setVlanLimit } from "./extract.ts";
import { bytesOf, getField, newKey } from "./key.ts";
import { F, FRAG_ANY, FRAG_LATER } from "./layout.ts";
import { formatOdpKey } from "./odp_key_format.ts";
import { wildcardsForPacket } from "./wildcards.ts";
import { miniflowBits } from "./miniflow.ts";
import { hex, tcp4 } from "../../tests/support/flow/testpkt.ts";

function extract(pkt: Uint8Array, len = pkt.length) {
  const key = newKey();
  flowExtract(pkt, len, 1, key);
  return key;
}

/** The key as OVS prints an exact-match (megaflows disabled) flow. */
function exactText(pkt: Uint8Array, len = pkt.length): string {
  const key = extract(pkt, len);
  const mask = newKey();
  wildcardsForPacket(key, mask);
  return formatOdpKey(key, mask);
}

const PREFIX = "skb_priority(0),skb_mark(0),ct_state(-new-est-rel-rpl-inv-trk-snat-dnat)," +
  "ct_zone(0),ct_mark(0),ct_label(0),recirc_id(0),dp_hash(0),in_port(1),packet_type(ns=0,id=0)," +
  "eth(src=50:54:00:00:00:05,dst=50:54:00:00:00:07)";

Deno.test("a TCP packet prints as the oracle's exact-match flow", () => {
  assert.equal(
    exactText(tcp4()),
    PREFIX + ",eth_type(0x0800),ipv4(src=10.0.0.1,dst=10.0.0.2,proto=6,tos=0,ttl=64,frag=no)," +
      "tcp(src=1000,dst=80),tcp_flags(0)",
  );
});

Deno.test("an exact-match TCP mask has OVS's miniflow_bits(9,5)", () => {
  const key = extract(tcp4());
  const mask = newKey();
  wildcardsForPacket(key, mask);
  assert.deepEqual(miniflowBits(mask), [9, 5]);
});

Deno.test("TCP flags are read from the header", () => {
  const key = extract(tcp4("12"));
  assert.equal(getField(bytesOf(key), F.tcp_flags), 0x012);
  assert.match(formatOdpKey(key, null), /tcp_flags\(syn\|ack\)/);
});

Deno.test("an IPv4 header cut short leaves the IPv4 fields zero", () => {
  const pkt = tcp4();
  assert.equal(
    exactText(pkt, 14 + 19),
    PREFIX + ",eth_type(0x0800),ipv4(src=0.0.0.0,dst=0.0.0.0,proto=0,tos=0,ttl=0,frag=no)",
  );
});

Deno.test("a TCP header cut short keeps the IP fields but no ports", () => {
  const pkt = tcp4();
  pkt[14 + 3] = 39;
  const key = extract(pkt, 14 + 20 + 19);
  const b = bytesOf(key);
  assert.equal(getField(b, F.nw_proto), 6);
  assert.equal(getField(b, F.tp_dst), 0);
});

Deno.test("an IP total length beyond the frame stops parsing at L3", () => {
  const pkt = tcp4();
  pkt[14 + 3] = 0xff;
  const b = bytesOf(extract(pkt));
  assert.equal(getField(b, F.dl_type), 0x0800);
  assert.equal(getField(b, F.nw_src), 0);
});

Deno.test("frames shorter than an Ethernet header give just in_port", () => {
  const key = extract(tcp4(), 13);
  const b = bytesOf(key);
  assert.equal(getField(b, F.in_port), 1);
  assert.equal(getField(b, F.dl_type), 0);
  assert.equal(getField(b, { off: F.dl_dst.off, len: 1 }), 0);
});

Deno.test("later fragments carry no transport ports", () => {
  const pkt = tcp4();
  pkt[14 + 6] = 0x00;
  pkt[14 + 7] = 0x10;
  const b = bytesOf(extract(pkt));
  assert.equal(getField(b, F.nw_frag), FRAG_ANY | FRAG_LATER);
  assert.equal(getField(b, F.tp_src), 0);
});

Deno.test("a first fragment is a fragment with ports", () => {
  const pkt = tcp4();
  pkt[14 + 6] = 0x20;
  const b = bytesOf(extract(pkt));
  assert.equal(getField(b, F.nw_frag), FRAG_ANY);
  assert.equal(getField(b, F.tp_dst), 80);
});

Deno.test("an 802.1Q tag becomes vlan(...) and encap(...)", () => {
  const key = extract(tcp4("00", "8100 a00a"));
  assert.equal(getField(bytesOf(key), F.vlan0_tci), 0xa00a | 0x1000);
  assert.match(
    formatOdpKey(key, null),
    /eth_type\(0x8100\),vlan\(vid=10,pcp=5\),encap\(eth_type\(0x0800\),ipv4\(/,
  );
});

Deno.test("with the default VLAN limit of one, an inner tag is payload", () => {
  const b = bytesOf(extract(tcp4("00", "88a8 0064 8100 000a")));
  assert.equal(getField(b, F.vlan0_tpid), 0x88a8);
  assert.equal(getField(b, F.vlan1_tci), 0);
  assert.equal(getField(b, F.dl_type), 0x8100);
});

Deno.test("with a VLAN limit of two, both tags are read", () => {
  setVlanLimit(2);
  try {
    const b = bytesOf(extract(tcp4("00", "88a8 0064 8100 000a")));
    assert.equal(getField(b, F.vlan0_tpid), 0x88a8);
    assert.equal(getField(b, F.vlan1_tci), 0x100a);
    assert.equal(getField(b, F.dl_type), 0x0800);
  } finally {
    setVlanLimit(DEFAULT_VLAN_LIMIT);
  }
});

Deno.test("ARP fields land in nw_src, nw_dst, nw_proto and arp_sha/tha", () => {
  const pkt = hex(
    "ffffffffffff 505400000005 0806 0001 0800 06 04 0001 505400000005 0a000001 000000000000 0a000002",
  );
  assert.match(
    formatOdpKey(extract(pkt), null),
    /eth_type\(0x0806\),arp\(sip=10\.0\.0\.1,tip=10\.0\.0\.2,op=1,sha=50:54:00:00:00:05,tha=00:00:00:00:00:00\)$/,
  );
});

Deno.test("an MPLS stack is read up to bottom of stack, three labels at most", () => {
  const pkt = hex("505400000007 505400000005 8847 00001040 00002140 0000ff00");
  const b = bytesOf(extract(pkt));
  assert.equal(getField(b, { off: F.mpls_lse.off, len: 4 }), 0x00001040);
  assert.equal(getField(b, { off: F.mpls_lse.off + 4, len: 4 }), 0x00002140);
  assert.equal(getField(b, { off: F.mpls_lse.off + 8, len: 4 }), 0);
});

Deno.test("802.3 frames with SNAP take the SNAP type; others are FLOW_DL_TYPE_NONE", () => {
  const snap = hex("505400000007 505400000005 0030 aaaa03 000000 0800");
  assert.equal(getField(bytesOf(extract(snap)), F.dl_type), 0x0800);
  const llc = hex("505400000007 505400000005 0030 424203 000000 0000");
  assert.equal(getField(bytesOf(extract(llc)), F.dl_type), 0x05ff);
});

const IP6 = "505400000007 505400000005 86dd";
const SRC6 = "fe800000000000000000000000000001";
const DST6 = "ff020000000000000000000000000002";

Deno.test("IPv6 hop-by-hop then UDP gives the UDP ports and the label", () => {
  const pkt = hex(
    IP6 + "6012345 6 0010 00 40".replace(/ /g, "") + SRC6 + DST6 + "1100000000000000" +
      "0035 0035 0008 0000",
  );
  const text = formatOdpKey(extract(pkt), null);
  assert.match(
    text,
    /ipv6\(src=fe80::1,dst=ff02::2,label=0x23456,proto=17,tclass=0x1,hlimit=64,frag=no\)/,
  );
  assert.match(text, /udp\(src=53,dst=53\)$/);
});

Deno.test("an IPv6 extension header cut short keeps only the addresses", () => {
  const pkt = hex(IP6 + "60000000 0004 00 40" + SRC6 + DST6 + "11000000");
  const b = bytesOf(extract(pkt));
  assert.equal(getField(b, { off: F.ipv6_src.off + 15, len: 1 }), 1);
  assert.equal(getField(b, F.nw_proto), 0);
  assert.equal(getField(b, F.nw_ttl), 0);
});

Deno.test("an IPv6 later fragment stops at the fragment header", () => {
  const pkt = hex(
    IP6 + "60000000 0010 2c 40" + SRC6 + DST6 + "1100 0011 00000001" + "0035 0035 0008 0000",
  );
  const b = bytesOf(extract(pkt));
  assert.equal(getField(b, F.nw_frag), FRAG_ANY | FRAG_LATER);
  assert.equal(getField(b, F.nw_proto), 44);
  assert.equal(getField(b, F.tp_src), 0);
});

Deno.test("a neighbor solicitation yields nd(target, sll) and the option type", () => {
  const pkt = hex(
    IP6 + "60000000 0020 3a ff" + SRC6 + DST6 +
      "8700 0000 00000000" + "fe800000000000000000000000000099" + "01 01 505400000005",
  );
  const key = extract(pkt);
  const text = formatOdpKey(key, null);
  assert.match(
    text,
    /icmpv6\(type=135,code=0\),nd\(target=fe80::99,sll=50:54:00:00:00:05,tll=00:00:00:00:00:00\)$/,
  );
  assert.equal(getField(bytesOf(key), F.tcp_flags), 1);
});

Deno.test("a repeated ND link-layer option invalidates the ND fields", () => {
  const pkt = hex(
    IP6 + "60000000 0028 3a ff" + SRC6 + DST6 + "8700 0000 00000000" +
      "fe800000000000000000000000000099" + "01 01 505400000005" + "01 01 505400000006",
  );
  const b = bytesOf(extract(pkt));
  assert.equal(getField(b, { off: F.nd_target.off + 15, len: 1 }), 0);
  assert.equal(getField(b, { off: F.arp_sha.off + 5, len: 1 }), 0);
  assert.equal(getField(b, F.tp_src), 135);
});

Deno.test("ICMP type and code go to the low bytes of tp_src and tp_dst", () => {
  const pkt = hex(
    "505400000007 505400000005 0800 45000020 0000 0000 4001 0000 0a000001 0a000002 0800 0000 00000000 00000000",
  );
  assert.match(formatOdpKey(extract(pkt), null), /icmp\(type=8,code=0\)$/);
});

Deno.test("random bytes never make flowExtract throw", () => {
  const key = newKey();
  const buf = new Uint8Array(128);
  let seed = 12345;
  for (let i = 0; i < 20000; i++) {
    for (let j = 0; j < buf.length; j++) {
      seed = (seed * 1103515245 + 12345) >>> 0;
      buf[j] = seed >>> 24;
    }
    // Steer a share of frames into the IP, IPv6, VLAN and MPLS parsers.
    const t = [0x0800, 0x86dd, 0x8100, 0x8847, 0x0806][i % 5];
    buf[12] = t >> 8;
    buf[13] = t & 0xff;
    if (t === 0x0800) buf[14] = 0x45;
    if (t === 0x86dd) buf[14] = 0x60;
    flowExtract(buf, seed % 129, 1, key);
  }
});

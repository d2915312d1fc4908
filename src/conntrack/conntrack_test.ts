import assert from "node:assert/strict";
import {
  CS_DST_NAT,
  CS_ESTABLISHED,
  CS_INVALID,
  CS_NEW,
  CS_RELATED,
  CS_REPLY_DIR,
  CS_SRC_NAT,
  CS_TRACKED,
  encodeActions,
  F,
  FLOW_BYTES,
  parseOdpActions,
  parsePacketSpec,
} from "../flow/mod.ts";
import { ACT_HEADER_LEN } from "../flow/mod.ts";
import {
  Conntrack,
  createConntrackBuffer,
  dumpConns,
  emptyTupleMatch,
  flushConns,
  liveConns,
  TCP_STATE_NAMES,
} from "./mod.ts";
import { tcpPeerStates, TcpState } from "./tcp.ts";
import { S_TCP } from "./_table.ts";
import { hexIcmpError, hexOf, tcpHex, validUdp } from "../../tests/support/conntrack_frames.ts";
import { csum, ethFromHex } from "../packet/mod.ts";

/** A tracker and a way to run `ct(...)` text on a packet spec. */
function tracker(capacity = 64) {
  const ct = new Conntrack(createConntrackBuffer(capacity));
  const md = new Uint8Array(FLOW_BYTES);
  const pkt = new Uint8Array(2048);
  let len = 0;
  const run = (action: string, spec: string, now = 0, keepMd = false): number => {
    const acts = encodeActions(parseOdpActions(action));
    len = parsePacketSpec(spec, pkt);
    if (!keepMd) md.fill(0);
    ct.execute(pkt, len, acts, ACT_HEADER_LEN, md, now);
    return md[F.ct_state.off];
  };
  return { ct, md, pkt, run, len: () => len };
}

const frame = (hex: string) => ethFromHex(hex) as Uint8Array;
const ETH = "in_port(1),eth(src=50:54:00:00:00:01,dst=50:54:00:00:00:02)";
const udp = (s: string, d: string, sp: number, dp: number) =>
  `${ETH},eth_type(0x0800),ipv4(src=${s},dst=${d},proto=17,tos=0,ttl=64,frag=no),udp(src=${sp},dst=${dp})`;
const icmp = (s: string, d: string, type: number) =>
  `${ETH},eth_type(0x0800),ipv4(src=${s},dst=${d},proto=1,tos=0,ttl=64,frag=no),icmp(type=${type},code=0)`;

Deno.test("a UDP packet without commit is +new+trk and leaves nothing behind", () => {
  const { ct, run } = tracker();
  assert.equal(run("ct", udp("10.0.0.1", "10.0.0.2", 1, 2)), CS_NEW | CS_TRACKED);
  assert.equal(ct.table.nConns, 0);
});

Deno.test("commit creates the connection; the reply is +est+rpl; the tuple goes in the metadata", () => {
  const { ct, run, md } = tracker();
  assert.equal(
    run("ct(commit,zone=5)", udp("10.0.0.1", "10.0.0.2", 1000, 53)),
    CS_NEW | CS_TRACKED,
  );
  assert.equal(ct.table.nConns, 1);
  assert.equal(md[F.ct_zone.off + 1], 5);
  assert.equal(md[F.ct_nw_proto.off], 17);
  assert.deepEqual([...md.subarray(F.ct_nw_src.off, F.ct_nw_src.off + 4)], [10, 0, 0, 1]);
  assert.equal((md[F.ct_tp_src.off] << 8) | md[F.ct_tp_src.off + 1], 1000);
  assert.equal(
    run("ct(zone=5)", udp("10.0.0.2", "10.0.0.1", 53, 1000)),
    CS_ESTABLISHED | CS_REPLY_DIR | CS_TRACKED,
  );
  // The reply's tuple is still the original direction's.
  assert.deepEqual([...md.subarray(F.ct_nw_src.off, F.ct_nw_src.off + 4)], [10, 0, 0, 1]);
  assert.equal(
    run("ct(zone=5)", udp("10.0.0.1", "10.0.0.2", 1000, 53)),
    CS_ESTABLISHED | CS_TRACKED,
  );
  // Another zone is another connection table.
  assert.equal(run("ct(zone=6)", udp("10.0.0.2", "10.0.0.1", 53, 1000)), CS_NEW | CS_TRACKED);
  assert.deepEqual(dumpConns(ct.table, null, false, 0), [
    "udp,orig=(src=10.0.0.1,dst=10.0.0.2,sport=1000,dport=53),reply=(src=10.0.0.2,dst=10.0.0.1,sport=53,dport=1000),zone=5",
  ]);
});

Deno.test("mark and label are set on the connection and seen by its later packets", () => {
  const { ct, run, md } = tracker();
  run("ct(commit,mark=0x12/0xff,label=0x1/0xf)", udp("10.0.0.1", "10.0.0.2", 1, 2));
  run("ct", udp("10.0.0.2", "10.0.0.1", 2, 1));
  assert.equal(md[F.ct_mark.off + 3], 0x12);
  assert.equal(md[F.ct_label.off + 15], 1);
  assert.match(dumpConns(ct.table, null, false, 0)[0], /,mark=18,labels=0x1$/);
});

Deno.test("ICMP echo: request new, reply established; other types cannot start a connection", () => {
  const { run } = tracker();
  assert.equal(run("ct(commit)", icmp("10.0.0.1", "10.0.0.2", 8)), CS_NEW | CS_TRACKED);
  assert.equal(
    run("ct", icmp("10.0.0.2", "10.0.0.1", 0)),
    CS_ESTABLISHED | CS_REPLY_DIR | CS_TRACKED,
  );
  assert.equal(run("ct(commit)", icmp("10.0.0.3", "10.0.0.4", 0)), CS_INVALID | CS_TRACKED);
});

Deno.test("malformed and non-IP packets are +inv+trk, never thrown", () => {
  const { ct, md } = tracker();
  const acts = encodeActions(parseOdpActions("ct(commit)"));
  for (const bytes of [new Uint8Array(0), new Uint8Array(10), new Uint8Array(60).fill(0xff)]) {
    md.fill(0);
    ct.execute(bytes, bytes.length, acts, ACT_HEADER_LEN, md, 0);
    assert.equal(md[F.ct_state.off], CS_INVALID | CS_TRACKED);
  }
  // A bad IPv4 header checksum.
  const pkt = new Uint8Array(2048);
  const len = parsePacketSpec(udp("10.0.0.1", "10.0.0.2", 1, 2), pkt);
  pkt[14 + 10] ^= 0xff;
  md.fill(0);
  ct.execute(pkt, len, acts, ACT_HEADER_LEN, md, 0);
  assert.equal(md[F.ct_state.off], CS_INVALID | CS_TRACKED);
  assert.equal(ct.table.nConns, 0);
});

Deno.test("mutated packets through ct(commit,nat) never throw and leave the table consistent", () => {
  const { ct, md } = tracker(256);
  const acts = encodeActions(
    parseOdpActions("ct(commit,nat(src=192.168.0.1-192.168.0.3:1000-1100))"),
  );
  const bases = [
    frame(hexOf(udp("10.0.0.1", "10.0.0.2", 1, 2))),
    frame(tcpHex("10.0.0.1", "10.0.0.2", 1, 2, "syn", 1, 0)),
    frame(
      hexIcmpError("10.0.0.2", "10.0.0.1", hexOf(udp("10.0.0.1", "10.0.0.2", 1, 2)).slice(28, 84)),
    ),
  ];
  let seed = 12345;
  const rnd = () => (seed = (Math.imul(seed, 1103515245) + 12345) >>> 0) / 2 ** 32;
  for (let i = 0; i < 3000; i++) {
    const b = bases[i % bases.length].slice();
    for (let j = 0, n = 1 + Math.floor(rnd() * 4); j < n; j++) {
      b[Math.floor(rnd() * b.length)] = Math.floor(rnd() * 256);
    }
    const len = Math.floor(rnd() * (b.length + 1));
    md.fill(0);
    ct.execute(b, len, acts, ACT_HEADER_LEN, md, i);
    assert.ok(md[F.ct_state.off] & CS_TRACKED);
  }
  assert.equal(liveConns(ct.table, null, 0).length, ct.table.nConns);
  const n = ct.table.nConns;
  assert.equal(flushConns(ct.table, null, null, null), n);
  assert.equal(ct.table.nConns, 0);
});

Deno.test("connections expire after their protocol's timeout, by the clock given", () => {
  const { ct, run } = tracker();
  run("ct(commit)", udp("10.0.0.1", "10.0.0.2", 1, 2), 1000);
  // udp first: 60 s.
  assert.equal(run("ct", udp("10.0.0.1", "10.0.0.2", 1, 2), 60_999), CS_NEW | CS_TRACKED);
  assert.equal(liveConns(ct.table, null, 60_999 + 60_000).length, 0);
  assert.equal(run("ct", udp("10.0.0.1", "10.0.0.2", 1, 2), 200_000), CS_NEW | CS_TRACKED);
  assert.equal(ct.table.nConns, 0);
});

Deno.test("maxconns: a commit past the limit tracks the packet but creates nothing", () => {
  const { ct, run } = tracker();
  ct.table.maxConns = 2;
  for (let i = 0; i < 4; i++) {
    assert.equal(run("ct(commit)", udp("10.0.0.1", "10.0.0.2", 100 + i, 2)), CS_NEW | CS_TRACKED);
  }
  assert.equal(ct.table.nConns, 2);
  // A full table (capacity) refuses the same way.
  const small = tracker(1);
  small.run("ct(commit)", udp("10.0.0.1", "10.0.0.2", 1, 2));
  small.run("ct(commit)", udp("10.0.0.1", "10.0.0.2", 3, 2));
  assert.equal(small.ct.table.nConns, 1);
});

Deno.test("flush by zone and by tuple removes only what matches", () => {
  const { ct, run } = tracker();
  run("ct(commit,zone=1)", udp("10.0.0.1", "10.0.0.2", 1, 2));
  run("ct(commit,zone=1)", udp("10.0.0.1", "10.0.0.2", 3, 2));
  run("ct(commit,zone=2)", udp("10.0.0.1", "10.0.0.2", 1, 2));
  const m = emptyTupleMatch();
  m.sport = 3;
  assert.equal(flushConns(ct.table, 2, m, null), 0);
  assert.equal(flushConns(ct.table, 1, m, null), 1);
  assert.equal(flushConns(ct.table, 1, null, null), 1);
  assert.equal(ct.table.nConns, 1);
  assert.equal(flushConns(ct.table, null, null, null), 1);
  // Slots are reused after flushing.
  for (let i = 0; i < 100; i++) {
    run("ct(commit)", udp("10.0.0.1", "10.0.0.2", 1000 + i, 2));
    flushConns(ct.table, null, null, null);
  }
  assert.equal(ct.table.nConns, 0);
});

Deno.test("SNAT rewrites the source, the reply is un-NATed, checksums stay right", () => {
  const { ct, run, pkt, len } = tracker();
  const st = run(
    "ct(commit,nat(src=192.168.1.1:4000-4001))",
    udp("10.0.0.1", "10.0.0.2", 1000, 53),
  );
  assert.equal(st, CS_NEW | CS_TRACKED | CS_SRC_NAT);
  assert.deepEqual([...pkt.subarray(26, 30)], [192, 168, 1, 1]);
  const sport = (pkt[34] << 8) | pkt[35];
  assert.ok(sport === 4000 || sport === 4001);
  assert.ok(validUdp(pkt, len()));
  assert.equal(
    dumpConns(ct.table, null, false, 0)[0],
    `udp,orig=(src=10.0.0.1,dst=10.0.0.2,sport=1000,dport=53),reply=(src=10.0.0.2,dst=192.168.1.1,sport=53,dport=${sport}),`
      .slice(0, -1),
  );
  // The reply comes back to the NAT address and is rewritten to the original source.
  const st2 = run("ct(nat)", udp("10.0.0.2", "192.168.1.1", 53, sport));
  assert.equal(st2, CS_ESTABLISHED | CS_REPLY_DIR | CS_TRACKED | CS_DST_NAT);
  assert.deepEqual([...pkt.subarray(30, 34)], [10, 0, 0, 1]);
  assert.equal((pkt[36] << 8) | pkt[37], 1000);
  assert.ok(validUdp(pkt, len()));
  // A second connection from another port gets the other NAT port.
  run("ct(commit,nat(src=192.168.1.1:4000-4001))", udp("10.0.0.1", "10.0.0.2", 1001, 53));
  assert.equal((pkt[34] << 8) | pkt[35], sport === 4000 ? 4001 : 4000);
  // And the range is then exhausted: no connection.
  run("ct(commit,nat(src=192.168.1.1:4000-4001))", udp("10.0.0.1", "10.0.0.2", 1002, 53));
  assert.equal(ct.table.nConns, 2);
});

Deno.test("DNAT of IPv6 rewrites the destination; the reply's source is restored", () => {
  const { run, pkt } = tracker();
  const spec = (s: string, d: string, sp: number, dp: number) =>
    `${ETH},eth_type(0x86dd),ipv6(src=${s},dst=${d},label=0,proto=17,tclass=0,hlimit=64,frag=no),udp(src=${sp},dst=${dp})`;
  assert.equal(
    run("ct(commit,nat(dst=[2001:db8::99]:8080))", spec("2001:db8::1", "2001:db8::2", 5000, 80)),
    CS_NEW | CS_TRACKED | CS_DST_NAT,
  );
  assert.equal(pkt[14 + 24 + 15], 0x99);
  assert.equal((pkt[56] << 8) | pkt[57], 8080);
  assert.equal(
    run("ct(nat)", spec("2001:db8::99", "2001:db8::1", 8080, 5000)),
    CS_ESTABLISHED | CS_REPLY_DIR | CS_TRACKED | CS_SRC_NAT,
  );
  assert.equal(pkt[14 + 8 + 15], 0x02);
  assert.equal((pkt[54] << 8) | pkt[55], 80);
});

Deno.test("an ICMP error about a tracked connection is related", () => {
  const { run } = tracker();
  run("ct(commit)", udp("10.0.0.1", "10.0.0.2", 1000, 53));
  // Port unreachable from 10.0.0.2 quoting the packet 10.0.0.1:1000 -> 10.0.0.2:53.
  const inner = hexOf(udp("10.0.0.1", "10.0.0.2", 1000, 53)).slice(28, 28 + 56);
  const spec = hexIcmpError("10.0.0.2", "10.0.0.1", inner);
  assert.equal(run("ct", spec), CS_RELATED | CS_REPLY_DIR | CS_TRACKED);
  // About nothing tracked: invalid.
  const { run: run2 } = tracker();
  assert.equal(run2("ct", spec), CS_INVALID | CS_TRACKED);
});

Deno.test("TCP: handshake to ESTABLISHED, FIN to closing states; bad flags and out-of-window are invalid", () => {
  const { ct, run } = tracker();
  const c2s = (flags: string, seq: number, ack: number) =>
    tcpHex("10.0.0.1", "10.0.0.2", 1000, 80, flags, seq, ack);
  const s2c = (flags: string, seq: number, ack: number) =>
    tcpHex("10.0.0.2", "10.0.0.1", 80, 1000, flags, seq, ack);
  assert.equal(run("ct(commit)", c2s("syn", 100, 0)), CS_NEW | CS_TRACKED);
  assert.equal(run("ct", s2c("syn|ack", 500, 101)), CS_ESTABLISHED | CS_REPLY_DIR | CS_TRACKED);
  assert.equal(run("ct", c2s("ack", 101, 501)), CS_ESTABLISHED | CS_TRACKED);
  const slot = liveConns(ct.table, null, 0)[0];
  const base = ct.table.base(slot) + S_TCP;
  assert.deepEqual(tcpPeerStates(ct.table.i32, base), [TcpState.ESTABLISHED, TcpState.ESTABLISHED]);
  assert.match(dumpConns(ct.table, null, false, 0)[0], /protoinfo=\(state=ESTABLISHED\)$/);
  // SYN with FIN: invalid flags.
  assert.equal(run("ct", c2s("syn|fin", 101, 0)), CS_INVALID | CS_TRACKED);
  // Acking far past what the peer sent.
  assert.equal(run("ct", c2s("ack", 101, 501 + 0x40000000)), CS_INVALID | CS_TRACKED);
  // A new SYN+ACK cannot start a connection.
  assert.equal(
    run("ct(commit)", tcpHex("10.0.0.5", "10.0.0.6", 1, 2, "syn|ack", 1, 1)),
    CS_INVALID | CS_TRACKED,
  );
  // Closing.
  run("ct", c2s("fin|ack", 101, 501));
  run("ct", s2c("ack", 501, 102));
  assert.equal(TCP_STATE_NAMES[Math.max(...tcpPeerStates(ct.table.i32, base))], "FIN_WAIT_2");
  run("ct", s2c("fin|ack", 501, 102));
  run("ct", c2s("ack", 102, 502));
  assert.match(dumpConns(ct.table, null, false, 0)[0], /state=TIME_WAIT/);
});

Deno.test("an ICMP error about a SNATed connection is un-NATed, the quoted packet too", () => {
  const { run, pkt, len } = tracker();
  run("ct(commit,nat(src=192.168.1.1:4000))", udp("10.0.0.1", "10.0.0.2", 1000, 53));
  // The server's port unreachable quotes the packet as it saw it: from 192.168.1.1:4000.
  const quoted = hexOf(udp("192.168.1.1", "10.0.0.2", 4000, 53)).slice(28, 28 + 56);
  const st = run("ct(nat)", hexIcmpError("10.0.0.2", "192.168.1.1", quoted));
  assert.equal(st, CS_RELATED | CS_REPLY_DIR | CS_TRACKED | CS_DST_NAT);
  assert.deepEqual([...pkt.subarray(30, 34)], [10, 0, 0, 1]); // outer dst
  assert.deepEqual([...pkt.subarray(42 + 12, 42 + 16)], [10, 0, 0, 1]); // inner src
  assert.equal((pkt[62] << 8) | pkt[63], 1000); // inner sport
  assert.equal(csum(pkt, 14, 20), 0);
  assert.equal(csum(pkt, 42, 20), 0);
  assert.equal(csum(pkt, 34, len() - 34), 0);
});

Deno.test("with TCP sequence checking off, an out-of-window packet passes", () => {
  const { ct, run } = tracker();
  const c2s = (flags: string, seq: number, ack: number) =>
    tcpHex("10.0.0.1", "10.0.0.2", 1000, 80, flags, seq, ack);
  const s2c = (flags: string, seq: number, ack: number) =>
    tcpHex("10.0.0.2", "10.0.0.1", 80, 1000, flags, seq, ack);
  run("ct(commit)", c2s("syn", 100, 0));
  run("ct", s2c("syn|ack", 500, 101));
  assert.equal(run("ct", c2s("ack", 101, 501 + 0x40000000)), CS_INVALID | CS_TRACKED);
  ct.table.tcpSeqChk = false;
  assert.equal(run("ct", c2s("ack", 101, 501 + 0x40000000)), CS_ESTABLISHED | CS_TRACKED);
});

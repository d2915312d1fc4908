/**
 * Userspace conntrack through the daemon, with datapath flows written by
 * hand (dpctl/add-flow): `ct(commit,zone=1),recirc(0x1)` for the first
 * pass, `recirc_id(0x1),ct_state(...)` flows for the second, packets from
 * netdev-dummy/receive, then dpctl/dump-conntrack and friends, as OVS
 * 3.1 prints them for the same steps.
 */
import assert from "node:assert/strict";
import { pollUntilAsync } from "../poll.ts";
import { ok, TestDaemon } from "./_run.ts";

const UDP_1_TO_2 =
  "in_port(1),eth(src=50:54:00:00:00:01,dst=50:54:00:00:00:02),eth_type(0x0800),ipv4(src=10.0.0.1,dst=10.0.0.2,proto=17,tos=0,ttl=64,frag=no),udp(src=1234,dst=53)";
const UDP_2_TO_1 =
  "in_port(2),eth(src=50:54:00:00:00:02,dst=50:54:00:00:00:01),eth_type(0x0800),ipv4(src=10.0.0.2,dst=10.0.0.1,proto=17,tos=0,ttl=64,frag=no),udp(src=53,dst=1234)";
const BASE = "packet_type(ns=0,id=0),eth_type(0x0800)";

/** Waits until the PMD has taken `n` packets in (netdev-dummy/receive only queues them). */
async function received(d: TestDaemon, n: number): Promise<void> {
  await pollUntilAsync(
    async () => (await ok(d, ["dpif-netdev/pmd-stats-show"])).includes(`packets received: ${n}\n`),
    `${n} packets received`,
  );
}

/** Hand-written datapath flows stay: the revalidators would delete flows they have no ukey for. */
async function start(): Promise<TestDaemon> {
  const d = await TestDaemon.start(["--datapath-type", "dummy"]);
  await ok(d, ["revalidator/pause"]);
  return d;
}

async function flowPackets(d: TestDaemon, match: string): Promise<number> {
  const dump = await ok(d, ["dpctl/dump-flows"]);
  const line = dump.split("\n").find((l) => l.includes(match));
  assert.ok(line, `no flow with ${match} in:\n${dump}`);
  return Number(/packets:(\d+)/.exec(line!)![1]);
}

Deno.test("ct(commit) and recirc: the reply is +est+rpl, dump-conntrack lists the connection", async () => {
  const d = await start();
  try {
    await ok(d, ["time/stop"]);
    const add = (k: string, a: string) => ok(d, ["dpctl/add-flow", k, a]);
    await add(
      `recirc_id(0),in_port(1),${BASE},ipv4(proto=17,frag=no),udp()`,
      "ct(commit,zone=1),recirc(0x1)",
    );
    await add(`recirc_id(0x1),in_port(1),ct_state(+new+trk),${BASE},ipv4(frag=no)`, "2");
    await add(`recirc_id(0x1),in_port(1),ct_state(+est+trk),${BASE},ipv4(frag=no)`, "2");
    await add(
      `recirc_id(0),in_port(2),${BASE},ipv4(proto=17,frag=no),udp()`,
      "ct(zone=1),recirc(0x2)",
    );
    await add(`recirc_id(0x2),in_port(2),ct_state(+est+rpl+trk),${BASE},ipv4(frag=no)`, "1");
    await add(`recirc_id(0x2),in_port(2),ct_state(+new+trk),${BASE},ipv4(frag=no)`, "drop");

    await ok(d, ["netdev-dummy/receive", "p1", UDP_1_TO_2]);
    await received(d, 1);
    assert.equal(
      await ok(d, ["dpctl/dump-conntrack"]),
      "udp,orig=(src=10.0.0.1,dst=10.0.0.2,sport=1234,dport=53),reply=(src=10.0.0.2,dst=10.0.0.1,sport=53,dport=1234),zone=1\n",
    );
    assert.equal(await ok(d, ["dpctl/ct-get-nconns"]), "1\n");
    await ok(d, ["netdev-dummy/receive", "p2", UDP_2_TO_1]);
    await ok(d, ["netdev-dummy/receive", "p1", UDP_1_TO_2]);
    await received(d, 3);
    assert.equal(await flowPackets(d, "ct_state(+new+trk),recirc_id(0x1),in_port(1)"), 1);
    assert.equal(await flowPackets(d, "ct_state(+est+rpl+trk),recirc_id(0x2),in_port(2)"), 1);
    assert.equal(await flowPackets(d, "ct_state(+est+trk),recirc_id(0x1),in_port(1)"), 1);
    const stats = await ok(d, ["dpif-netdev/pmd-stats-show"]);
    assert.match(
      stats,
      /packets received: 3\n {2}packet recirculations: 3\n {2}avg\. datapath passes per packet: 2\.00\n/,
    );
    // -s adds the seconds left: udp_multiple (30 s) once both sides spoke.
    assert.match(await ok(d, ["dpctl/dump-conntrack", "-s", "zone=1"]), /,zone=1,timeout=30\n$/);
    assert.equal(await ok(d, ["dpctl/dump-conntrack", "zone=2"]), "");
    assert.equal(
      await ok(d, ["dpctl/ct-stats-show"]),
      "Connections Stats:\n    Total: 1\n  UDP: 1\n",
    );

    // Expiry follows the daemon's clock.
    await ok(d, ["time/warp", "31000"]);
    assert.equal(await ok(d, ["dpctl/dump-conntrack"]), "");
    assert.equal(await ok(d, ["dpctl/ct-get-nconns"]), "0\n");
  } finally {
    await d.stop();
  }
});

Deno.test("maxconns limits commits; flush-conntrack by zone and by tuple", async () => {
  const d = await start();
  try {
    assert.equal(await ok(d, ["dpctl/ct-get-maxconns"]), "3000000\n");
    assert.equal(await ok(d, ["dpctl/ct-set-maxconns", "1"]), "setting maxconns successful\n");
    assert.equal(await ok(d, ["dpctl/ct-get-maxconns"]), "1\n");
    const bad = await d.run(["dpctl/ct-set-maxconns", "lots"]);
    assert.notEqual(bad.code, 0);
    assert.match(bad.stderr, /maxconns missing or malformed/);
    await ok(d, [
      "dpctl/add-flow",
      `recirc_id(0),in_port(1),${BASE},ipv4(proto=17,frag=no),udp()`,
      "ct(commit,zone=3),2",
    ]);
    await ok(d, ["netdev-dummy/receive", "p1", UDP_1_TO_2]);
    await ok(d, ["netdev-dummy/receive", "p1", UDP_1_TO_2.replace("src=1234", "src=1235")]);
    await received(d, 2);
    assert.equal(await ok(d, ["dpctl/ct-get-nconns"]), "1\n");
    await ok(d, ["dpctl/ct-set-maxconns", "10"]);
    await ok(d, ["netdev-dummy/receive", "p1", UDP_1_TO_2.replace("src=1234", "src=1235")]);
    await received(d, 3);
    assert.equal(await ok(d, ["dpctl/ct-get-nconns"]), "2\n");
    await ok(d, ["dpctl/flush-conntrack", "zone=3", "ct_nw_proto=17,ct_tp_src=1235"]);
    assert.match(await ok(d, ["dpctl/dump-conntrack"]), /sport=1234,dport=53\),reply/);
    assert.equal(await ok(d, ["dpctl/ct-get-nconns"]), "1\n");
    await ok(d, ["dpctl/flush-conntrack", "zone=4"]);
    assert.equal(await ok(d, ["dpctl/ct-get-nconns"]), "1\n");
    await ok(d, ["dpctl/flush-conntrack"]);
    assert.equal(await ok(d, ["dpctl/ct-get-nconns"]), "0\n");
    assert.equal(await ok(d, ["dpctl/ct-get-tcp-seq-chk"]), "TCP sequence checking: enabled\n");
    assert.equal(
      await ok(d, ["dpctl/ct-disable-tcp-seq-chk"]),
      "disabling TCP sequence checking successful\n",
    );
    assert.equal(await ok(d, ["dpctl/ct-get-tcp-seq-chk"]), "TCP sequence checking: disabled\n");
    const badTuple = await d.run(["dpctl/flush-conntrack", "ct_nw_src="]);
    assert.notEqual(badTuple.code, 0);
    assert.match(badTuple.stderr, /field ct_nw_src missing value/);
  } finally {
    await d.stop();
  }
});

/*
 * The same packets as an OVS 3.1 run (ovs-oracle.sh, time stopped) with
 * `ip,in_port=1 actions=ct(commit,zone=1,table=1)`, `ipv6,in_port=1
 * actions=ct(commit,nat(src=[fe80::99]:4000),table=1)` and
 * `ip,in_port=2 actions=ct(zone=1,table=1)`: the datapath flows below are
 * the ones that translation gave there.
 */
const OVS_DUMP_S = [
  "udp,orig=(src=10.0.0.1,dst=10.0.0.2,sport=1234,dport=53),reply=(src=10.0.0.2,dst=10.0.0.1,sport=53,dport=1234),zone=1,timeout=30",
  "tcp,orig=(src=10.0.0.1,dst=10.0.0.3,sport=1000,dport=80),reply=(src=10.0.0.3,dst=10.0.0.1,sport=80,dport=1000),zone=1,timeout=30,protoinfo=(state=SYN_SENT)",
  "icmp,orig=(src=10.0.0.1,dst=10.0.0.4,id=0,type=8,code=0),reply=(src=10.0.0.4,dst=10.0.0.1,id=0,type=0,code=0),zone=1,timeout=60",
  "udp,orig=(src=fe80::1,dst=fe80::2,sport=5,dport=6),reply=(src=fe80::2,dst=fe80::99,sport=6,dport=4000),timeout=60",
].join("\n") + "\n";

const OVS_STATS_M = "Connections Stats:\n    Total: 4\n  TCP: 1\n    Conn per TCP states:\n" +
  "\t  [SYN_SENT]=1\n  UDP: 2\n  ICMP: 1\n";

Deno.test("TCP, ICMP and IPv6 SNAT connections print as OVS 3.1 prints them", async () => {
  const d = await start();
  try {
    await ok(d, ["time/stop"]);
    const add = (k: string, a: string) => ok(d, ["dpctl/add-flow", k, a]);
    const v6 = "packet_type(ns=0,id=0),eth_type(0x86dd)";
    await add(`recirc_id(0),in_port(1),${BASE},ipv4(frag=no)`, "ct(commit,zone=1),recirc(0x1)");
    await add(`recirc_id(0),in_port(2),${BASE},ipv4(frag=no)`, "ct(zone=1),recirc(0x2)");
    await add(
      `recirc_id(0),in_port(1),${v6},ipv6(frag=no)`,
      "ct(commit,nat(src=[fe80::99]:4000)),recirc(0x1)",
    );
    const eth = "eth(src=50:54:00:00:00:01,dst=50:54:00:00:00:02)";
    for (
      const p of [
        UDP_1_TO_2,
        `in_port(1),${eth},eth_type(0x0800),ipv4(src=10.0.0.1,dst=10.0.0.3,proto=6,tos=0,ttl=64,frag=no),tcp(src=1000,dst=80),tcp_flags(syn)`,
        `in_port(1),${eth},eth_type(0x0800),ipv4(src=10.0.0.1,dst=10.0.0.4,proto=1,tos=0,ttl=64,frag=no),icmp(type=8,code=0)`,
        `in_port(1),${eth},eth_type(0x86dd),ipv6(src=fe80::1,dst=fe80::2,label=0,proto=17,tclass=0,hlimit=64,frag=no),udp(src=5,dst=6)`,
      ]
    ) await ok(d, ["netdev-dummy/receive", "p1", p]);
    await ok(d, ["netdev-dummy/receive", "p2", UDP_2_TO_1]);
    await received(d, 5);
    assert.equal(await ok(d, ["dpctl/dump-conntrack", "-s"]), OVS_DUMP_S);
    assert.equal(await ok(d, ["dpctl/ct-stats-show", "-m"]), OVS_STATS_M);
    assert.equal(await ok(d, ["dpctl/ct-get-nconns"]), "4\n");
    await ok(d, ["dpctl/flush-conntrack", "zone=1", "ct_nw_proto=6"]);
    assert.equal(
      await ok(d, ["dpctl/dump-conntrack", "zone=1"]),
      OVS_DUMP_S.split("\n").filter((l) => l.includes("zone=1") && !l.startsWith("tcp"))
        .map((l) => l.replace(/,timeout=\d+/, "") + "\n").join(""),
    );
  } finally {
    await d.stop();
  }
});

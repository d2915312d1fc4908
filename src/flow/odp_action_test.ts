import assert from "node:assert/strict";
import { MAX_ODP_NESTED, parseOdpActions } from "./odp_action_parse.ts";
import { formatOdpActions } from "./odp_action_format.ts";
import { decodeActions, encodeActions } from "./odp_action_codec.ts";
import { OdpParseError } from "./_scan.ts";

const NAMES = new Map([["p1", 1], ["p2", 2], ["br0", 100]]);
const NUMBERS = new Map([[1, "p1"], [2, "p2"], [100, "br0"]]);

const LISTS = [
  "drop",
  "2",
  "2,3,100",
  "set(eth(src=50:54:00:00:00:05,dst=50:54:00:00:00:07)),2",
  "set(eth(dst=50:54:00:00:00:07)),2",
  "set(ipv4(src=10.0.0.1,ttl=63)),set(tcp(dst=8080)),3",
  "set(ipv4(src=10.0.0.1,dst=10.0.0.2,proto=6,tos=0,ttl=64,frag=no))",
  "set(ipv4(src=10.0.0.0/255.255.255.0))",
  "set(ipv6(src=2001:db8::1,hlimit=63))",
  "set(skb_priority(0x5))",
  "set(udp(src=53,dst=53))",
  "set(icmp(type=8,code=0))",
  "set(arp(sip=1.2.3.4,tip=5.6.7.8,op=2,sha=00:00:00:00:00:01,tha=00:00:00:00:00:02))",
  "set(nd(target=fe80::1))",
  "set(mpls(label=100,tc=0,ttl=63,bos=1))",
  "push_vlan(vid=10,pcp=3),2",
  "push_vlan(tpid=0x88a8,vid=100,pcp=0),push_vlan(vid=10,pcp=0),2",
  "pop_vlan,1",
  "recirc(0x1)",
  "recirc(0)",
  "hash(l4(0)),recirc(0x2)",
  "hash(sym_l4(7))",
  "trunc(100),2",
  "userspace(pid=0,slow_path(action))",
  "userspace(pid=4294967295,slow_path(lacp,match))",
  "userspace(pid=3,controller(reason=1,dont_send=0,continuation=0,recirc_id=1,rule_cookie=0x1234,controller_id=0,max_len=65535))",
  "userspace(pid=1,userdata(0102030405))",
  "userspace(pid=1,userdata(00),actions)",
  "userspace(pid=2,sFlow(vid=10,pcp=3,output=2))",
  "userspace(pid=2,ipfix(output_port=4))",
  "userspace(pid=2,flow_sample(probability=65535,collector_set_id=1,obs_domain_id=2,obs_point_id=3,output_port=5,ingress))",
  "userspace(pid=2,flow_sample(probability=1,collector_set_id=0,obs_domain_id=0,obs_point_id=0,output_port=4294967295))",
  "ct(commit,zone=1),recirc(0x3)",
  "clone(set(ipv4(dst=1.1.1.1)),2),3",
  "clone(ct(commit),2),3",
  "clone(ct(commit,nat(src=10.0.0.100)),recirc(0x1)),3",
  "clone(clone(ct(commit,zone=5),2),1),2",
  "clone(ct(commit),3),clone(set(ipv4(ttl=9)),2)",
  "clone(check_pkt_len(size=100,gt(1),le(clone(2))))",
  "sample(sample=50.0%,actions(2))",
  "ct_clear,2",
  "check_pkt_len(size=100,gt(drop),le(drop))",
  "check_pkt_len(size=200,gt(set(ipv4(ttl=63)),3),le(2,check_pkt_len(size=64,gt(1),le(drop))))",
  "add_mpls(label=0,tc=0,ttl=0,bos=0,eth_type=0x8847)",
];

Deno.test("actions print back exactly as they were written", () => {
  for (const l of LISTS) assert.equal(formatOdpActions(parseOdpActions(l)), l);
});

Deno.test("ports print by name when names are given, by number otherwise", () => {
  const a = parseOdpActions("p1,2,br0", NAMES);
  assert.deepEqual(a, [{ type: "output", port: 1 }, { type: "output", port: 2 }, {
    type: "output",
    port: 100,
  }]);
  assert.equal(formatOdpActions(a, NUMBERS), "p1,p2,br0");
  assert.equal(formatOdpActions(a), "1,2,100");
});

Deno.test("a fully specified set is a plain set, a partial one is masked", () => {
  assert.equal(
    parseOdpActions("set(eth(src=50:54:00:00:00:05,dst=50:54:00:00:00:07))")[0].type,
    "set",
  );
  assert.equal(parseOdpActions("set(eth(dst=50:54:00:00:00:07))")[0].type, "set_masked");
  assert.equal(
    parseOdpActions("set(ipv4(src=1.1.1.1,dst=2.2.2.2,proto=6,tos=0,ttl=64,frag=no))")[0].type,
    "set",
  );
});

Deno.test("the binary encoding decodes to the same actions", () => {
  for (const l of LISTS) {
    const actions = parseOdpActions(l);
    const bytes = encodeActions(actions);
    assert.equal(formatOdpActions(decodeActions(bytes)), l);
  }
  assert.equal(encodeActions([]).length, 0);
  assert.equal(encodeActions([{ type: "output", port: 2 }]).length, 7);
});

Deno.test("clone(...) nests its actions in its payload; an empty one is a bare header", () => {
  const [clone] = parseOdpActions("clone(ct(commit),2)");
  assert.equal(clone.type, "clone");
  assert.deepEqual(clone.type === "clone" && clone.actions.map((a) => a.type), ["ct", "output"]);
  const bytes = encodeActions([clone]);
  // The clone's header, then the ct and output records as a list of their own.
  assert.equal((bytes[1] << 8) | bytes[2], bytes.length - 3);
  assert.equal(formatOdpActions(decodeActions(bytes.subarray(3))), "ct(commit),2");
  assert.equal(encodeActions(parseOdpActions("clone()")).length, 3);
  assert.equal(formatOdpActions(parseOdpActions("clone()")), "clone(drop)");
  // As in OVS, what prints as clone(drop) is written clone().
  assert.throws(() => parseOdpActions("clone(drop)"), OdpParseError);
});

Deno.test("actions nest at most MAX_ODP_NESTED deep, as OVS parses them", () => {
  const nest = (n: number) => "clone(".repeat(n) + "1" + ")".repeat(n);
  assert.equal(
    formatOdpActions(parseOdpActions(nest(MAX_ODP_NESTED - 2))),
    nest(MAX_ODP_NESTED - 2),
  );
  assert.throws(
    () => parseOdpActions(nest(MAX_ODP_NESTED - 1)),
    (e: unknown) => e instanceof OdpParseError && /nested too deeply/.test(e.message),
  );
});

Deno.test("corrupt encodings are refused, not misread", () => {
  assert.throws(() => decodeActions(new Uint8Array([1, 0, 4, 0, 0])), RangeError);
  assert.throws(() => decodeActions(new Uint8Array([99, 0, 0])), RangeError);
  assert.throws(() => decodeActions(new Uint8Array([6, 0, 1, 0])), RangeError);
});

Deno.test("unknown actions and bad arguments are named in the error", () => {
  for (
    const [t, token] of [["2,frob", "frob"], ["push_vlan(vid=5000)", "vid=5000"], [
      "set(ct_state(0x1))",
      "ct_state(0x1)",
    ], ["userspace(pid=x)", "userspace(pid=x)"]]
  ) {
    assert.throws(
      () => parseOdpActions(t),
      (e: unknown) => e instanceof OdpParseError && e.token === token,
      t,
    );
  }
});

Deno.test("a masked set of the ND extensions survives the binary encoding and prints as OVS's", () => {
  const key = new Uint32Array(82), mask = new Uint32Array(82);
  new Uint8Array(key.buffer).fill(0x53);
  new Uint8Array(mask.buffer).fill(0x7f);
  const list = [{ type: "set_masked" as const, attr: "nd_ext" as const, key, mask }];
  const text = "set(nd_ext(nd_reserved=0x53535353/0x7f7f7f7f,nd_options_type=83/0x7f))";
  assert.equal(formatOdpActions(list), text);
  assert.equal(formatOdpActions(decodeActions(encodeActions(list))), text);
});

const CT_LISTS = [
  "ct",
  "ct(commit)",
  "ct(force_commit)",
  "ct(commit,zone=5,mark=0x1/0xff,label=0x10/0xf0)",
  "ct(commit,mark=0/0xff)",
  "ct(commit,mark=0x5/0xffffffff)",
  "ct(commit,label=0x123456789abcdef0011223344)",
  "ct(zone=1,helper=ftp)",
  "ct(commit,timeout=tp1)",
  "ct(nat)",
  "ct(commit,nat(src=10.0.0.1))",
  "ct(commit,nat(src=10.0.0.1-10.0.0.9:1000-2000,random))",
  "ct(commit,nat(dst=10.0.0.1:80,persistent,hash))",
  "ct(commit,nat(dst=fe80::1-fe80::9))",
  "ct(commit,nat(dst=[fe80::1]-[fe80::9]:80-90))",
  "ct(commit,nat(src))",
  "ct_clear",
  "ct(commit,zone=1),recirc(0x3)",
];

Deno.test("ct actions print back as OVS's format_odp_conntrack_action does", () => {
  for (const l of CT_LISTS) {
    assert.equal(formatOdpActions(parseOdpActions(l)), l);
    assert.equal(formatOdpActions(decodeActions(encodeActions(parseOdpActions(l)))), l);
  }
});

Deno.test("ct action text normalises as the netlink form does", () => {
  const cases: Array<[string, string]> = [
    ["ct(zone=0)", "ct"],
    ["ct(mark=5)", "ct(mark=0x5/0xffffffff)"],
    ["ct(mark=5/0)", "ct"],
    ["ct(label=0x1/0)", "ct"],
    ["ct(commit,nat(src=10.0.0.1-10.0.0.1:5-5))", "ct(commit,nat(src=10.0.0.1:5))"],
    ["ct(commit,nat(src,random))", "ct(commit,nat(src))"],
    ["ct(nat())", "ct(nat)"],
    ["ct(commit,nat(dst=[fe80::1]))", "ct(commit,nat(dst=fe80::1))"],
    // As OVS 3.1's dpctl/dump-flows printed these dpctl/add-flow actions.
    ["ct(mark=5,nat)", "ct(mark=0x5/0xffffffff,nat)"],
    ["ct(nat(src=10.1.1.1:5-5,random))", "ct(nat(src=10.1.1.1:5,random))"],
    [
      "ct(commit,nat(src=10.1.1.1-10.1.1.9,persistent))",
      "ct(commit,nat(src=10.1.1.1-10.1.1.9,persistent))",
    ],
    ["ct(commit,nat(dst=10.0.0.1:80-90,hash))", "ct(commit,nat(dst=10.0.0.1:80-90,hash))"],
    [
      "ct(commit,nat(dst=[fe80::9]-[fe80::a]:80-90,random))",
      "ct(commit,nat(dst=[fe80::9]-[fe80::a]:80-90,random))",
    ],
    ["ct(commit,timeout=abc)", "ct(commit,timeout=abc)"],
    ["ct(force_commit)", "ct(force_commit)"],
    ["ct(commit),ct_clear", "ct(commit),ct_clear"],
  ];
  for (const [i, o] of cases) assert.equal(formatOdpActions(parseOdpActions(i)), o);
});

Deno.test("bad ct actions are refused, naming the bad part", () => {
  for (
    const bad of [
      "ct(commit,force_commit)",
      "ct(zone=70000)",
      "ct(zone=0x1)",
      "ct(mark=zz)",
      "ct(bogus)",
      "ct(nat(src=10.0.0.9-10.0.0.1))",
      "ct(nat(src=10.0.0.1:9-1))",
      "ct(nat(src,dst))",
      "ct(nat(src=10.0.0.1,hash,random))",
      "ct(nat(src=1.2.3))",
      "ct(helper=abcdefghijklmnop)",
    ]
  ) assert.throws(() => parseOdpActions(bad), OdpParseError, bad);
});

/**
 * ct(), nat and ct_clear, and the ct_* match fields, against what
 * `ovs-ofctl parse-flow` (OVS 3.1) printed for the same lines: the
 * flow-mod as OpenFlow 1.0 with NXM carries it, or ovs-ofctl's error.
 */
import assert from "node:assert/strict";
import {
  actionsOverWire,
  formatActions,
  formatMatch,
  OFP10_VERSION,
  parseFlowModLine,
} from "./mod.ts";

const ORACLE: ReadonlyArray<readonly [string, string]> = [
  [
    "ip,actions=ct(commit,zone=5,table=3,nat(src=10.0.0.1-10.0.0.5:100-200,random),exec(set_field:1->ct_mark,set_field:0x5/0xff->ct_label))",
    "ip actions=ct(commit,table=3,zone=5,nat(src=10.0.0.1-10.0.0.5:100-200,random),exec(load:0x1->NXM_NX_CT_MARK[],load:0x5->NXM_NX_CT_LABEL[0..7]))",
  ],
  [
    "tcp,actions=ct(commit,alg=ftp),ct(table=1,zone=65535),ct_clear,ct(nat),ct(commit,nat(dst=10.0.0.1:80,persistent,hash),exec(load:1->NXM_NX_CT_MARK[],set_field:0x1/0x1->ct_label))",
    "tcp actions=ct(commit,alg=ftp),ct(table=1,zone=65535),ct_clear,ct(nat),ct(commit,nat(dst=10.0.0.1:80,persistent,hash),exec(load:0x1->NXM_NX_CT_MARK[],load:0x1->NXM_NX_CT_LABEL[0]))",
  ],
  [
    "ip,actions=ct(commit,exec(move:reg0[]->ct_mark[]))",
    "ip actions=ct(commit,exec(move:NXM_NX_REG0[]->NXM_NX_CT_MARK[]))",
  ],
  ["ip,actions=ct(zone=reg0[0..15],table=2)", "ip actions=ct(table=2,zone=NXM_NX_REG0[0..15])"],
  ["ip,actions=ct(zone=0)", "ip actions=ct()"],
  [
    "ipv6,actions=ct(commit,nat(dst=[fe80::1]:80))",
    "ipv6 actions=ct(commit,nat(dst=[fe80::1]:80))",
  ],
  [
    "ipv6,actions=ct(commit,nat(dst=fe80::1-fe80::5))",
    "ipv6 actions=ct(commit,nat(dst=fe80::1-fe80::5))",
  ],
  [
    "ipv6,actions=ct(commit,nat(src=[fe80::1]-[fe80::5]:80-90))",
    "ipv6 actions=ct(commit,nat(src=[fe80::1]-[fe80::5]:80-90))",
  ],
  ["ip,actions=ct", "ip actions=ct()"],
  ["ip,actions=ct_clear(foo)", "ip actions=ct_clear"],
  ["ip,actions=ct(table=1,table=2)", "ip actions=ct(table=2)"],
  ["ip,actions=ct(exec(nat))", "ip actions=ct(nat)"],
  ["ip,actions=ct(force)", 'ERR "force" flag requires "commit" flag.'],
  ["ip,actions=ct(exec(output:1))", "ERR ct action doesn't support nested action output"],
  [
    "ip,actions=ct(exec(set_field:10.0.0.1->ip_src))",
    "ERR ct action doesn't support nested modification of ip_src",
  ],
  ["ip,actions=ct(exec(ct_clear))", "ERR ct action doesn't support nested action ct_clear"],
  ["ip,actions=ct(table=255)", "ERR invalid table 0xff"],
  ["ip,actions=ct(table=foo)", "ERR unknown table foo"],
  ["ip,actions=ct(foo)", 'ERR invalid argument to "ct" action: `foo\''],
  ["ip,actions=ct(nat(src=1.1.1.1,dst=2.2.2.2))", 'ERR May only specify one of "src" or "dst".'],
  ["ip,actions=ct(nat(random))", 'ERR Flags allowed only with "src" or "dst".'],
  ["ip,actions=ct(nat(src=1.1.1.5-1.1.1.1))", 'ERR invalid nat range "1.1.1.5-1.1.1.1"'],
  ["ip,actions=ct(nat(src=1.1.1.1x))", 'ERR garbage (x) after nat range "1.1.1.1x" (pos: 7)'],
  ["ip,actions=ct(nat(src=10.0.0.1:5-1))", 'ERR invalid nat range "10.0.0.1:5-1"'],
  ["ip,actions=ct(nat(foo))", 'ERR invalid key "foo" in "nat" argument'],
  ["ip,actions=nat", 'ERR Cannot have NAT action outside of "ct" action'],
  ["ip,actions=set_field:1->ct_mark", "ERR cannot set CT fields outside of ct action"],
  [
    "actions=ct(commit)",
    "ERR actions are invalid with specified match (OFPBAC_MATCH_INCONSISTENT)",
  ],
  [
    "ip,actions=ct(alg=tftp)",
    "ERR actions are invalid with specified match (OFPBAC_MATCH_INCONSISTENT)",
  ],
  ["ip,actions=ct(alg=foo)", 'ERR invalid conntrack helper "foo"'],
  ["ip,actions=ct(zone=70000)", "ERR 70000: unknown field `70000'"],
  ["ip,actions=ct(zone=foo)", "ERR foo: unknown field `foo'"],
  ["ip,actions=ct(nat(src=1.1.1.1,hash,random))", 'ERR Both "hash" and "random" are not allowed.'],
  [
    "ip,ct_state=+inv+trk,actions=ct(commit)",
    "ERR actions are invalid with specified match (OFPBAC_MATCH_INCONSISTENT)",
  ],
  [
    "ip,actions=ct(nat(src=fe80::1))",
    "ERR actions are invalid with specified match (OFPBAC_MATCH_INCONSISTENT)",
  ],
  ["ct_state=+trk+new-est,actions=drop", "ct_state=+new-est+trk actions=drop"],
  ["ct_state=trk|new,ip,actions=drop", "ct_state=new|trk,ip actions=drop"],
  ["ct_state=0x21/0x21,actions=drop", "ct_state=+new+trk actions=drop"],
  ["ct_state=+foo,actions=drop", "ERR foo: unknown ct_state flag(s)"],
  [
    "ct_label=5,ct_mark=1,ct_zone=0x10,actions=drop",
    "ct_zone=16,ct_mark=0x1,ct_label=0x5 actions=drop",
  ],
  ["ct_state=-trk,actions=drop", "ct_state=-trk actions=drop"],
  ["ct_state=0,actions=drop", "ct_state=0 actions=drop"],
  ["ct_tp_src=80,actions=drop", "actions=drop"],
  ["ip,ct_tp_src=80,actions=drop", "ip actions=drop"],
  [
    "ct_state=+est+trk,ip,ct_nw_src=1.2.3.4/24,ct_nw_proto=6,ct_tp_src=80,ct_tp_dst=0x10/0xf0,ct_zone=5,ct_mark=0x5/0xf,ct_label=0x1/0xff,actions=drop",
    "ct_state=+est+trk,ct_zone=5,ct_mark=0x5/0xf,ct_label=0x1/0xff,ct_nw_src=1.2.3.0/24,ct_nw_proto=6,ct_tp_src=80,ct_tp_dst=0x10/0xf0,ip actions=drop",
  ],
  [
    "ct_state=+est+trk,ipv6,ct_ipv6_src=::1,ct_ipv6_dst=fe80::/64,actions=drop",
    "ct_state=+est+trk,ct_ipv6_src=::1,ct_ipv6_dst=fe80::/64,ipv6 actions=drop",
  ],
  [
    "ct_state=+trk,ct_mark=0x100,ct_label=0x1000000000000000000000000000000f/0xffffffff00000000ffffffffffffffff,actions=drop",
    "ct_state=+trk,ct_mark=0x100,ct_label=0x1000000000000000000000000000000f/0xffffffff00000000ffffffffffffffff actions=drop",
  ],
  ["ip,actions=ct(commit,exec(set_field:1->ct_state))", "ERR ct_state is read-only"],
];

function parsed(line: string): string {
  try {
    const fm = parseFlowModLine(line);
    const match = formatMatch(fm.match, fm.priority);
    const actions = formatActions(actionsOverWire(fm.actions ?? [], OFP10_VERSION, fm.match));
    return (match ? `${match} ` : "") + `actions=${actions}`;
  } catch (e) {
    return `ERR ${(e as Error).message}`;
  }
}

Deno.test("ct actions and ct_* matches parse and print as ovs-ofctl does", () => {
  for (const [line, want] of ORACLE) assert.equal(parsed(line), want, line);
});

Deno.test("ct() that a switch would refuse to decode is refused when parsed", () => {
  assert.match(parsed("ip,actions=ct(zone=reg0[0..7])"), /^ERR zone n_bits 8 .*OFPBAC_BAD_SET_LEN/);
  assert.match(
    parsed("ip,actions=ct(exec(set_field:1->ct_mark))"),
    /^ERR CT action requires commit/,
  );
  assert.match(parsed("ip,actions=ct(nat(src=10.0.0.1))"), /^ERR CT action requires commit/);
});

Deno.test("the original-direction ct fields need a ct_state that means a valid connection", () => {
  assert.match(
    parsed("ip,ct_nw_src=1.2.3.4,actions=drop"),
    /^ERR .*OFPBMC_BAD_PREREQ \(ct_nw_src /,
  );
  assert.match(parsed("ct_state=+trk,ipv6,ct_ipv6_dst=::1,actions=drop"), /OFPBMC_BAD_PREREQ/);
  assert.equal(
    parsed("ct_state=+trk-inv,ip,ct_nw_dst=1.2.3.4,actions=drop"),
    "ct_state=-inv+trk,ct_nw_dst=1.2.3.4,ip actions=drop",
  );
  assert.equal(
    parsed("ct_state=+rpl+trk,ip,ct_nw_proto=17,actions=drop"),
    "ct_state=+rpl+trk,ct_nw_proto=17,ip actions=drop",
  );
});

/**
 * One test per OpenFlow action: the datapath actions it produces and the
 * wildcard bits it sets, as OVS 3.1 does for the same rule and packet.
 */
import assert from "node:assert/strict";
import { F, formatOdpAction } from "../flow/mod.ts";
import { maskedFields, maskOf, xlateText } from "../../tests/support/xlate/replay.ts";
import { creditedRules } from "../../tests/support/xlate/xcache_rules.ts";

const TCP = "in_port=1,tcp,dl_src=50:54:00:00:00:01,dl_dst=50:54:00:00:00:02," +
  "nw_src=10.0.0.1,nw_dst=10.0.0.2,nw_ttl=64,tp_src=100,tp_dst=200";
const ALWAYS = ["in_port", "recirc_id", "packet_type", "dl_type", "nw_frag"];

Deno.test("output:N sends to the port's datapath number and looks at nothing else", () => {
  const out = xlateText(["in_port=1,actions=output:2"], TCP);
  assert.equal(out.text, "2");
  assert.deepEqual(maskedFields(out.wc), ALWAYS);
});

Deno.test("output to the input port is skipped, output:in_port is not", () => {
  assert.equal(xlateText(["actions=output:1"], TCP).text, "drop");
  assert.equal(xlateText(["actions=in_port"], TCP).text, "1");
});

Deno.test("a rule without actions drops and a table miss drops", () => {
  assert.equal(xlateText(["in_port=1,actions=drop"], TCP).text, "drop");
  assert.equal(xlateText(["in_port=2,actions=output:3"], TCP).text, "drop");
});

Deno.test("flood skips the input port and no-flood ports; all skips only the input port", () => {
  assert.equal(xlateText(["actions=flood"], TCP, { ports: 4 }).text, "2,3,4,100");
  assert.equal(xlateText(["actions=all"], TCP).text, "2,3,100");
});

Deno.test("local outputs to the bridge's own port, datapath port 100", () => {
  assert.equal(xlateText(["actions=local"], TCP).text, "100");
});

Deno.test("controller becomes a userspace action with a controller cookie", () => {
  const out = xlateText(["actions=controller:100,output:2"], TCP);
  assert.equal(out.actions.length, 2);
  assert.equal(out.actions[0].type, "userspace");
  assert.equal(
    formatOdpAction(out.actions[0], null),
    "userspace(pid=0,controller(reason=1,dont_send=0,continuation=0,recirc_id=1," +
      "rule_cookie=0,controller_id=0,max_len=100))",
  );
  assert.equal(out.packetIns, 1);
});

Deno.test("a controller action in a table-miss rule reports an explicit miss", () => {
  const out = xlateText(["priority=0,actions=controller"], TCP);
  assert.match(out.text, /controller\(reason=6,/);
});

Deno.test("mod_dl_src commits a masked Ethernet set and matches the old source", () => {
  const out = xlateText(["actions=mod_dl_src:00:00:00:00:00:aa,output:2"], TCP);
  assert.equal(out.text, "set(eth(src=00:00:00:00:00:aa)),2");
  assert.equal(maskOf(out.wc, F.dl_src), "ffffffffffff");
  assert.equal(maskOf(out.wc, F.dl_dst), "");
});

Deno.test("rewriting both Ethernet addresses is a plain set", () => {
  const out = xlateText([
    "actions=mod_dl_src:00:00:00:00:00:aa,mod_dl_dst:00:00:00:00:00:bb,output:2",
  ], TCP);
  assert.equal(out.text, "set(eth(src=00:00:00:00:00:aa,dst=00:00:00:00:00:bb)),2");
});

Deno.test("mod_nw_src rewrites IPv4 and also depends on nw_proto", () => {
  const out = xlateText(["actions=mod_nw_src:1.2.3.4,output:2"], TCP);
  assert.equal(out.text, "set(ipv4(src=1.2.3.4)),2");
  assert.equal(maskOf(out.wc, F.nw_src), "ffffffff");
  assert.equal(maskOf(out.wc, F.nw_proto), "ff");
});

Deno.test("mod_nw_src on ARP changes nothing", () => {
  const out = xlateText(["actions=mod_nw_src:1.2.3.4,output:2"], "in_port=1,arp");
  assert.equal(out.text, "2");
});

Deno.test("mod_nw_tos rewrites only the DSCP bits", () => {
  const out = xlateText(["actions=mod_nw_tos:16,output:2"], TCP + ",nw_tos=4");
  assert.equal(out.text, "set(ipv4(tos=0x10/0xfc)),2");
  assert.equal(maskOf(out.wc, F.nw_tos), "fc");
});

Deno.test("mod_tp_dst rewrites the TCP port", () => {
  const out = xlateText(["actions=mod_tp_dst:99,output:2"], TCP);
  assert.equal(out.text, "set(tcp(dst=99)),2");
  assert.equal(maskOf(out.wc, F.tp_dst), "ffff");
});

Deno.test("an IP header with nw_proto 0 gets no L3 rewrite", () => {
  const out = xlateText(["actions=mod_nw_dst:9.9.9.9,output:2"], "in_port=1,ip,nw_dst=10.0.0.2");
  assert.equal(out.text, "2");
  assert.equal(maskOf(out.wc, F.nw_proto), "ff");
});

Deno.test("mod_vlan_vid pushes a header on an untagged packet, strip_vlan removes it", () => {
  const out = xlateText(
    [
      "actions=mod_vlan_vid:15,output:1,mod_vlan_pcp:5,output:2,strip_vlan,output:3",
    ],
    "in_port=4,ip",
    { ports: 4 },
  );
  assert.equal(out.text, "push_vlan(vid=15,pcp=0),1,pop_vlan,push_vlan(vid=15,pcp=5),2,pop_vlan,3");
  assert.equal(maskOf(out.wc, F.vlan0_tci), "", "no VLAN match for an untagged packet");
});

Deno.test("rewriting a tagged packet's VLAN pops and pushes, matching the whole tag", () => {
  const out = xlateText(
    ["actions=mod_vlan_vid:15,output:2"],
    "in_port=1,ip,dl_vlan=7,dl_vlan_pcp=1",
  );
  assert.equal(out.text, "pop_vlan,push_vlan(vid=15,pcp=1),2");
  assert.equal(maskOf(out.wc, F.vlan0_tci), "ffff");
});

Deno.test("push_vlan then set_field on vlan_vid adds an outer tag", () => {
  const out = xlateText(
    ["actions=push_vlan:0x8100,set_field:4196->vlan_vid,output:2"],
    "in_port=1,ip,dl_vlan=3",
    { ofpVersion: 4 },
  );
  assert.equal(out.text, "push_vlan(vid=100,pcp=0),2");
  assert.equal(maskOf(out.wc, F.vlan0_tci), "ffff");
});

Deno.test("set_field without its prerequisites is ignored but the check is remembered", () => {
  const out = xlateText(["tcp,actions=set_field:99->tcp_src,output:2"], TCP + ",nw_frag=later");
  assert.equal(out.text, "2");
  assert.equal(maskOf(out.wc, F.nw_proto), "ff");
  assert.equal(maskOf(out.wc, F.tp_src), "", "a later fragment has no L4 ports");
});

Deno.test("load into a register steers a later table, but registers never reach the mask", () => {
  const out = xlateText([
    "table=0,actions=load:0x5->NXM_NX_REG0[],resubmit(,1)",
    "table=1,reg0=5,actions=output:2",
    "table=1,priority=0,actions=output:3",
  ], TCP);
  assert.equal(out.text, "2");
  assert.equal(maskOf(out.wc, F.regs), "");
});

Deno.test("load into part of a header field writes a masked set of those bits", () => {
  const out = xlateText(["ip,actions=load:0xa->NXM_OF_IP_SRC[0..7],output:2"], TCP);
  assert.equal(out.text, "set(ipv4(src=0.0.0.10/0.0.0.255)),2");
  assert.equal(maskOf(out.wc, F.nw_src), "000000ff");
});

Deno.test("move copies bits and matches both source and destination", () => {
  const out = xlateText(["actions=move:NXM_OF_ETH_SRC[]->NXM_OF_ETH_DST[],output:2"], TCP);
  assert.equal(out.text, "set(eth(dst=50:54:00:00:00:01)),2");
  assert.equal(maskOf(out.wc, F.dl_src), "ffffffffffff");
  assert.equal(maskOf(out.wc, F.dl_dst), "ffffffffffff");
});

Deno.test("dec_ttl decrements the TTL and matches it", () => {
  const out = xlateText(["ip,actions=dec_ttl,output:2"], TCP);
  assert.equal(out.text, "set(ipv4(ttl=63)),2");
  assert.equal(maskOf(out.wc, F.nw_ttl), "ff");
});

Deno.test("dec_ttl at TTL 1 sends to the controller and stops the table", () => {
  const out = xlateText(["ip,actions=dec_ttl,output:2"], TCP.replace("nw_ttl=64", "nw_ttl=1"));
  assert.equal(out.actions.length, 1);
  assert.match(out.text, /^userspace\(pid=0,controller\(reason=2,.*max_len=65535\)\)$/);
});

Deno.test("resubmit with a port looks the table up as if from that port", () => {
  const out = xlateText([
    "priority=10,in_port=1,actions=resubmit(2),output:3",
    "priority=10,in_port=2,actions=output:2,output:1",
  ], TCP);
  assert.equal(out.text, "2,3", "output:1 is still the input port after the resubmit");
});

Deno.test("resubmitting to the same table stops at 64 levels and drops everything", () => {
  const out = xlateText(["actions=output:2,resubmit(,0)"], TCP);
  assert.equal(out.error, "Recursion too deep");
  assert.equal(out.text, "drop");
});

Deno.test("goto_table and write_metadata steer the pipeline without widening the mask", () => {
  const out = xlateText([
    "table=0,actions=write_metadata:0x10/0xff,goto_table:2",
    "table=2,metadata=0x10,actions=output:2",
  ], TCP);
  assert.equal(out.text, "2");
  assert.equal(maskOf(out.wc, F.metadata), "");
});

Deno.test("note does nothing", () => {
  assert.equal(xlateText(["actions=note:01.02,output:2"], TCP).text, "2");
});

Deno.test("enqueue sets skb_priority to the queue around its output", () => {
  const out = xlateText(["actions=enqueue:2:3,output:3"], TCP);
  assert.equal(out.text, "set(skb_priority(0x3)),2,set(skb_priority(0)),3");
});

Deno.test("header changes are committed before each output and only once", () => {
  const out = xlateText(
    [
      "ip,actions=output:2,mod_nw_dst:10.0.0.99,output:3,mod_dl_dst:50:54:00:00:00:99,mod_tp_dst:99,output:1",
    ],
    TCP.replace("in_port=1", "in_port=4"),
    { ports: 4 },
  );
  assert.equal(
    out.text,
    "2,set(ipv4(dst=10.0.0.99)),3,set(eth(dst=50:54:00:00:00:99)),set(tcp(dst=99)),1",
  );
});

Deno.test("every rule matched is in the xlate cache, in order", () => {
  const out = xlateText([
    "table=0,actions=resubmit(,1),resubmit(,2)",
    "table=1,actions=output:2",
    "table=2,actions=output:3",
  ], TCP);
  assert.equal(creditedRules(out.cache).length, 3);
  assert.deepEqual(creditedRules(out.cache), [...creditedRules(out.cache)].sort((a, b) => a - b));
});

/**
 * `ofproto/detrace` for a flow that crosses bridges through patch ports,
 * as the upstream testsuite's "datapath - Dump OF rules corresponding to
 * UFID" (tests/system-traffic.at, OVS 3.4, 600125b2c) expects with its
 * two bridges: each rule is listed under its own bridge, and a bridge's
 * name heads every run of lookups in it (br0, into br1, back into br0,
 * ...). udpif's ofctl takes port numbers, not names. The case's pings run here as one ICMP echo each way, three times.
 * udpif has no internal table 254, so the miss in br0 shows no
 * `table_id=254` drop rule (detrace.ts).
 */
import assert from "node:assert/strict";
import { ok, TestDaemon } from "./_run.ts";
import { strip, ufidOf } from "./_detrace.ts";

const PORTS = [
  "p1",
  "p2",
  "patch1:3,type=patch,peer=patch0",
  "patch0:4,bridge=br1,type=patch,peer=patch1",
];
const ECHO = "in_port(1),eth(src=50:54:00:00:00:05,dst=50:54:00:00:00:07),eth_type(0x0800)," +
  "ipv4(src=10.0.0.1,dst=10.0.0.2,proto=1,tos=0,ttl=64,frag=no),icmp(type=8,code=0)";
const REPLY = "in_port(2),eth(src=50:54:00:00:00:07,dst=50:54:00:00:00:05),eth_type(0x0800)," +
  "ipv4(src=10.0.0.2,dst=10.0.0.1,proto=1,tos=0,ttl=64,frag=no),icmp(type=0,code=0)";
const GROUPS =
  "group_id=1,type=select,selection_method=dp_hash,bucket=bucket_id:0,weight:100,actions=ct(commit,table=2)\n";
const FLOWS = "table=0,arp,actions=NORMAL\n" +
  "table=0,priority=100,cookie=0x1234abcd,in_port=3,ip,nw_dst=10.0.0.2,actions=resubmit(,4)\n" +
  "table=0,priority=100,cookie=0x12345678,in_port=1,ip,nw_dst=10.0.0.2,actions=resubmit(,1)\n" +
  "table=0,priority=100,cookie=0xabcedf,in_port=2,ip,nw_dst=10.0.0.1,actions=ct(table=3)\n" +
  "table=1,priority=200,ip,actions=group:1\n" +
  "table=2,ip,actions=output:2,output:3\n" +
  "table=3,ip,actions=output:1\n" +
  "table=4,ip,actions=drop\n";
const FLOWS1 = "table=0,arp,actions=drop\n" +
  "table=0,actions=clone(resubmit(,1)),resubmit(,2)\n" +
  "table=1,ip,actions=set_field:10.0.0.3->nw_dst,in_port\n" +
  "table=2,ip,actions=in_port\n";

Deno.test("datapath - Dump OF rules corresponding to UFID: each rule under its bridge (OVS 3.4 system-traffic.at)", async () => {
  const d = await TestDaemon.start(
    ["--datapath-type", "dummy", "--bridge", "br0", "--bridge", "br1"],
    { ports: PORTS },
  );
  try {
    await ok(d, ["ofctl", "del-flows", "br0"]);
    await ok(d, ["ofctl", "-O", "OpenFlow15", "add-groups", "br0", "-"], GROUPS);
    await ok(d, ["ofctl", "add-flows", "br0", "-"], FLOWS);
    await ok(d, ["ofctl", "add-flows", "br1", "-"], FLOWS1);
    for (let i = 0; i < 3; i++) {
      await ok(d, ["netdev-dummy/receive", "p1", ECHO]);
      await ok(d, ["netdev-dummy/receive", "p2", REPLY]);
    }
    await ok(d, ["revalidator/wait"]);
    // An unrelated change, so that the next revalidation fills the caches.
    await ok(d, ["ofctl", "-O", "OpenFlow13", "add-flow", "br0", "table=15,ip,actions=drop"]);
    await ok(d, ["revalidator/wait"]);
    await ok(d, ["revalidator/wait"]);
    await ok(d, ["revalidator/pause"]);
    const dump = await ok(d, ["dpctl/dump-flows", "-m"]);
    const detrace = async (re: RegExp) => strip(await ok(d, ["ofproto/detrace", ufidOf(dump, re)]));

    assert.equal(
      await detrace(/recirc_id\(0\),.*in_port\(p1\).*actions:hash\(l4\(0\)\),recirc\(/),
      "br0\n" +
        "  cookie=0x12345678, n_packets=3, n_bytes=294, priority=100,ip,in_port=1,nw_dst=10.0.0.2,actions=resubmit(,1)\n" +
        "  table_id=1, n_packets=3, n_bytes=294, priority=200,ip,actions=group:1\n",
    );
    assert.equal(
      await detrace(/in_port\(p1\).*actions:p2, /),
      "br0\n" +
        "  table_id=2, n_packets=3, n_bytes=294, ip,actions=output:2,output:3\n" +
        "br1\n" +
        "  n_packets=3, n_bytes=294, ,actions=clone(resubmit(,1)),resubmit(,2)\n" +
        "  table_id=1, n_packets=3, n_bytes=294, ip,actions=mod_nw_dst:10.0.0.3,IN_PORT\n" +
        "br0\n" +
        "  table_id=0, no match\n" +
        "br1\n" +
        "  table_id=2, n_packets=3, n_bytes=294, ip,actions=IN_PORT\n" +
        "br0\n" +
        "  cookie=0x1234abcd, n_packets=3, n_bytes=294, priority=100,ip,in_port=3,nw_dst=10.0.0.2,actions=resubmit(,4)\n" +
        "  table_id=4, n_packets=3, n_bytes=294, ip,actions=drop\n",
    );
    assert.equal(
      await detrace(/recirc_id\(0\),.*in_port\(p2\).*actions:ct,recirc\(/),
      "br0\n" +
        "  cookie=0xabcedf, n_packets=3, n_bytes=294, priority=100,ip,in_port=2,nw_dst=10.0.0.1,actions=ct(table=3)\n",
    );
    await ok(d, ["revalidator/resume"]);
  } finally {
    await d.stop();
  }
});

/**
 * `ofproto/detrace` listing the groups that built a datapath flow, as the
 * upstream testsuite's "datapath - Dump OF rules corresponding to UFID"
 * (tests/system-traffic.at, OVS 3.4, 600125b2c) expects: the same groups
 * and rules on one bridge (the case's second bridge and its patch ports
 * are left out), a dp_hash select group whose first pass hashes and
 * recirculates, so the recirculated flow's cache holds only the group
 * with the bucket it used, whose ct(table=2) recirculates again into the
 * flow of table 2's rule. Also `--format json`, which OVS wraps.
 */
import assert from "node:assert/strict";
import { ok, TestDaemon } from "./_run.ts";
import { strip, ufidOf } from "./_detrace.ts";

const PING = "in_port(1),eth(src=50:54:00:00:00:05,dst=50:54:00:00:00:07),eth_type(0x0800)," +
  "ipv4(src=10.0.0.1,dst=10.0.0.2,proto=1,tos=0,ttl=64,frag=no),icmp(type=8,code=0)";
const GROUPS =
  "group_id=1,type=select,selection_method=dp_hash,bucket=bucket_id:0,weight:100,actions=ct(commit,table=2)\n";
const FLOWS =
  "table=0,priority=100,cookie=0x12345678,in_port=1,ip,nw_dst=10.0.0.2,actions=resubmit(,1)\n" +
  "table=1,priority=200,ip,actions=group:1\n" +
  "table=2,ip,actions=output:2\n";

Deno.test("datapath - Dump OF rules corresponding to UFID: groups (OVS 3.4 system-traffic.at)", async () => {
  const d = await TestDaemon.start(["--datapath-type", "dummy", "--port", "p3"]);
  try {
    await ok(d, ["ofctl", "del-flows", "br0"]);
    await ok(d, ["ofctl", "-O", "OpenFlow15", "add-groups", "br0", "-"], GROUPS);
    await ok(d, ["ofctl", "add-flows", "br0", "-"], FLOWS);
    for (let i = 0; i < 3; i++) await ok(d, ["netdev-dummy/receive", "p1", PING]);
    await ok(d, ["revalidator/wait"]);
    // An unrelated change, so that the next revalidation fills the caches.
    await ok(d, ["ofctl", "add-flow", "br0", "table=15,ip,actions=drop"]);
    await ok(d, ["revalidator/wait"]);
    await ok(d, ["revalidator/wait"]);
    await ok(d, ["revalidator/pause"]);
    const dump = await ok(d, ["dpctl/dump-flows", "-m"]);

    const first = ufidOf(dump, /recirc_id\(0\),.*actions:hash\(l4\(0\)\),recirc\(/);
    assert.equal(
      strip(await ok(d, ["ofproto/detrace", first])),
      "br0\n" +
        "  cookie=0x12345678, n_packets=3, n_bytes=294, priority=100,ip,in_port=1,nw_dst=10.0.0.2,actions=resubmit(,1)\n" +
        "  table_id=1, n_packets=3, n_bytes=294, priority=200,ip,actions=group:1\n",
    );

    const recirculated = ufidOf(dump, /actions:ct\(commit\),recirc\(/);
    const groupText = "br0\n" +
      "  group_id=1,type=select,selection_method=dp_hash,bucket=bucket_id:0,weight:100,actions=ct(commit,table=2)\n";
    assert.equal(await ok(d, ["ofproto/detrace", recirculated]), groupText);

    // After conntrack: the flow the bucket's ct(table=2) recirculated into.
    assert.equal(
      strip(
        await ok(d, ["ofproto/detrace", ufidOf(dump, /recirc_id\(0x[0-9a-f]+\).*actions:p2,/)]),
      ),
      "br0\n  table_id=2, n_packets=3, n_bytes=294, ip,actions=output:2\n",
    );

    const json = JSON.parse(await ok(d, ["ofproto/detrace", recirculated, "--format", "json"]));
    assert.deepEqual(json, { "reply-format": "plain", reply: groupText });

    // A deleted group is left out (udpif's caches name groups by id).
    await ok(d, ["ofctl", "-O", "OpenFlow15", "del-groups", "br0", "group_id=1"]);
    assert.equal(await ok(d, ["ofproto/detrace", recirculated]), "br0\n");
    await ok(d, ["revalidator/resume"]);
  } finally {
    await d.stop();
  }
});

Deno.test("ofproto/detrace lists an all group with every bucket, between the rules, in translation order", async () => {
  const d = await TestDaemon.start(["--datapath-type", "dummy", "--port", "p3"]);
  try {
    await ok(d, ["ofctl", "del-flows", "br0"]);
    await ok(d, [
      "ofctl",
      "add-group",
      "br0",
      "group_id=7,type=all,bucket=output:2,bucket=output:3",
    ]);
    await ok(
      d,
      ["ofctl", "add-flows", "br0", "-"],
      "ip,actions=group:7,resubmit(,3)\ntable=3,ip,actions=drop\n",
    );
    await ok(d, ["netdev-dummy/receive", "p1", PING]);
    await ok(d, ["netdev-dummy/receive", "p1", PING]);
    await ok(d, ["ofctl", "add-flow", "br0", "table=15,ip,actions=drop"]);
    await ok(d, ["revalidator/wait"]);
    await ok(d, ["revalidator/wait"]);
    await ok(d, ["revalidator/pause"]);
    const ufid = ufidOf(await ok(d, ["dpctl/dump-flows", "-m"]), /actions:p2,p3/);
    assert.equal(
      strip(await ok(d, ["ofproto/detrace", ufid])),
      "br0\n" +
        "  n_packets=2, n_bytes=294, ip,actions=group:7,resubmit(,3)\n" +
        "  group_id=7,type=all,bucket=bucket_id:0,actions=output:2,bucket=bucket_id:1,actions=output:3\n" +
        "  table_id=3, n_packets=2, n_bytes=294, ip,actions=drop\n",
    );
    await ok(d, ["revalidator/resume"]);
  } finally {
    await d.stop();
  }
});

/**
 * ovs-ofctl's group syntax: what parses, how it prints back in each
 * OpenFlow version, and the errors (worded as ovs-ofctl 3.1's), and the
 * group table's commands with OVS's errors, dump order and stats.
 */
import assert from "node:assert/strict";
import { formatGroup, parseGroupMod } from "./group.ts";
import { decodeGroupStatsId, GroupModError, groupStatsId, GroupTable } from "./groups.ts";
import { dumpGroups, dumpGroupStats, formatGroupModError } from "./group_dump.ts";
import { OfTables } from "./tables.ts";

const OF10 = 1, OF13 = 4, OF15 = 6;

Deno.test("groups print back as ovs-ofctl dumps them in 1.0, 1.3 and 1.5", () => {
  const sel = parseGroupMod(
    "group_id=5,type=select,selection_method=hash,fields(nw_proto,ip_src)," +
      "bucket=bucket_id:7,output:2,bucket=weight:20,actions=output:3",
    "add",
    OF15,
  );
  assert.equal(
    formatGroup(sel, OF15),
    "group_id=5,type=select,selection_method=hash,fields(ip_src,nw_proto)," +
      "bucket=bucket_id:7,actions=output:2,bucket=bucket_id:0,weight:20,actions=output:3",
  );
  assert.equal(
    formatGroup(sel, OF13),
    "group_id=5,type=select,bucket=actions=output:2,bucket=weight:20,actions=output:3",
  );
  const ind = parseGroupMod(
    "group_id=3,type=indirect,bucket=set_field:10.0.0.9->ip_dst,output:2",
    "add",
    OF13,
  );
  assert.equal(
    formatGroup(ind, OF10),
    "group_id=3,type=indirect,bucket=bucket_id:0,actions=mod_nw_dst:10.0.0.9,output:2",
  );
  const ff = parseGroupMod(
    "group_id=4,type=fast_failover,bucket=watch_port:2,output:2,bucket=watch_group:1,output:3",
    "add",
  );
  assert.equal(
    formatGroup(ff, OF13),
    "group_id=4,type=ff,bucket=watch_port:2,actions=output:2,bucket=watch_group:1,actions=output:3",
  );
  assert.equal(
    formatGroup(parseGroupMod("group_id=7,type=all", "add"), OF13),
    "group_id=7,type=all",
  );
});

Deno.test("bad group text gets ovs-ofctl's errors", () => {
  const cases: [string, string, RegExp][] = [
    ["group_id=7,type=bogus,bucket=output:2", "add", /invalid group type bogus$/],
    ["type=all,bucket=output:2", "add", /must specify a group_id$/],
    ["group_id=1,bucket=output:2", "add", /must specify a type$/],
    ["group_id=7,type=ff,bucket=output:2", "add", /requires watch_port or watch_group/],
    ["group_id=7,type=all,bucket=weight:3,output:2", "add", /Only select groups can have/],
    ["group_id=9,type=indirect,bucket=output:2,bucket=output:3", "add", /at most one bucket/],
    ["group_id=1,type=all,bucket=weight:1", "add", /bucket must specify actions$/],
    ["group_id=1,type=all,fields(ip_src),bucket=output:1", "add", /only be specified with/],
    ["group_id=1,type=all,frob=1", "add", /unknown keyword frob$/],
    ["group_id=1,bucket=output:1", "delete", /bucket is not needed$/],
    ["group_id=1,bucket=output:1", "insert_bucket", /must specify a command bucket id$/],
    ["group_id=1,command_bucket_id=all,bucket=output:1", "insert_bucket", /is not permitted/],
    ["group_id=1,type=select,fields(ip_src,ip_src)", "add", /duplicate field/],
  ];
  for (const [text, command, err] of cases) {
    assert.throws(() => parseGroupMod(text, command as "add"), err, text);
  }
});

Deno.test("add-groups lines may start with a command word", () => {
  assert.equal(parseGroupMod("add group_id=1,type=all", "file").command, "add");
  assert.equal(parseGroupMod("delete group_id=1", "file").command, "delete");
  assert.equal(parseGroupMod("group_id=1,type=all", "file").command, "add");
  assert.equal(parseGroupMod("", "delete").id, 0xfffffffc);
});

Deno.test("the group table refuses as OVS does and keeps OVS's dump order", () => {
  const t = new OfTables();
  const mod = (text: string, command: "add" | "modify" | "delete" | "insert_bucket") =>
    t.groupMods([parseGroupMod(text, command, OF15)], 0);
  mod("group_id=2,type=all,bucket=output:2", "add");
  mod("group_id=1,type=all,bucket=output:2", "add");
  mod("group_id=3,type=all,bucket=output:2", "add");
  assert.throws(() => mod("group_id=1,type=all,bucket=output:3", "add"), /GROUP_EXISTS/);
  assert.throws(() => mod("group_id=9,type=all,bucket=output:3", "modify"), /UNKNOWN_GROUP/);
  assert.throws(
    () => mod("group_id=1,command_bucket_id=0,bucket=bucket_id:0,output:3", "insert_bucket"),
    /BUCKET_EXISTS/,
  );
  assert.throws(
    () => mod("group_id=1,command_bucket_id=4,bucket=bucket_id:5,output:3", "insert_bucket"),
    /UNKNOWN_BUCKET/,
  );
  mod("group_id=1", "delete");
  mod("group_id=4,type=all,bucket=output:2", "add");
  // Group 4 took the hole group 1 left.
  assert.equal(
    dumpGroups(t, OF13),
    "OFPST_GROUP_DESC reply (OF1.3):\n" +
      " group_id=2,type=all,bucket=actions=output:2\n" +
      " group_id=4,type=all,bucket=actions=output:2\n" +
      " group_id=3,type=all,bucket=actions=output:2\n",
  );
  assert.equal(dumpGroups(t, OF15, 3).split("\n").length, 3, "1.5 asks for one group");
  assert.equal(dumpGroups(t, OF13, 3).split("\n").length, 5, "1.3 asks for all");
});

Deno.test("insert-buckets and remove-buckets place buckets as OVS does", () => {
  const g = new GroupTable();
  const mod = (text: string, command: "add" | "insert_bucket" | "remove_bucket") =>
    g.apply(parseGroupMod(text, command, OF15), 0);
  mod("group_id=1,type=all,bucket=output:2", "add");
  mod("group_id=1,command_bucket_id=first,bucket=bucket_id:5,output:3", "insert_bucket");
  mod("group_id=1,command_bucket_id=5,bucket=bucket_id:6,output:1", "insert_bucket");
  assert.deepEqual(g.get(1)!.buckets.map((b) => b.id), [5, 6, 0]);
  mod("group_id=1,command_bucket_id=first", "remove_bucket");
  assert.deepEqual(g.get(1)!.buckets.map((b) => b.id), [6, 0]);
  mod("group_id=1,command_bucket_id=all", "remove_bucket");
  assert.deepEqual(g.get(1)!.buckets, []);
});

Deno.test("group stats credit the group and one bucket, or every bucket", () => {
  const t = new OfTables();
  t.groupMods([parseGroupMod("group_id=7,type=all,bucket=output:1,bucket=output:2", "add")], 0);
  t.addFlow("actions=group:7", 0);
  assert.deepEqual(decodeGroupStatsId(groupStatsId(0xffffff00, 3)), {
    groupId: 0xffffff00,
    bucketIndex: 3,
  });
  t.creditStats(groupStatsId(7, -1), 2, 200, 0);
  t.creditStats(groupStatsId(7, 1), 1, 60, 0);
  assert.equal(
    dumpGroupStats(t, OF13, 0xfffffffc, 1500),
    "OFPST_GROUP reply (OF1.3):\n group_id=7,duration=1.500s,ref_count=1,packet_count=3," +
      "byte_count=260,bucket0:packet_count=2,byte_count=200,bucket1:packet_count=3,byte_count=260\n",
  );
});

Deno.test("a refused group_mod prints as ovs-ofctl prints the error and the request", () => {
  const gm = parseGroupMod(
    "group_id=1,command_bucket_id=last,bucket=bucket_id:5,output:1",
    "insert_bucket",
    OF15,
  );
  const e = new GroupModError("OFPGMFC_BUCKET_EXISTS");
  assert.equal(
    formatGroupModError(gm, e.error, OF15),
    "OFPT_ERROR (OF1.5): OFPGMFC_BUCKET_EXISTS\nOFPT_GROUP_MOD (OF1.5):\n" +
      " INSERT_BUCKET command_bucket_id:last,group_id=1,bucket=bucket_id:5,actions=output:1\n",
  );
});

import assert from "node:assert/strict";
import { newKey } from "../flow/mod.ts";
import { OfTables, type TablesUpdate } from "./tables.ts";
import { OfctlError } from "./ofctl_error.ts";
import { flowOf } from "../../tests/support/ofproto/testflow.ts";
import { coverageTotal } from "../lib/mod.ts";

const RULES = [
  "priority=10,tcp,tp_dst=80,actions=output:2",
  "priority=20,tcp,tp_dst=80,actions=output:3",
  "cookie=0x11,priority=5,ip,actions=output:1",
  "cookie=0x21,priority=1,tcp,actions=drop",
  "table=1,priority=5,ip,actions=drop",
];

function loaded(): OfTables {
  const t = new OfTables();
  t.addFlows(RULES.join("\n"), 0);
  return t;
}

const matches = (t: OfTables) =>
  [...t.rules()].map((r) => `${r.tableId}/${r.priority}/${r.actions.map((a) => a.type).join("+")}`);

Deno.test("non-strict del-flows removes every rule at least as specific, in all tables", () => {
  const t = loaded();
  t.delFlows("tcp", false);
  assert.deepEqual(matches(t), ["0/5/output", "1/5/"]);
  t.delFlows("", false);
  assert.equal(t.nRules, 0);
});

Deno.test("strict del-flows removes only the rule with the same match and priority", () => {
  const t = loaded();
  assert.equal(t.delFlows("tcp,tp_dst=80", true), null);
  t.delFlows("priority=10,tcp,tp_dst=80", true);
  assert.equal(t.nRules, 4);
  assert.equal(t.lookup(0, flowOf("eth_type=0x0800,nw_proto=6,tcp_dst=80"), null)?.priority, 20);
});

Deno.test("del-flows honours table, cookie masks and out_port", () => {
  const t = loaded();
  t.delFlows("table=1", false);
  assert.equal(t.nRules, 4);
  t.delFlows("cookie=0x1/0xf", false);
  assert.deepEqual(matches(t), ["0/10/output", "0/20/output"]);
  t.delFlows("out_port=3", false);
  assert.deepEqual(matches(t), ["0/10/output"]);
});

Deno.test("mod-flows changes actions in place and keeps stats, id and creation time", () => {
  const t = loaded();
  const before = t.lookup(0, flowOf("eth_type=0x0800,nw_proto=6,tcp_dst=80"), null)!;
  t.creditStats(before.id, 3, 354, 50);
  t.modFlows("tcp,tp_dst=80,actions=output:4", false, 100);
  const after = t.ruleById(before.id)!;
  assert.deepEqual(after.actions, [{ type: "output", port: 4 }]);
  assert.equal(after.nPackets, 3);
  assert.equal(after.nBytes, 354);
  assert.equal(after.createdMs, 0);
  assert.equal(after.modifiedMs, 100);
  assert.equal(t.lookup(0, flowOf("eth_type=0x0800,nw_proto=6,tcp_dst=80"), null), after);
  const other = [...t.rules()].find((r) => r.priority === 10)!;
  assert.deepEqual(other.actions, [{ type: "output", port: 4 }]);
  assert.deepEqual([...t.rules()].find((r) => r.priority === 1)!.actions, []);
});

Deno.test("strict mod-flows touches one rule; a mod matching nothing adds unless it filters on a cookie", () => {
  const t = loaded();
  t.modFlows("priority=10,tcp,tp_dst=80,actions=output:9", true, 0);
  assert.deepEqual([...t.rules()].find((r) => r.priority === 20)!.actions, [{
    type: "output",
    port: 3,
  }]);
  assert.equal(t.modFlows("cookie=0x5/0xff,udp,actions=drop", false, 0), null);
  t.modFlows("udp,actions=drop", false, 0);
  assert.equal(t.nRules, 6);
  t.modFlows("cookie=0x5,sctp,actions=drop", false, 0);
  assert.equal([...t.rules()].find((r) => r.cookie === 5n)?.priority, 0x8000);
});

Deno.test("mod-flows without a cookie resets the cookie, as ovs-ofctl's OpenFlow 1.0 does", () => {
  const t = loaded();
  t.modFlows("ip,actions=drop", false, 0);
  assert.deepEqual([...t.rules()].filter((r) => r.tableId === 0).map((r) => r.cookie), [
    0n,
    0n,
    0n,
    0n,
  ]);
});

Deno.test("re-adding a flow replaces it; counters carry over only outside OpenFlow 1.0", () => {
  const t = loaded();
  const old = t.lookup(0, flowOf("eth_type=0x0800,nw_proto=17"), null)!;
  t.creditStats(old.id, 1, 60, 1);
  t.addFlow("priority=5,ip,actions=output:6", 5, { version: 4 });
  assert.equal(t.ruleById(old.id)!.nPackets, 1);
  t.addFlow("priority=5,ip,actions=output:7", 10);
  const r = t.lookup(0, flowOf("eth_type=0x0800,nw_proto=17"), null)!;
  assert.equal(r.id, old.id);
  assert.equal(r.nPackets, 0);
  assert.equal(r.createdMs, 10);
  assert.equal(r.cookie, 0n);
  assert.deepEqual(r.actions, [{ type: "output", port: 7 }]);
  assert.equal(t.nRules, 5);
});

Deno.test("a bad line in add-flows changes nothing and names the line", () => {
  const t = loaded();
  const v = t.version;
  assert.throws(
    () => t.addFlows("priority=1,actions=drop\nip,nw_dst=1.2.3.x,actions=drop\n", 0),
    (e) => e instanceof OfctlError && e.message === "line 2: 1.2.3.x: invalid IP address",
  );
  assert.equal(t.nRules, 5);
  assert.equal(t.version, v);
});

Deno.test("idle and hard timeouts expire rules by the clock value given", () => {
  const t = new OfTables();
  t.addFlow("idle_timeout=10,priority=1,ip,actions=drop", 0);
  t.addFlow("hard_timeout=20,priority=2,ip,actions=drop", 0);
  const idle = [...t.rules()].find((r) => r.priority === 1)!;
  t.creditStats(idle.id, 1, 60, 5000);
  assert.equal(t.expire(15000), null);
  const u = t.expire(15001)!;
  assert.deepEqual(u.ops, [{ op: "delete", id: idle.id }]);
  t.modFlows("priority=2,ip,actions=output:1", true, 10000);
  assert.equal(t.expire(30000), null);
  assert.ok(t.expire(30001));
  assert.equal(t.nRules, 0);
});

Deno.test("every change bumps the version and a replica fed the updates looks up the same", () => {
  const master = new OfTables();
  const replica = new OfTables();
  const updates: TablesUpdate[] = [];
  const push = (u: TablesUpdate | null) => {
    if (u) updates.push(structuredClone(u));
  };
  push(master.addFlows(RULES.join("\n"), 0));
  push(master.modFlows("tcp,tp_dst=80,actions=output:5", false, 1));
  push(master.delFlows("priority=5,ip", true));
  push(master.addFlow("priority=30,udp,tp_dst=53,actions=output:6", 2));
  assert.equal(master.delFlows("arp", false), null);
  assert.deepEqual(updates.map((u) => u.version), [1, 2, 3, 4]);
  for (const u of updates) replica.applyUpdate(u);
  assert.equal(replica.version, master.version);
  assert.equal(replica.dumpFlows(), master.dumpFlows());
  for (const f of ["nw_proto=6,tcp_dst=80", "nw_proto=6,tcp_dst=81", "nw_proto=17,udp_dst=53"]) {
    const flow = flowOf(`eth_type=0x0800,${f}`);
    const wm = newKey();
    const wr = newKey();
    assert.equal(replica.lookup(0, flow, wr)?.id, master.lookup(0, flow, wm)?.id);
    assert.deepEqual(wr, wm);
  }
});

/**
 * Replays a recorded ovs-ofctl session: each line of commands.txt is
 * `[-O OpenFlow13] [--strict] COMMAND [--names] [--sort[=F]|--rsort[=F]]... [ARG]`; dump output and OpenFlow errors
 * are collected as ovs-ofctl printed them.
 */
/** The oracle bridge's ports: p1..p3 (and br0, the LOCAL port). */
const PORTS = new Map([[1, "p1"], [2, "p2"], [3, "p3"], [0xfffe, "br0"]]);

function replay(name: string): [string, string] {
  const dir = new URL(`../../fixtures/ofproto/${name}/`, import.meta.url);
  const read = (f: string) => Deno.readTextFileSync(new URL(f, dir));
  const t = new OfTables();
  let out = "";
  for (const line of read("commands.txt").split("\n").filter((l) => l)) {
    const words = line.split(" ");
    const version = words[0] === "-O" ? (words.splice(0, 2), 4) : 1;
    const strict = words[0] === "--strict" ? (words.shift(), true) : false;
    const sort = words.filter((w) => /^--r?sort/.test(w)).map((w) => ({
      field: w.split("=")[1] ?? "priority",
      descending: w.startsWith("--rsort"),
    }));
    const namesByPort = words.includes("--names") ? PORTS : undefined;
    const [cmd, arg] = words.filter((w) => !/^--(r?sort|names)/.test(w));
    try {
      if (cmd === "dump-flows") out += t.dumpFlows({ version, filter: arg, sort, namesByPort });
      else if (cmd === "add-flows") t.addFlows(read(arg), 0, { version });
      else if (cmd === "add-flow") t.addFlow(arg, 0, { version });
      else if (cmd === "del-flows") t.delFlows(arg, strict, { version });
      else if (cmd === "mod-flows") t.modFlows(arg, strict, 0, { version });
      else throw new Error(`unknown command ${cmd}`);
    } catch (e) {
      if (!(e instanceof OfctlError)) throw e;
      out += `OFPT_ERROR: ${e.message}\n`;
    }
  }
  return [out, read("expected.txt")];
}

Deno.test("add, mod and del sequences leave the tables as OVS leaves them", () => {
  const [out, expected] = replay("flow-mods");
  assert.equal(out, expected);
});

Deno.test("flow-mod flags show in OpenFlow 1.3 dumps and check_overlap refuses overlaps", () => {
  const [out, expected] = replay("flow-mod-flags");
  assert.equal(out, expected);
});

Deno.test("a snapshot rebuilds a late replica, and a gap in updates is refused", () => {
  const master = loaded();
  master.modFlows("tcp,tp_dst=80,actions=output:5", false, 1);
  const late = new OfTables();
  late.applyUpdate(structuredClone(master.snapshotUpdate()));
  assert.equal(late.version, master.version);
  assert.equal(late.dumpFlows(), master.dumpFlows());
  const next = master.addFlow("priority=40,arp,actions=drop", 2)!;
  master.addFlow("priority=41,arp,actions=drop", 3);
  const last = master.delFlows("arp", false)!;
  assert.throws(() => late.applyUpdate(last), /cannot follow/);
  late.applyUpdate(next);
  assert.equal(late.nRules, master.nRules + 1);
});

Deno.test("an exact cookie visits rules in OVS's cookie-index order, in dumps and mods", () => {
  const [out, expected] = replay("cookie-order");
  assert.equal(out, expected);
});

Deno.test("prefix fields reach replicas, in updates and in snapshots, and bad lists are refused", () => {
  const master = loaded();
  const replica = new OfTables();
  replica.applyUpdate(structuredClone(master.snapshotUpdate()));
  const u = master.setPrefixFields(["ipv6_dst", "ip_src"], 0)!;
  assert.deepEqual(u.ops, [{ op: "prefixes", tableId: 0, fields: ["ipv6_dst", "ip_src"] }]);
  assert.equal(master.setPrefixFields(["ipv6_dst", "ip_src"], 0), null);
  replica.applyUpdate(structuredClone(u));
  const late = new OfTables();
  late.applyUpdate(structuredClone(master.snapshotUpdate()));
  const flow = flowOf("eth_type=0x0800,nw_proto=6,ip_src=1.2.3.4,ip_dst=9.9.9.9,tcp_dst=80");
  const [wm, wr, wl] = [newKey(), newKey(), newKey()];
  master.lookup(0, flow, wm);
  replica.lookup(0, flow, wr);
  late.lookup(0, flow, wl);
  assert.deepEqual(wr, wm);
  assert.deepEqual(wl, wm);
  assert.throws(
    () => master.setPrefixFields(["tcp_dst"]),
    /unknown or incompatible field: tcp_dst/,
  );
  assert.throws(
    () => master.setPrefixFields(["ip_src", "ip_dst", "ipv6_src", "ipv6_dst"]),
    /too many/,
  );
  assert.equal(master.version, u.version);
});

Deno.test("an add-flows file may mix add, modify and delete lines, as ovs-ofctl reads it", () => {
  const [out, expected] = replay("flow-mod-file");
  assert.equal(out, expected);
});

Deno.test("--sort and --rsort order a dump as ovs-ofctl does", () => {
  const [out, expected] = replay("dump-sort");
  assert.equal(out, expected);
});

Deno.test("--names prints ports by name, reserved ports by their reserved names", () => {
  const [out, expected] = replay("dump-names");
  assert.equal(out, expected);
});

Deno.test("each rule removed by its timeout counts once as ofproto_dpif_expired", () => {
  const count = () => coverageTotal("ofproto_dpif_expired") ?? 0;
  const t = new OfTables();
  t.addFlow("idle_timeout=10,priority=1,ip,actions=drop", 0);
  t.addFlow("hard_timeout=10,priority=2,ip,actions=drop", 0);
  t.addFlow("priority=3,ip,actions=drop", 0);
  const before = count();
  t.expire(10000);
  assert.equal(count() - before, 0, "not yet");
  t.expire(10001);
  assert.equal(count() - before, 2);
});

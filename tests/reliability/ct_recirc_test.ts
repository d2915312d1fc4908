/**
 * Conntrack recirculation end to end (issue 16): a packet through
 * ct(table=1) sets up two datapath flows, recirc_id(0) and recirc_id(N),
 * each with its own ukey and statistics; the frozen state N lives while
 * either ukey does and goes with the last one; a rule change revalidates
 * the recirculated flow like any other.
 */
import assert from "node:assert/strict";
import { TestDaemon } from "../cli/_run.ts";
import { appctl, memoryUsage } from "./_daemon.ts";

const UDP = "in_port(1),eth(src=50:54:00:00:00:05,dst=50:54:00:00:00:07),eth_type(0x0800)," +
  "ipv4(src=10.0.0.1,dst=10.0.0.2,proto=17,tos=0,ttl=64,frag=no),udp(src=1000,dst=53)";

const RULES = [
  "table=0,priority=10,ip,ct_state=-trk,actions=ct(table=1,zone=3)",
  "table=1,priority=10,ct_state=+trk+new,ip,actions=ct(commit,zone=3),output:2",
  "table=1,priority=10,ct_state=+trk+est,ip,actions=output:1",
];

async function cycles(d: TestDaemon, n: number, ms = 100): Promise<void> {
  for (let i = 0; i < n; i++) {
    await appctl(d.socket, "time/warp", [String(ms)]);
    await appctl(d.socket, "revalidator/wait");
  }
}

async function ctDaemon(): Promise<TestDaemon> {
  const d = await TestDaemon.start([
    "--datapath-type",
    "dummy",
    "--other-config",
    "max-idle=10000",
  ]);
  await appctl(d.socket, "time/stop");
  for (const r of RULES) await appctl(d.socket, "ofctl/add-flow", ["br0", r]);
  return d;
}

function flowLines(dump: string): string[] {
  return dump.split("\n").filter((l) => l.includes("recirc_id(")).sort();
}

Deno.test("ct(table=1): two flows with their own ukeys and stats, one frozen state", async () => {
  const d = await ctDaemon();
  try {
    await appctl(d.socket, "netdev-dummy/receive", ["p1", UDP, UDP]);
    await cycles(d, 2);
    const flows = flowLines(await appctl(d.socket, "dpctl/dump-flows"));
    assert.equal(flows.length, 2, flows.join("\n"));
    assert.match(
      flows[0],
      /^ct_state\(\+new\+trk\),recirc_id\(0x1\),.*actions:ct\(commit,zone=3\),2$/,
    );
    assert.match(
      flows[1],
      /^ct_state\(-trk\),recirc_id\(0\),.*actions:ct\(zone=3\),recirc\(0x1\)$/,
    );
    const u = memoryUsage(await appctl(d.socket, "memory/show"));
    assert.equal(u["udpif keys"], 2);
    assert.equal(u["recirc ids"], 1, "both flows refer to the one frozen state");
    const stats = await appctl(d.socket, "ofctl/dump-flows", ["br0"]);
    assert.match(
      stats,
      /n_packets=2, .*ct_state=\+new\+trk,ip actions=ct\(commit,zone=3\),output:2/,
    );
  } finally {
    await d.stop();
  }
});

Deno.test("the frozen state goes with the last ukey that refers to it", async () => {
  const d = await ctDaemon();
  try {
    await appctl(d.socket, "netdev-dummy/receive", ["p1", UDP]);
    await cycles(d, 2);
    // Without table 0's rule the recirc_id(0) flow drops and refers to no
    // frozen state any more; the resumed flow still holds its own.
    await appctl(d.socket, "ofctl/del-flows", ["br0", "table=0"]);
    await cycles(d, 2);
    const flows = flowLines(await appctl(d.socket, "dpctl/dump-flows"));
    assert.match(flows[1], /^ct_state\(-trk\),recirc_id\(0\),.*actions:drop$/);
    let u = memoryUsage(await appctl(d.socket, "memory/show"));
    assert.equal(u["udpif keys"], 2);
    assert.equal(u["recirc ids"], 1, "the recirc_id(0x1) flow keeps its frozen state");
    // Past max-idle (10 s): that flow goes too, and the state with it.
    await cycles(d, 2, 6000);
    u = memoryUsage(await appctl(d.socket, "memory/show"));
    assert.equal(u["udpif keys"], undefined);
    assert.equal(u["recirc ids"], undefined, "no id outlives its ukeys");
  } finally {
    await d.stop();
  }
});

Deno.test("a rule change in the resumed table revalidates the recirculated flow", async () => {
  const d = await ctDaemon();
  try {
    await appctl(d.socket, "netdev-dummy/receive", ["p1", UDP]);
    await cycles(d, 2);
    await appctl(d.socket, "ofctl/mod-flows", [
      "br0",
      "table=1,ct_state=+trk+new,ip,actions=ct(commit,zone=3,exec(set_field:0x7->ct_mark)),output:LOCAL",
    ]);
    await cycles(d, 2);
    const flows = flowLines(await appctl(d.socket, "dpctl/dump-flows"));
    assert.match(
      flows[0],
      /recirc_id\(0x1\),.*actions:ct\(commit,zone=3,mark=0x7\/0xffffffff\),100$/,
    );
  } finally {
    await d.stop();
  }
});

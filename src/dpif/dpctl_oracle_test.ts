import assert from "node:assert/strict";
import { flowExtract, parseDumpFlow } from "../flow/mod.ts";
import { DummyNetdev, netdevDummyReceive } from "../netdev/mod.ts";
import { dpctlDumpFlows, dpctlShow } from "./dpctl.ts";
import { DpifNetdev } from "./dpif_netdev.ts";
import { PUT_CREATE } from "./protocol.ts";
import { DpifUpcall } from "./upcall.ts";

const raw = Deno.readTextFileSync(
  new URL("../../fixtures/dpif/commands-output.txt", import.meta.url),
);

/** The reply recorded under `## ! ovs-appctl CMD`. */
function reply(cmd: string): string {
  const parts = raw.split(/^## ! ovs-appctl /m);
  const part = parts.find((p) => p.startsWith(cmd + "\n"))!;
  return part.slice(cmd.length + 1);
}

const PKT = "in_port(1),eth(src=50:54:00:00:00:05,dst=50:54:00:00:00:07),eth_type(0x0800)," +
  "ipv4(src=10.0.0.1,dst=10.0.0.2,proto=6,tos=0,ttl=64,frag=no),tcp(src=1000,dst=80)";

/** Replays the oracle: a miss, the drop megaflow OVS installed, a hit. */
function replay() {
  const dp = DpifNetdev.create("dummy", { extract: flowExtract, flowCapacity: 1024 });
  const devs = new Map<string, DummyNetdev>();
  for (const n of ["p1", "p2", "p3"]) {
    devs.set(n, new DummyNetdev(n));
    dp.portAdd(devs.get(n)!);
  }
  dp.portAdd(new DummyNetdev("br0", "dummy-internal"));
  netdevDummyReceive(["p1", PKT], (n) => devs.get(n));
  const up = new DpifUpcall();
  assert.ok(dp.recv(0, up));
  const verbose = reply("dpctl/dump-flows -m").split("\n")[1];
  const names = new Map(dp.portList().map((p) => [p.name, p.portNo]));
  const mf = parseDumpFlow(verbose, names);
  const put = dp.flowPut({
    flags: PUT_CREATE,
    key: up.key,
    mask: mf.mask!,
    actions: [],
    ufid: up.ufid,
  });
  assert.equal(put.error, 0);
  netdevDummyReceive(["p1", PKT], (n) => devs.get(n));
  return dp;
}

const unused = (s: string) => s.replace(/used:[0-9.]+s/g, "used:X");

Deno.test("dpctl/show and show -s match OVS after a miss and a hit", () => {
  const dp = replay();
  assert.equal(dpctlShow(dp, []), reply("dpctl/show"));
  assert.equal(dpctlShow(dp, ["-s"]), reply("dpctl/show -s"));
  dp.destroy();
});

Deno.test("dpctl/dump-flows, -m and --names match OVS for the installed megaflow", () => {
  const dp = replay();
  for (const args of [[], ["--names"], ["dummy@ovs-dummy"]]) {
    const cmd = ["dpctl/dump-flows", ...args].join(" ");
    assert.equal(unused(dpctlDumpFlows(dp, args)), unused(reply(cmd)), cmd);
  }
  const ufid = (s: string) => s.replace(/ufid:[0-9a-f-]+/, "ufid:U");
  assert.equal(
    ufid(unused(dpctlDumpFlows(dp, ["-m"]))),
    ufid(unused(reply("dpctl/dump-flows -m"))),
  );
  dp.destroy();
});

Deno.test("a TCP flow's stats collect the packets' TCP flags, printed as OVS does", () => {
  const dp = DpifNetdev.create("dummy", { extract: flowExtract, flowCapacity: 64 });
  const p1 = new DummyNetdev("p1");
  dp.portAdd(p1);
  const syn = PKT + ",tcp_flags(syn)";
  const ack = PKT + ",tcp_flags(ack)";
  netdevDummyReceive(["p1", syn], () => p1);
  const up = new DpifUpcall();
  assert.ok(dp.recv(0, up));
  const names = new Map(dp.portList().map((p) => [p.name, p.portNo]));
  const mf = parseDumpFlow(reply("dpctl/dump-flows -m").split("\n")[1], names);
  dp.flowPut({ flags: PUT_CREATE, key: up.key, mask: mf.mask!, actions: [] });
  netdevDummyReceive(["p1", syn, ack], () => p1);
  assert.match(
    dpctlDumpFlows(dp, []),
    /packets:2, bytes:\d+, used:[0-9.]+s, flags:S\., actions:drop/,
  );
  dp.destroy();
});

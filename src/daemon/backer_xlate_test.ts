import assert from "node:assert/strict";
import { F, formatOdpActions, newKey, parseOdpKey } from "../flow/mod.ts";
import { MacLearning, OfTables } from "../ofproto/mod.ts";
import { PatchCounters, RecircIdPool } from "../xlate/mod.ts";
import { BackerXlate } from "./backer_xlate.ts";
import type { BridgeXlateInit } from "./bridge_xlate.ts";
import { LearnQueue } from "./learn_queue.ts";
import { PacketInQueue } from "./packet_in_queue.ts";
import { RuleStatsQueue } from "./rule_stats.ts";

/**
 * br0: p1 (odp 1), patch-br1 (OpenFlow 4); br1: p3 (odp 3, OpenFlow 1),
 * patch-br0 (OpenFlow 2): the backer's bridges as a worker starts them.
 */
function twoBridges() {
  const stats = RuleStatsQueue.create();
  const recirc = new RecircIdPool();
  const patchCounters = PatchCounters.create(2);
  const packetIns = [PacketInQueue.create(), PacketInQueue.create()];
  const init = (id: number, bridge: string, ports: BridgeXlateInit["ports"]): BridgeXlateInit => ({
    bridge,
    id,
    ports,
    mac: MacLearning.create().buffer,
    ruleStats: stats.buffer,
    learn: LearnQueue.create().buffer,
    uuid: new Uint8Array(16).fill(id + 1),
    recirc: recirc.buffer,
    packetIns: packetIns[id].init,
    patchCounters: patchCounters.buffer,
    vlanLimit: 1,
  });
  const bridges = [
    init(0, "br0", [
      { name: "br0", ofport: 65534, odpPort: 100 },
      { name: "p1", ofport: 1, odpPort: 1 },
      { name: "patch-br1", ofport: 4, odpPort: -1, peer: "patch-br0", patchSlot: 0 },
    ]),
    init(1, "br1", [
      { name: "br1", ofport: 65534, odpPort: 101 },
      { name: "p3", ofport: 1, odpPort: 3 },
      { name: "patch-br0", ofport: 2, odpPort: -1, peer: "patch-br1", patchSlot: 1 },
    ]),
  ];
  // The master tables; the worker's translation keeps replicas, updated by message.
  const tables = [new OfTables(), new OfTables()];
  const xlate = new BackerXlate(structuredClone({ bridges }));
  const addFlow = (bridge: number, text: string) =>
    xlate.update({ type: "bridge", bridge, update: tables[bridge].addFlow(text, 0)! });
  return { stats, bridges, tables, xlate, addFlow, patchCounters, packetIns, recirc };
}

function keyFrom(inPort: number) {
  const key = newKey();
  parseOdpKey(
    `in_port(${inPort}),eth(src=50:54:00:00:00:01,dst=50:54:00:00:00:03),eth_type(0x0800),` +
      "ipv4(src=10.0.0.1,dst=10.0.0.3,proto=6,tos=0,ttl=64,frag=no),tcp(src=1000,dst=80)",
    key,
    newKey(),
  );
  return key;
}

const REQUEST = {
  packet: null,
  packets: 0,
  bytes: 0,
  tcpFlags: 0,
  used: 0,
  wc: null,
  wantXcache: true,
};

Deno.test("a flow is translated by the bridge of its datapath in_port, through the patch into the peer", () => {
  const { xlate, tables, stats, addFlow } = twoBridges();
  addFlow(0, "in_port=1,actions=output:4");
  addFlow(1, "in_port=2,tcp,tp_dst=80,actions=mod_tp_dst:8080,output:1");
  addFlow(1, "in_port=1,actions=drop");
  const across = xlate.translate({ key: keyFrom(1), ...REQUEST });
  assert.equal(formatOdpActions(across.actions!), "set(tcp(dst=8080)),3");
  assert.deepEqual([...xlate.ofprotoUuid], new Array(16).fill(1), "br0's flow, br0's cookie UUID");
  // From p3 (odp 3) the flow is br1's, whose in_port=1 rule drops.
  const fromBr1 = xlate.translate({ key: keyFrom(3), ...REQUEST });
  assert.equal(formatOdpActions(fromBr1.actions!), "drop");
  assert.deepEqual([...xlate.ofprotoUuid], new Array(16).fill(2));
  // Pushing the first flow's stats credits a rule in each bridge, each under its bridge's id.
  xlate.pushStats(across.xcache, 3, 300, 1000, 0);
  const credits: number[][] = [];
  stats.drain((id, packets, _bytes, _used, bridge) => credits.push([bridge, id, packets]));
  const ruleOf = (t: OfTables) => [...t.rules()][0].id;
  assert.deepEqual(credits, [[0, ruleOf(tables[0]), 3], [1, ruleOf(tables[1]), 3]]);
});

Deno.test("updates reach the bridge they name: a new port list moves in_port dispatch", () => {
  const { xlate, bridges, addFlow } = twoBridges();
  addFlow(1, "actions=output:1");
  const ports = [...bridges[1].ports, { name: "p9", ofport: 9, odpPort: 9 }];
  xlate.update({ type: "bridge", bridge: 1, update: { type: "ports", ports } });
  const r = xlate.translate({ key: keyFrom(9), ...REQUEST });
  assert.equal(formatOdpActions(r.actions!), "3");
  addFlow(1, "priority=40000,in_port=9,actions=drop");
  assert.equal(formatOdpActions(xlate.translate({ key: keyFrom(9), ...REQUEST }).actions!), "drop");
});

Deno.test("a patch port whose peer rule runs conntrack: a datapath clone unless the output is last", () => {
  const { xlate, addFlow } = twoBridges();
  addFlow(1, "in_port=2,ip,actions=ct(commit),output:1");
  addFlow(0, "in_port=1,tcp,actions=output:4,output:LOCAL");
  assert.equal(
    formatOdpActions(xlate.translate({ key: keyFrom(1), ...REQUEST }).actions!),
    "clone(ct(commit),3),100",
  );
  addFlow(0, "priority=40000,in_port=1,tcp,actions=output:LOCAL,output:4");
  assert.equal(
    formatOdpActions(xlate.translate({ key: keyFrom(1), ...REQUEST }).actions!),
    "100,ct(commit),3",
  );
});

Deno.test("packets crossing a patch count as tx on the port and rx on its peer, at each push", () => {
  const { xlate, addFlow, patchCounters } = twoBridges();
  addFlow(0, "in_port=1,actions=output:4");
  addFlow(1, "actions=output:1");
  // A handler's translation of the flow's first packet counts it.
  const first = xlate.translate({ key: keyFrom(1), ...REQUEST, packets: 1, bytes: 118 });
  assert.equal(formatOdpActions(first.actions!), "3");
  const zero = { rxPackets: 0, rxBytes: 0, txPackets: 0, txBytes: 0 };
  assert.deepEqual(patchCounters.read(0), { ...zero, txPackets: 1, txBytes: 118 });
  assert.deepEqual(patchCounters.read(1), { ...zero, rxPackets: 1, rxBytes: 118 });
  // Revalidation pushes the megaflow's later packets through the cache.
  xlate.pushStats(first.xcache, 2, 5000000000, 1000, 0);
  assert.deepEqual(patchCounters.read(0), { ...zero, txPackets: 3, txBytes: 5000000118 });
  assert.deepEqual(patchCounters.read(1), { ...zero, rxPackets: 3, rxBytes: 5000000118 });
  // A flow that crosses nothing counts nothing.
  const local = xlate.translate({ key: keyFrom(3), ...REQUEST, packets: 1, bytes: 60 });
  xlate.pushStats(local.xcache, 4, 240, 1000, 0);
  assert.equal(patchCounters.read(0).txPackets, 3);
});

Deno.test("a recirculation frozen in the peer bridge resumes there, whatever bridge in_port names", () => {
  const { xlate, addFlow } = twoBridges();
  addFlow(0, "in_port=1,actions=output:4,output:LOCAL");
  addFlow(0, "table=1,actions=output:LOCAL");
  addFlow(1, "in_port=2,ip,actions=ct(commit,table=1)");
  addFlow(1, "table=1,actions=output:1");
  const first = xlate.translate({ key: keyFrom(1), ...REQUEST });
  const text = formatOdpActions(first.actions!);
  assert.match(text, /^clone\(ct\(commit\),recirc\(0x[0-9a-f]+\)\),100$/);
  const id = parseInt(text.match(/recirc\((0x[0-9a-f]+)\)/)![1], 16);
  const key = keyFrom(1);
  new DataView(key.buffer).setUint32(F.recirc_id.off, id);
  // br1's table 1 (output to its p3, odp 3), not br0's.
  assert.equal(formatOdpActions(xlate.translate({ key, ...REQUEST }).actions!), "3");
});

Deno.test("a controller upcall goes to the bridge whose rule sent it, named by the cookie's UUID", () => {
  const { xlate, addFlow, packetIns, recirc } = twoBridges();
  addFlow(0, "in_port=1,actions=output:4");
  addFlow(1, "in_port=2,actions=controller");
  const key = keyFrom(1);
  const res = xlate.translate({ key, ...REQUEST });
  const action = res.actions!.find((a) => a.type === "userspace");
  assert.ok(action?.type === "userspace" && action.userdata, formatOdpActions(res.actions!));
  const userdata = action.userdata;
  const packet = new Uint8Array(64);
  const upcall = {
    type: 2,
    inPort: 1,
    key,
    ufid: new Uint32Array(4),
    packet,
    packetLen: packet.length,
    userdata,
    userdataLen: userdata.length,
    lastAction: true,
    pmd: 0,
  };
  xlate.controllerUpcall(upcall);
  const got = (i: number) => {
    const pins: number[] = [];
    packetIns[i].drain(recirc, (pin) => pins.push(pin.inPort));
    return pins;
  };
  // The datapath in_port is br0's p1, but br1's rule (in_port=2: patch-br0) sent it.
  assert.deepEqual(got(1), [2]);
  assert.deepEqual(got(0), []);
  // A cookie naming no bridge goes by the datapath in_port.
  userdata.fill(0, 8, 24);
  xlate.controllerUpcall(upcall);
  assert.deepEqual(got(0), [2]);
});

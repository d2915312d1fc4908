import assert from "node:assert/strict";
import { F, formatOdpActions, newKey, parseOdpKey } from "../flow/mod.ts";
import { MacLearning, OfTables } from "../ofproto/mod.ts";
import { FROZEN_STATE_WORDS, RecircIdPool } from "../xlate/mod.ts";
import { BridgeXlate, type BridgeXlateInit } from "./bridge_xlate.ts";
import { RuleStatsQueue } from "./rule_stats.ts";
import { type PacketIn, PacketInQueue } from "./packet_in_queue.ts";
import { LearnQueue } from "./learn_queue.ts";
import type { XlateRequest } from "../upcall/mod.ts";

const PORTS = [1, 2].map((n) => ({ name: `p${n}`, ofport: n, odpPort: n }));

/** A translation request for `key` with no stats to push; `over` sets the rest. */
function request(key: Uint32Array, over: Partial<XlateRequest> = {}): XlateRequest {
  return {
    key,
    packet: null,
    packets: 0,
    bytes: 0,
    tcpFlags: 0,
    used: 0,
    wc: null,
    wantXcache: false,
    ...over,
  };
}

/** A bridge's init message with fresh shared queues; `over` replaces some of them. */
function newInit(over: Partial<BridgeXlateInit> = {}): BridgeXlateInit {
  return {
    bridge: "br0",
    ports: PORTS,
    mac: MacLearning.create().buffer,
    ruleStats: RuleStatsQueue.create().buffer,
    learn: LearnQueue.create().buffer,
    uuid: new Uint8Array(16),
    recirc: new RecircIdPool().buffer,
    packetIns: PacketInQueue.create().init,
    vlanLimit: 1,
    ...over,
  };
}

/** The datapath key of the tests' TCP packet from datapath port `inPort`. */
function tcpKey(inPort: number): Uint32Array {
  const key = newKey();
  parseOdpKey(
    `in_port(${inPort}),eth(src=50:54:00:00:00:05,dst=50:54:00:00:00:07),eth_type(0x0800),` +
      "ipv4(src=10.0.0.1,dst=10.0.0.2,proto=6,tos=0,ttl=64,frag=no),tcp(src=1,dst=2)",
    key,
    newKey(),
  );
  return key;
}

/** The recirc_id a controller action's cookie carries for a packet from `inPort`. */
function recircIdOf(x: BridgeXlate, inPort: number): number {
  const key = tcpKey(inPort);
  const r = x.translate(request(key));
  const m = /recirc_id=(\d+)/.exec(formatOdpActions(r.actions!));
  assert.ok(m, formatOdpActions(r.actions!));
  return Number(m[1]);
}

Deno.test("every worker's translation takes recirculation ids from the daemon's one pool", () => {
  const pool = new RecircIdPool();
  const init = newInit({ recirc: pool.buffer });
  const tables = new OfTables();
  tables.addFlow("actions=controller", 0);
  // Each worker receives its own structured clone of the init message.
  const handler = new BridgeXlate(structuredClone(init), tables);
  const revalidator = new BridgeXlate(structuredClone(init), tables);
  assert.equal(recircIdOf(handler, 1), 1);
  assert.equal(recircIdOf(handler, 2), 2);
  // A different thread sees the same frozen states under the same ids.
  assert.equal(recircIdOf(revalidator, 2), 2);
  assert.equal(recircIdOf(revalidator, 1), 1);
  assert.equal(
    pool.idFor(new Uint32Array(FROZEN_STATE_WORDS)),
    3,
    "the main thread's pool counts on from there",
  );
});

Deno.test("a handler's controller upcall reaches the main thread as a packet-in with its frozen state", () => {
  const pool = new RecircIdPool();
  const queue = PacketInQueue.create();
  const init = newInit({ recirc: pool.buffer, packetIns: queue.init });
  const tables = new OfTables();
  tables.addFlow("table=0,actions=load:0x2a->NXM_NX_REG3[],write_metadata:0x1234,goto_table:3", 0);
  tables.addFlow("table=3,cookie=0x77,in_port=2,actions=controller(reason=no_match)", 0);
  tables.addFlow("table=3,cookie=0x77,in_port=1,actions=controller(id=5)", 0);
  const handler = new BridgeXlate(structuredClone(init), tables);
  const key = tcpKey(2);
  const packet = Uint8Array.from({ length: 61 }, (_, i) => i);
  const r = handler.translate(request(key, { packet }));
  const userspace = r.actions!.find((a) => a.type === "userspace");
  assert.ok(userspace?.type === "userspace" && userspace.userdata, formatOdpActions(r.actions!));
  // The datapath's upcall: the action's cookie and the packet.
  const userdata = new Uint8Array(64);
  userdata.set(userspace.userdata);
  handler.controllerUpcall({
    type: 1,
    inPort: 2,
    key,
    ufid: new Uint32Array(4),
    packet,
    packetLen: 60,
    userdata,
    userdataLen: userspace.userdata.length,
    lastAction: true,
    pmd: 0,
  });
  const got: PacketIn[] = [];
  assert.equal(queue.drain(pool, (p) => got.push(p)), 1);
  assert.equal(got.length, 1);
  const pin = got[0];
  assert.deepEqual(pin.packet, packet.subarray(0, 60));
  assert.equal(pin.reason, 0);
  assert.equal(pin.tableId, 3);
  assert.equal(pin.cookie, 0x77n);
  assert.equal(pin.inPort, 2);
  assert.equal(pin.metadata, 0x1234n);
  assert.equal(pin.regs[3], 0x2a);
  assert.equal(pin.controllerId, 0);
  assert.equal(queue.drain(pool, () => assert.fail("drained twice")), 0);
});

Deno.test("reuseResult refills one result and actions array; without it each result is the caller's", () => {
  const init = newInit();
  const tables = new OfTables();
  tables.addFlow("in_port=1,actions=output:2", 0);
  tables.addFlow("in_port=2,actions=output:1,output:1", 0);
  const x = new BridgeXlate(init, tables);
  const keyFrom = (inPort: number) => {
    const key = newKey();
    parseOdpKey(`in_port(${inPort}),eth_type(0x0800)`, key, newKey());
    return key;
  };
  const translate = (inPort: number, reuseResult: boolean) =>
    x.translate(request(keyFrom(inPort), { reuseResult }));
  const kept = translate(1, false);
  const first = translate(1, true);
  assert.equal(formatOdpActions(first.actions!), "2");
  const firstActions = first.actions;
  const second = translate(2, true);
  assert.equal(second, first);
  assert.equal(second.actions, firstActions);
  assert.equal(formatOdpActions(second.actions!), "1,1");
  // A result asked for without the flag is neither refilled nor refills.
  const third = translate(2, false);
  assert.notEqual(third, second);
  assert.notEqual(third.actions, second.actions);
  assert.equal(formatOdpActions(kept.actions!), "2");
  assert.equal(formatOdpActions(second.actions!), "1,1");
});

Deno.test("a revalidator's translation of a limited learn whose flow is gone avoids caching; a handler's learns", () => {
  const init = newInit();
  const tables = new OfTables();
  tables.addFlow(
    "table=0,in_port=1,actions=learn(table=1,cookie=0x5,limit=1,result_dst=reg0[0]," +
      "NXM_OF_ETH_DST[]=NXM_OF_ETH_SRC[],output:NXM_OF_IN_PORT[]),resubmit(,2)",
    0,
  );
  tables.addFlow("table=2,reg0=1,actions=output:2", 0);
  const x = new BridgeXlate(structuredClone(init), tables);
  const key = tcpKey(1);
  const translate = (packet: Uint8Array | null) =>
    x.translate(request(key, { packet, wantXcache: true }));
  const revalidated = translate(null);
  assert.equal(revalidated.avoidCaching, true);
  assert.equal(formatOdpActions(revalidated.actions!), "2");
  assert.equal(translate(new Uint8Array(60)).avoidCaching, false, "with side effects it learns");
  tables.addFlow("table=1,cookie=0x5,dl_dst=50:54:00:00:00:05,actions=output:1", 0);
  assert.equal(translate(null).avoidCaching, false, "the learned flow is there");
});

Deno.test("a request's key with a datapath in_port is matched by its OpenFlow port and left as it was", () => {
  const ports = [{ name: "p1", ofport: 1, odpPort: 7 }, { name: "p2", ofport: 2, odpPort: 8 }];
  const tables = new OfTables();
  tables.addFlow("in_port=1,actions=output:2", 0);
  tables.addFlow("in_port=7,actions=drop", 0);
  const x = new BridgeXlate(newInit({ ports }), tables);
  const key = tcpKey(7);
  const before = key.slice();
  const wc = newKey();
  const r = x.translate(request(key, { wc, wcReplace: true }));
  assert.equal(formatOdpActions(r.actions!), "8");
  assert.equal(r.ofpInPort, 1);
  assert.deepEqual(key, before, "the caller's key is not modified");
  assert.equal(wc[F.in_port.off >> 2], 0xffffffff, "in_port is matched whole, as a datapath port");
});

Deno.test("wcReplace: the translation's wildcards replace what the caller's wc held, not added to it", () => {
  const tables = new OfTables();
  tables.addFlow("actions=output:2", 0);
  const x = new BridgeXlate(newInit(), tables);
  const key = tcpKey(1);
  const clean = newKey(), dirty = newKey().fill(0xffffffff);
  x.translate(request(key, { wc: clean }));
  x.translate(request(key, { wc: dirty, wcReplace: true }));
  assert.deepEqual(dirty, clean);
  assert.notEqual(clean[F.nw_src.off >> 2], 0xffffffff, "nw_src was not looked at");
});

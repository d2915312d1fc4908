import assert from "node:assert/strict";
import {
  exactField,
  F,
  FLOW_WORDS,
  newCtAction,
  type OdpAction,
  parseOdpActions,
  parsePacketSpec,
} from "../flow/mod.ts";
import { DummyNetdev } from "../netdev/mod.ts";
import { coverageTotal } from "../lib/mod.ts";
import { DpifNetdev } from "./dpif_netdev.ts";
import { flowExtract } from "../../tests/support/dpif/test_extract.ts";
import { PUT_CREATE } from "./protocol.ts";
import { flowHash5Tuple, flowHashSymmetricL3l4, MAX_RECIRC_DEPTH } from "./_pmd_recirc.ts";
import { hashInt } from "../lib/mod.ts";

const UDP =
  "in_port(1),eth(src=50:54:00:00:00:01,dst=50:54:00:00:00:02),eth_type(0x0800),ipv4(src=10.0.0.1,dst=10.0.0.2,proto=17,tos=0,ttl=64,frag=no),udp(src=1234,dst=53)";
const UDP_BACK =
  "in_port(2),eth(src=50:54:00:00:00:02,dst=50:54:00:00:00:01),eth_type(0x0800),ipv4(src=10.0.0.2,dst=10.0.0.1,proto=17,tos=0,ttl=64,frag=no),udp(src=53,dst=1234)";

function frameOf(spec: string): Uint8Array {
  const b = new Uint8Array(2048);
  return b.slice(0, parsePacketSpec(spec, b));
}

function setup() {
  const dp = DpifNetdev.create("dummy", {
    extract: flowExtract,
    flowCapacity: 256,
    upcallQueueWords: 1 << 15,
  });
  const p1 = new DummyNetdev("p1", "dummy", { recordTx: true });
  const p2 = new DummyNetdev("p2", "dummy", { recordTx: true });
  const p3 = new DummyNetdev("p3", "dummy", { recordTx: true });
  for (const p of [p1, p2, p3]) dp.portAdd(p);
  /** A flow on in_port, recirc_id and the extra fields set by `edit`. */
  const put = (
    inPort: number,
    recircId: number,
    actions: OdpAction[] | string,
    edit?: (k: DataView, m: Uint8Array) => void,
  ) => {
    const key = new Uint32Array(FLOW_WORDS), mask = new Uint32Array(FLOW_WORDS);
    const kv = new DataView(key.buffer), mb = new Uint8Array(mask.buffer);
    kv.setUint32(F.in_port.off, inPort);
    kv.setUint32(F.recirc_id.off, recircId);
    exactField(mb, F.in_port);
    exactField(mb, F.recirc_id);
    edit?.(kv, mb);
    const r = dp.flowPut({
      flags: PUT_CREATE,
      key,
      mask,
      actions: typeof actions === "string" ? parseOdpActions(actions) : actions,
    });
    assert.equal(r.error, 0);
  };
  return { dp, p1, p2, p3, put };
}

Deno.test("recirc runs the packet through the lookup again with its recirc_id, counted", () => {
  const { dp, p1, p2, put } = setup();
  put(1, 0, "recirc(0x7)");
  put(1, 7, "2");
  p1.receive([frameOf(UDP)]);
  p2.pollTx();
  assert.equal(p2.txFrames.length, 1);
  const s = dp.pmdStats();
  assert.equal(s.packetsReceived, 1);
  assert.equal(s.recirculations, 1);
  assert.equal(dp.getStats().hit, 2);
  dp.destroy();
});

Deno.test("a recirc loop stops at MAX_RECIRC_DEPTH and is dropped, not thrown", () => {
  const { dp, p1, put } = setup();
  const before = coverageTotal("datapath_drop_recirc_error") ?? 0;
  put(1, 0, "recirc(0x1)");
  put(1, 1, "recirc(0x1)");
  p1.receive([frameOf(UDP)]);
  assert.equal(dp.pmdStats().recirculations, MAX_RECIRC_DEPTH);
  assert.equal((coverageTotal("datapath_drop_recirc_error") ?? 0) - before, 1);
  assert.equal(dp.pmdStats().errors, 0);
  dp.destroy();
});

Deno.test("a recirc that is not the last action works on a copy: what follows sees the original", () => {
  const { dp, p1, p2, p3, put } = setup();
  put(1, 0, "recirc(0x2),2");
  put(1, 2, "set(ipv4(ttl=9)),3");
  const f = frameOf(UDP);
  p1.receive([f]);
  p2.pollTx();
  p3.pollTx();
  assert.deepEqual(p2.txFrames[0], f);
  assert.equal(p3.txFrames[0][14 + 8], 9);
  dp.destroy();
});

Deno.test("hash(l4) sets dp_hash as OVS's hash_int of the 5-tuple hash; sym_l4 is symmetric", () => {
  const { dp, p1, p2, put } = setup();
  const f = frameOf(UDP);
  const key = new Uint32Array(FLOW_WORDS);
  flowExtract(f, f.length, 1, key);
  const want = hashInt(flowHash5Tuple(key, 0), 5) >>> 0;
  put(1, 0, "hash(l4(5)),recirc(0x3)");
  put(1, 3, "2", (k, m) => {
    k.setUint32(F.dp_hash.off, want);
    exactField(m, F.dp_hash);
  });
  p1.receive([f]);
  p2.pollTx();
  assert.equal(p2.txFrames.length, 1);
  const back = frameOf(UDP_BACK), bkey = new Uint32Array(FLOW_WORDS);
  flowExtract(back, back.length, 2, bkey);
  assert.equal(flowHashSymmetricL3l4(key, 7), flowHashSymmetricL3l4(bkey, 7));
  assert.notEqual(flowHash5Tuple(key, 0), flowHash5Tuple(bkey, 0));
  dp.destroy();
});

Deno.test("ct then recirc: the second pass matches on ct_state; the reply is +est+rpl", () => {
  const { dp, p1, p2, p3, put } = setup();
  const ctState = (v: number) => (k: DataView, m: Uint8Array) => {
    k.setUint8(F.ct_state.off, v);
    m[F.ct_state.off] = 0xff;
  };
  put(1, 0, [{ ...newCtAction(), commit: true, zone: 9 }, { type: "recirc", id: 1 }]);
  put(1, 1, "2", ctState(0x21)); // +new+trk
  put(2, 0, "ct(zone=9),recirc(0x2)");
  put(2, 2, "3", ctState(0x2a)); // +est+rpl+trk
  p1.receive([frameOf(UDP)]);
  p2.pollTx();
  assert.equal(p2.txFrames.length, 1);
  p2.receive([frameOf(UDP_BACK)]);
  p3.pollTx();
  assert.equal(p3.txFrames.length, 1);
  assert.equal(dp.pmdStats().recirculations, 2);
  dp.destroy();
});

Deno.test("an execute carries the upcall's metadata: a recirc from it keeps ct_state", () => {
  const { dp, p2, p3, put } = setup();
  put(1, 4, "2", (k, m) => {
    k.setUint8(F.ct_state.off, 0x22);
    m[F.ct_state.off] = 0xff;
  });
  put(1, 4, "3", (k, m) => {
    k.setUint8(F.ct_state.off, 0);
    m[F.ct_state.off] = 0xff;
  });
  const f = frameOf(UDP);
  const md = new Uint32Array(FLOW_WORDS);
  new DataView(md.buffer).setUint8(F.ct_state.off, 0x22);
  const ops = [
    { type: "execute" as const, packet: f, inPort: 1, actions: parseOdpActions("recirc(0x4)"), md },
    { type: "execute" as const, packet: f, inPort: 1, actions: parseOdpActions("recirc(0x4)") },
  ];
  dp.operate(ops);
  p2.pollTx();
  p3.pollTx();
  assert.equal(p2.txFrames.length, 1);
  assert.equal(p3.txFrames.length, 1);
  dp.destroy();
});

Deno.test("clone(...) runs on a copy: its rewrite, ct and recirc reach only the copy", () => {
  const { dp, p1, p2, p3, put } = setup();
  const ctState = (v: number) => (k: DataView, m: Uint8Array) => {
    k.setUint8(F.ct_state.off, v);
    m[F.ct_state.off] = 0xff;
  };
  put(1, 0, "clone(set(ipv4(dst=10.0.0.9)),ct(commit,zone=9),recirc(0x5)),recirc(0x6)");
  put(1, 5, "3", ctState(0x21)); // the copy: +new+trk
  put(1, 6, "2", ctState(0)); // the packet after the clone: untracked, as it came in
  put(1, 6, "3", ctState(0x21));
  // The reply to the rewritten copy finds the connection it committed.
  put(2, 0, "ct(zone=9),recirc(0x7)");
  put(2, 7, "1", ctState(0x2a)); // +est+rpl+trk
  const f = frameOf(UDP);
  p1.receive([f]);
  p2.pollTx();
  p3.pollTx();
  assert.deepEqual(p2.txFrames, [f]);
  assert.equal(p3.txFrames.length, 1);
  assert.deepEqual([...p3.txFrames[0].subarray(14 + 16, 14 + 20)], [10, 0, 0, 9]);
  p2.receive([frameOf(UDP_BACK.replace("src=10.0.0.2", "src=10.0.0.9"))]);
  p1.pollTx();
  assert.equal(p1.txFrames.length, 1);
  assert.equal(dp.pmdStats().recirculations, 3);
  dp.destroy();
});

Deno.test("clone(...) nested in clone(...): each puts back the packet it copied", () => {
  const { dp, p1, p2, p3, put } = setup();
  put(1, 0, "clone(set(ipv4(ttl=9)),clone(set(ipv4(ttl=7)),3),3),2");
  const f = frameOf(UDP);
  p1.receive([f]);
  p2.pollTx();
  p3.pollTx();
  assert.deepEqual(p3.txFrames.map((t) => t[14 + 8]), [7, 9]);
  assert.deepEqual(p2.txFrames, [f]);
  dp.destroy();
});

import assert from "node:assert/strict";
import { FLOW_WORDS, flowExtract, MF_COUNT, MINIFLOW_WORDS, miniflowOf } from "../flow/mod.ts";
import { DummyNetdev } from "../netdev/mod.ts";
import { dpctlAddFlow, dpctlDelFlow, dpctlDumpFlows } from "./dpctl.ts";
import { DpifNetdev } from "./dpif_netdev.ts";
import { Emc } from "./emc.ts";
import type { FlowTable } from "./flow_table.ts";
import { udpFrame } from "../../tests/support/dpif/test_extract.ts";
import { hex, tcp4 } from "../../tests/support/flow/testpkt.ts";

/** An in-process datapath with ports 1 and 2, every dpcls hit inserted into the EMC. */
function datapath(): { dp: DpifNetdev; p1: DummyNetdev } {
  const dp = DpifNetdev.create("dummy", { extract: flowExtract, flowCapacity: 256 });
  const p1 = new DummyNetdev("p1");
  dp.portAdd(p1);
  dp.portAdd(new DummyNetdev("p2"));
  dp.setEmcInsertInvProb(1);
  return { dp, p1 };
}

const hits = (dp: DpifNetdev) => {
  const s = dp.pmdStats();
  return [s.emcHits, s.megaflowHits, s.missed];
};

const IP4 = "recirc_id(0),in_port(1),eth_type(0x0800)";
const IP6_UDP = hex(
  "505400000007 505400000005 86dd 60000000 0008 11 40" +
    "fe800000000000000000000000000001 ff020000000000000000000000000002 0035 0035 0008 0000",
);
/** An IPv4 first fragment: flowExtract's, not the one-pass path's. */
const FRAGMENT = (() => {
  const f = udpFrame(1, 7, 1, 2);
  f[20] = 0x20;
  return f;
})();

Deno.test("emc: a flow's next packets are EMC hits, for one-pass and flowExtract frames alike", () => {
  const { dp, p1 } = datapath();
  try {
    dpctlAddFlow(dp, [`${IP4},ipv4(proto=17,frag=no),udp(src=0/0,dst=0/0)`, "2"]);
    dpctlAddFlow(dp, [`${IP4},ipv4(proto=6,frag=no),tcp(src=0/0,dst=0/0)`, "2"]);
    dpctlAddFlow(dp, [`${IP4},ipv4(frag=first)`, "2"]);
    dpctlAddFlow(dp, ["recirc_id(0),in_port(1),eth_type(0x86dd),ipv6(frag=no)", "2"]);
    // Interleaved, so each kind of frame follows another kind in the PMD's key.
    for (let round = 0; round < 3; round++) {
      p1.receive([udpFrame(1, 7, 1, 2), tcp4("12"), IP6_UDP, FRAGMENT]);
    }
    assert.deepEqual(hits(dp), [8, 4, 0]);
    const dump = dpctlDumpFlows(dp, []);
    assert.equal(dump.match(/packets:3,/g)?.length, 4, dump);
  } finally {
    dp.destroy();
  }
});

Deno.test("emc: packets one megaflow covers each get an exact entry of their own", () => {
  const { dp, p1 } = datapath();
  try {
    dpctlAddFlow(dp, [`${IP4},ipv4(proto=17,frag=no),udp(src=0/0,dst=0/0)`, "2"]);
    p1.receive([udpFrame(1, 7, 1, 2), udpFrame(1, 7, 3, 2)]);
    assert.deepEqual(hits(dp), [0, 2, 0]);
    p1.receive([udpFrame(1, 7, 3, 2), udpFrame(1, 7, 1, 2), udpFrame(1, 7, 5, 2)]);
    assert.deepEqual(hits(dp), [2, 3, 0]);
  } finally {
    dp.destroy();
  }
});

Deno.test("emc: a deleted flow is never hit through its stale entry, even with its slot reused", () => {
  const { dp, p1 } = datapath();
  const flowTo = (dst: number) =>
    `${IP4.replace("eth_type", `eth(dst=50:54:00:00:00:0${dst}),eth_type`)},ipv4(frag=no)`;
  try {
    dpctlAddFlow(dp, [flowTo(7), "2"]);
    p1.receive([udpFrame(1, 7, 1, 2), udpFrame(1, 7, 1, 2)]);
    assert.deepEqual(hits(dp), [1, 1, 0]);
    dpctlDelFlow(dp, [flowTo(7)]);
    // The freed slot goes to the next flow, whose key the stale entry's packet does not have.
    dpctlAddFlow(dp, [flowTo(8), "2"]);
    p1.receive([udpFrame(1, 7, 1, 2)]);
    assert.deepEqual(hits(dp), [1, 1, 1]);
    assert.match(dpctlDumpFlows(dp, []), /eth\(dst=50:54:00:00:00:08\).*packets:0,/);
  } finally {
    dp.destroy();
  }
});

Deno.test("emc: the same hash with another miniflow is no hit; over-long miniflows are not cached", () => {
  // Only generation() is asked of the table: every slot is in its generation 0.
  const emc = new Emc({ generation: () => 0 } as unknown as FlowTable, 1);
  const key = new Uint32Array(FLOW_WORDS);
  key[21] = 1, key[40] = 2, key[78] = 3;
  const a = new Uint32Array(MINIFLOW_WORDS), b = new Uint32Array(MINIFLOW_WORDS);
  const h = miniflowOf(key, 0, a);
  key[78] = 4;
  miniflowOf(key, 0, b);
  emc.insert(a, h, 5);
  assert.equal(emc.lookup(a, h), 5);
  assert.equal(emc.lookup(b, h), -1, "the last value differs");
  b.set(a);
  b[2] ^= 1; // the map differs
  assert.equal(emc.lookup(b, h), -1);
  emc.clear();
  assert.equal(emc.lookup(a, h), -1);
  key.fill(9);
  const hLong = miniflowOf(key, 0, a);
  assert.equal(a[MF_COUNT], FLOW_WORDS);
  emc.insert(a, hLong, 6);
  assert.equal(emc.lookup(a, hLong), -1);
});

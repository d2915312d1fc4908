/**
 * The PMD's packet path (src/dpif/pmd.ts: flow_extract, EMC, dpcls, the
 * flow's actions in odp_execute.ts, outputs and upcalls) on arbitrary
 * frames, in-process, over flows whose actions rewrite every header they
 * can (set and masked set of each attribute, push and pop of VLANs,
 * truncation, a userspace action). Properties: no packet makes the PMD
 * throw (its error counter stays 0: pollPort's catch-all is the last
 * resort, not the plan); each packet is counted once as received and
 * once as a hit, miss or loss; each frame sent out is no longer than the
 * packet plus the VLAN headers pushed, and extracts without trouble.
 */
import assert from "node:assert/strict";
import {
  FLOW_WORDS,
  flowExtract,
  newKey,
  parseOdpActions,
  parseOdpKey,
} from "../../../src/flow/mod.ts";
import { DpifNetdev, DpifUpcall, PUT_CREATE } from "../../../src/dpif/mod.ts";
import { DummyNetdev } from "../../../src/netdev/mod.ts";
import { concat, mutateBytes, type Rng, type Target } from "../engine.ts";

/** Installed on in_port 1; prerequisites exact, as OVS's megaflows have them. */
const FLOWS: [string, string][] = [
  [
    "in_port(1),eth_type(0x0800),ipv4(proto=6)",
    "set(ipv4(src=10.1.1.1,dst=10.2.2.2,tos=0x4,ttl=9)),set(tcp(src=1,dst=2)),push_vlan(vid=10,pcp=3),2",
  ],
  [
    "in_port(1),eth_type(0x0800),ipv4(proto=17)",
    "set(udp(src=5,dst=6)),set(eth(src=00:00:00:00:00:01,dst=00:00:00:00:00:02)),pop_vlan," +
    "push_vlan(tpid=0x88a8,vid=100,pcp=0),push_vlan(vid=10,pcp=0),3",
  ],
  [
    "in_port(1),eth_type(0x0800),ipv4(proto=1)",
    "set(icmp(type=0,code=0)),set(ipv4(dst=10.0.0.0/255.0.0.0,tos=0x10)),trunc(20),2,3",
  ],
  [
    "in_port(1),eth_type(0x0800),ipv4(proto=132)",
    "set(sctp(dst=99)),userspace(pid=0,slow_path(action)),pop_vlan,2",
  ],
  [
    "in_port(1),eth_type(0x86dd),ipv6(proto=58)",
    "set(ipv6(src=2001:db8::99,hlimit=63)),set(icmpv6(type=136,code=0)),set(nd(target=fe80::1)),2",
  ],
  [
    "in_port(1),eth_type(0x86dd),ipv6(proto=6)",
    "set(ipv6(src=2001:db8::1/ffff::)),set(tcp(dst=8)),3",
  ],
  [
    "in_port(1),eth_type(0x0806)",
    "set(arp(sip=1.2.3.4,tip=5.6.7.8,op=2,sha=00:00:00:00:00:01,tha=00:00:00:00:00:02)),2",
  ],
  ["in_port(1),eth_type(0x8847)", "set(mpls(label=100,tc=0,ttl=63,bos=1)),pop_vlan,pop_vlan,2"],
  ["in_port(1),eth_type(0x05ff)", "push_vlan(vid=4095,pcp=7),set(skb_priority(0x5)),2"],
  [
    "in_port(1),eth_type(0x86dd),ipv6(proto=17)",
    "clone(set(udp(src=7,dst=8)),push_vlan(vid=5,pcp=1),ct(commit),2),clone(pop_vlan,3),2",
  ],
];
/** VLAN headers the flows above push, at most, to one packet. */
const MAX_PUSHED = 2;
/** Jumbo frames around this size: the largest MTU a port may have (the PMD takes super-frames beyond it whole). */
const MAX_FRAME = 9216;

let dp: DpifNetdev;
const ports: DummyNetdev[] = [];
const up = new DpifUpcall();
const key = new Uint32Array(FLOW_WORDS);

function setup(): void {
  ports.length = 0;
  dp = DpifNetdev.create("dummy", {
    extract: flowExtract,
    flowCapacity: 256,
    upcallQueueWords: 1 << 14,
  });
  for (const name of ["p1", "p2", "p3"]) {
    const p = new DummyNetdev(name, "dummy", { recordTx: name !== "p1" });
    dp.portAdd(p);
    ports.push(p);
  }
  for (const [k, a] of FLOWS) {
    const fk = newKey(), fm = newKey();
    parseOdpKey(k, fk, fm);
    const put = dp.flowPut({ flags: PUT_CREATE, key: fk, mask: fm, actions: parseOdpActions(a) });
    assert.equal(put.error, 0, `flow ${k} not installed`);
  }
}

export function checkPmd(frame: Uint8Array): void {
  const before = dp.pmdStats();
  assert.equal(ports[0].receive([frame]), 1, "frame refused by the port");
  const after = dp.pmdStats();
  assert.equal(after.errors - before.errors, 0, "a packet made the PMD throw");
  assert.equal(after.packetsReceived - before.packetsReceived, 1, "not received once");
  const counted = (s: typeof after) => s.emcHits + s.megaflowHits + s.missed + s.lost;
  assert.equal(counted(after) - counted(before), 1, "not counted once as hit, miss or loss");
  while (dp.recv(0, up));
  for (const p of ports.slice(1)) {
    p.pollTx();
    for (const out of p.txFrames) {
      assert.ok(
        out.length <= frame.length + 4 * MAX_PUSHED,
        `${out.length}-byte output of a ${frame.length}-byte packet`,
      );
      flowExtract(out, out.length, 2, key);
    }
    p.txFrames.length = 0;
  }
}

export const pmdTarget: Target<Uint8Array> = {
  name: "pmd",
  kind: "bytes",
  setup,
  teardown: () => dp.destroy(),
  mutate(rng: Rng, corpus: readonly Uint8Array[]): Uint8Array {
    const f = mutateBytes(rng, corpus, 2048);
    // Now and then a jumbo frame, around the largest MTU.
    if (!rng.chance(64)) return f;
    const pad = new Uint8Array(MAX_FRAME - 8 + rng.int(16) - f.length);
    return concat(f, pad.fill(rng.int(256)));
  },
  run: checkPmd,
};

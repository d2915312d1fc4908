/**
 * NORMAL: MAC learning, flooding, and each port VLAN mode, as OVS's
 * bridge configures them.
 */
import assert from "node:assert/strict";
import { F } from "../flow/mod.ts";
import { MacLearning } from "../ofproto/mod.ts";
import { maskOf, xlateText } from "../../tests/support/xlate/replay.ts";
import { xlateCachePush } from "./cache.ts";

const A = "50:54:00:00:00:0a", B = "50:54:00:00:00:0b";
const pkt = (port: number, src: string, dst: string, extra = "") =>
  `in_port=${port},dl_src=${src},dl_dst=${dst}${extra}`;
const NORMAL = ["actions=normal"];
const macBytes = (s: string) => Uint8Array.from(s.split(":"), (h) => parseInt(h, 16));

Deno.test("NORMAL floods an unknown destination to every other port and learns the source", () => {
  const ml = MacLearning.create();
  const out = xlateText(NORMAL, pkt(1, A, B, ",ip"), { ml });
  assert.equal(out.text, "2,3,100");
  assert.equal(out.macChanged, true);
  assert.equal(ml.lookup(macBytes(A), 0, 0, 0), 1);
  assert.equal(maskOf(out.wc, F.dl_src), "ffffffffffff");
  assert.equal(maskOf(out.wc, F.dl_dst), "ffffffffffff");
});

Deno.test("NORMAL forwards to a learned port and drops traffic back to the input port", () => {
  const ml = MacLearning.create();
  xlateText(NORMAL, pkt(1, A, B), { ml });
  assert.equal(xlateText(NORMAL, pkt(2, B, A), { ml }).text, "1");
  assert.equal(xlateText(NORMAL, pkt(1, B, A), { ml }).text, "drop");
});

Deno.test("a translation without side effects learns nothing but remembers what to learn", () => {
  const ml = MacLearning.create();
  const out = xlateText(NORMAL, pkt(1, A, B), { ml, sideEffects: false });
  assert.equal(ml.count, 0);
  assert.equal(out.cache.normal.length, 1);
  assert.equal(xlateCachePush(out.cache, 1, 60, () => {}, ml, 0), true);
  assert.equal(ml.lookup(macBytes(A), 0, 0, 0), 1);
});

Deno.test("a learned MAC is forgotten after 300 seconds and NORMAL floods again", () => {
  const ml = MacLearning.create();
  xlateText(NORMAL, pkt(1, A, B), { ml });
  assert.equal(xlateText(NORMAL, pkt(2, B, A), { ml, nowMs: 299_000 }).text, "1");
  assert.equal(
    xlateText(NORMAL, pkt(3, "50:54:00:00:00:0c", A), { ml, nowMs: 300_500 }).text,
    "1,2,100",
  );
});

Deno.test("reserved multicast destinations (STP) are never forwarded", () => {
  assert.equal(xlateText(NORMAL, pkt(1, A, "01:80:c2:00:00:00")).text, "drop");
});

Deno.test("a broadcast ARP request is checked for being gratuitous", () => {
  const out = xlateText(NORMAL, pkt(1, A, "ff:ff:ff:ff:ff:ff", ",arp,arp_op=1"));
  assert.equal(out.text, "2,3,100");
  assert.equal(maskOf(out.wc, F.nw_proto), "ff");
  assert.equal(maskOf(out.wc, F.nw_src), "ffffffff");
});

Deno.test("an access port tags what it receives and refuses tagged packets", () => {
  const cfg = { portConfig: ["p1 tag=10", "p2 tag=10", "p3 trunks=10,20"] };
  assert.equal(xlateText(NORMAL, pkt(1, A, B), cfg).text, "2,push_vlan(vid=10,pcp=0),3,100");
  assert.equal(xlateText(NORMAL, pkt(1, A, B, ",dl_vlan=10"), cfg).text, "drop");
});

Deno.test("a trunk port accepts only its trunked VLANs", () => {
  const cfg = { portConfig: ["p1 tag=10", "p2 trunks=10,20"] };
  assert.equal(
    xlateText(NORMAL, pkt(2, A, B, ",dl_vlan=10"), cfg).text,
    "pop_vlan,1,push_vlan(vid=10,pcp=0),3,100",
  );
  assert.equal(xlateText(NORMAL, pkt(2, A, B, ",dl_vlan=30"), cfg).text, "drop");
  assert.equal(xlateText(NORMAL, pkt(2, A, B), cfg).text, "drop");
});

Deno.test("a native-untagged port sends its native VLAN untagged and others tagged", () => {
  const cfg = { portConfig: ["p1 tag=20 vlan_mode=native-untagged", "p2 trunks=20,30"] };
  assert.equal(
    xlateText(NORMAL, pkt(2, A, B, ",dl_vlan=20"), cfg).text,
    "pop_vlan,1,push_vlan(vid=20,pcp=0),3,100",
  );
  assert.equal(xlateText(NORMAL, pkt(2, A, B, ",dl_vlan=30"), cfg).text, "1,3,100");
  assert.equal(xlateText(NORMAL, pkt(1, A, B), cfg).text, "push_vlan(vid=20,pcp=0),2,3,100");
});

Deno.test("a native-tagged port keeps the tag on output", () => {
  const cfg = { portConfig: ["p1 tag=20 vlan_mode=native-tagged", "p2 tag=20"] };
  assert.equal(xlateText(NORMAL, pkt(2, A, B), cfg).text, "push_vlan(vid=20,pcp=0),1,3,100");
});

Deno.test("the VLAN id a tagged packet arrives with is part of the megaflow", () => {
  const out = xlateText(NORMAL, pkt(1, A, B, ",dl_vlan=10,dl_vlan_pcp=2"));
  assert.equal(out.text, "2,3,100");
  assert.equal(maskOf(out.wc, F.vlan0_tci), "1fff");
});

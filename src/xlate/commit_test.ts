import assert from "node:assert/strict";
import { bytesOf, F, formatOdpActions, newKey, type OdpAction, setUint } from "../flow/mod.ts";
import { commitKeys } from "./commit.ts";
import { maskOf } from "../../tests/support/xlate/replay.ts";

function ipFlow() {
  const k = newKey();
  const b = bytesOf(k);
  setUint(b, F.dl_type.off, 2, 0x0800);
  b[F.nw_proto.off] = 6;
  setUint(b, F.nw_src.off, 4, 0x0a000001);
  b[F.nw_ttl.off] = 64;
  return k;
}

Deno.test("nothing changed, nothing committed", () => {
  const f = ipFlow();
  const acts: OdpAction[] = [];
  commitKeys(f, f.slice(), newKey(), acts);
  assert.equal(acts.length, 0);
});

Deno.test("an IPv4 change is a masked set with the bits the actions looked at", () => {
  const base = ipFlow(), flow = ipFlow(), wc = newKey();
  bytesOf(flow)[F.nw_ttl.off] = 63;
  bytesOf(wc)[F.nw_ttl.off] = 0xff;
  const acts: OdpAction[] = [];
  commitKeys(flow, base, wc, acts);
  assert.equal(formatOdpActions(acts), "set(ipv4(ttl=63))");
  assert.equal(acts[0].type, "set_masked");
  assert.equal(maskOf(wc, F.nw_src), "", "a masked set widens nothing");
  assert.equal(bytesOf(base)[F.nw_ttl.off], 63, "the base follows the flow");
});

Deno.test("without masked sets the whole attribute is set and matched", () => {
  const base = ipFlow(), flow = ipFlow(), wc = newKey();
  bytesOf(flow)[F.nw_ttl.off] = 63;
  const acts: OdpAction[] = [];
  commitKeys(flow, base, wc, acts, false);
  assert.equal(acts[0].type, "set");
  assert.equal(maskOf(wc, F.nw_src), "ffffffff");
  assert.equal(maskOf(wc, F.nw_proto), "ff");
  assert.equal(maskOf(wc, F.nw_frag), "03");
});

Deno.test("with nw_proto 0 there is no L3 header to rewrite", () => {
  const base = ipFlow(), flow = ipFlow();
  bytesOf(base)[F.nw_proto.off] = 0;
  bytesOf(flow)[F.nw_proto.off] = 0;
  bytesOf(flow)[F.nw_ttl.off] = 1;
  const acts: OdpAction[] = [];
  commitKeys(flow, base, newKey(), acts);
  assert.equal(acts.length, 0);
});

Deno.test("VLAN changes pop the differing outer headers and push the new ones", () => {
  const base = ipFlow(), flow = ipFlow(), wc = newKey();
  setUint(bytesOf(base), F.vlan0_tpid.off, 2, 0x8100);
  setUint(bytesOf(base), F.vlan0_tci.off, 2, 0x1007);
  setUint(bytesOf(flow), F.vlan0_tpid.off, 2, 0x8100);
  setUint(bytesOf(flow), F.vlan0_tci.off, 2, 0x100f);
  const acts: OdpAction[] = [];
  commitKeys(flow, base, wc, acts);
  assert.equal(formatOdpActions(acts), "pop_vlan,push_vlan(vid=15,pcp=0)");
  assert.equal(maskOf(wc, F.vlan0_tci), "ffff");
});

Deno.test("an ARP rewrite needs the slow path", () => {
  const base = newKey(), flow = newKey();
  setUint(bytesOf(base), F.dl_type.off, 2, 0x0806);
  bytesOf(base)[F.nw_proto.off] = 1;
  flow.set(base);
  setUint(bytesOf(flow), F.nw_src.off, 4, 0x01020304);
  const acts: OdpAction[] = [];
  assert.equal(commitKeys(flow, base, newKey(), acts), 1 << 5);
  assert.equal(acts.length, 1);
});

Deno.test("an ICMP type rewrite is a plain set that needs the slow path", () => {
  const base = ipFlow(), wc = newKey();
  bytesOf(base)[F.nw_proto.off] = 1;
  bytesOf(base)[F.tp_src.off + 1] = 8;
  const flow = base.slice();
  bytesOf(flow)[F.tp_src.off + 1] = 0;
  const acts: OdpAction[] = [];
  assert.equal(commitKeys(flow, base, wc, acts), 1 << 5);
  assert.equal(acts[0].type, "set");
  assert.equal(maskOf(wc, F.tp_src), "00ff");
  assert.equal(maskOf(wc, F.tp_dst), "00ff");
});

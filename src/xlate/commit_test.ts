import assert from "node:assert/strict";
import {
  bytesOf,
  F,
  type FieldSpan,
  formatOdpActions,
  newKey,
  type OdpAction,
  setUint,
} from "../flow/mod.ts";
import { commitKeys, commitOdpActions } from "./commit.ts";
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

Deno.test("a change in any one committed field is committed the same with the word compare first as without it", () => {
  const cases: [number, FieldSpan, number][] = [
    [0x0800, F.dl_src, 4],
    [0x0800, F.dl_dst, 4],
    [0x0800, F.nw_src, 4],
    [0x0800, F.nw_dst, 4],
    [0x0800, F.nw_tos, 1],
    [0x0800, F.nw_ttl, 1],
    [0x0800, F.tp_src, 2],
    [0x0800, F.tp_dst, 2],
    [0x0800, F.vlan0_tci, 2],
    [0x0800, F.skb_priority, 4],
    [0x0800, F.pkt_mark, 4],
    [0x86dd, F.ipv6_src, 4],
    [0x86dd, F.ipv6_dst, 4],
    [0x86dd, F.ipv6_label, 4],
    [0x86dd, F.nd_target, 4],
    [0x0806, F.arp_sha, 4],
    [0x0806, F.arp_tha, 4],
  ];
  for (const [dlType, span, len] of cases) {
    const run = (words: boolean) => {
      const base = ipFlow(), flow = ipFlow(), wc = newKey();
      for (const k of [base, flow]) setUint(bytesOf(k), F.dl_type.off, 2, dlType);
      if (dlType === 0x86dd) { for (const k of [base, flow]) bytesOf(k)[F.nw_proto.off] = 58; }
      // The last bytes of the field: a VLAN TCI with CFI set, the rest anything.
      setUint(bytesOf(flow), span.off + span.len - len, len, span === F.vlan0_tci ? 0x1005 : 7);
      const actions: OdpAction[] = [];
      const s = { f: bytesOf(flow), b: bytesOf(base), w: bytesOf(wc), actions };
      const slow = commitOdpActions(words ? { ...s, flow, base } : s);
      return { slow, acts: formatOdpActions(actions), wc: [...wc], base: [...base] };
    };
    const fast = run(true);
    assert.notEqual(fast.acts, "", `${span.off}: a change is committed`);
    assert.deepEqual(fast, run(false), `field at byte ${span.off}`);
  }
});

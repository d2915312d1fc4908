import assert from "node:assert/strict";
import { odpMaskNormalize } from "./odp_mask.ts";
import { newKey } from "./key.ts";
import { formatOdpKey } from "./odp_key_format.ts";
import { parseOdpKey } from "./odp_key_parse.ts";
import { F, FRAG_ANY, FRAG_MASK, vlanOffset } from "./layout.ts";
import { randomFlow, rnd } from "../../tests/support/flow/testgen.ts";
import { miniflowBits } from "./miniflow.ts";

Deno.test("normalizing a mask keeps what its datapath text keeps, and only that", () => {
  for (let i = 0; i < 2000; i++) {
    const g = randomFlow();
    // Noise in fields the flow's attributes do not carry.
    for (const s of [F.regs, F.metadata, F.conj_id, F.igmp_group_ip4, F.nsh, F.actset_output]) {
      for (let j = s.off; j < s.off + s.len; j++) g.m[j] = rnd(256);
    }
    const text = formatOdpKey(g.key, g.mask, { verbose: true });
    const k2 = newKey(), viaText = newKey();
    parseOdpKey(text, k2, viaText);
    const out = newKey();
    odpMaskNormalize(g.key, g.mask, out);
    assert.deepEqual(out, viaText, text);
    odpMaskNormalize(g.key, g.mask, g.mask);
    assert.deepEqual(g.mask, viaText, "in place: " + text);
  }
});

Deno.test("a megaflow mask from translation gains the no-VLAN match and loses unseen bits", () => {
  const key = newKey(), mask = newKey(), k2 = newKey();
  parseOdpKey(
    "in_port(1),eth(src=50:54:00:00:00:05,dst=50:54:00:00:00:07),eth_type(0x0800),ipv4(src=10.0.0.1,dst=10.0.0.2,proto=6,tos=0,ttl=64,frag=later)",
    key,
    k2,
  );
  const m = new Uint8Array(mask.buffer);
  m.fill(0xff, F.in_port.off, F.in_port.off + 4);
  m.fill(0xff, F.dl_type.off, F.dl_type.off + 2);
  m[F.nw_frag.off] = FRAG_ANY;
  m.fill(0xff, F.tp_src.off, F.tp_src.off + 4);
  odpMaskNormalize(key, mask, mask);
  assert.equal(m[F.nw_frag.off], FRAG_MASK);
  assert.equal(m[F.tp_src.off], 0, "no ports in a later fragment");
  assert.deepEqual([...m.subarray(vlanOffset(0), vlanOffset(0) + 4)], [255, 255, 255, 255]);
  assert.deepEqual(miniflowBits(mask, key), [2, 1]);
});

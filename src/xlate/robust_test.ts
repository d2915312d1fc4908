/**
 * Translation never throws, whatever the flow: random keys (a fixed seed,
 * so failures reproduce) through rule sets that use every action.
 */
import assert from "node:assert/strict";
import { bytesOf, F, newKey, setUint } from "../flow/mod.ts";
import { Replay } from "../../tests/support/xlate/replay.ts";
import { xlate } from "./xlate.ts";

/** Rule sets, each with the OpenFlow version its rules go in over. */
const RULE_SETS: [number, string[]][] = [
  [1, ["actions=normal"]],
  [4, [
    "table=0,priority=10,ip,actions=dec_ttl,mod_nw_tos:8,resubmit(,1)",
    "table=0,priority=5,actions=mod_vlan_vid:7,strip_vlan,push_vlan:0x8100,flood",
    "table=1,tcp,actions=move:NXM_OF_TCP_SRC[]->NXM_NX_REG0[0..15],mod_tp_dst:9,output:2",
    "table=1,priority=0,actions=controller,all,local,in_port,enqueue:2:1",
  ]],
  [1, [
    "arp,actions=load:0x2->NXM_OF_ARP_OP[],set_field:1.2.3.4->arp_spa,output:2",
    "actions=resubmit(,0)",
  ]],
];

function rng(seed: number) {
  return () => (seed = (Math.imul(seed, 1103515245) + 12345) >>> 0) / 2 ** 32;
}

Deno.test("random flows translate without throwing", () => {
  const rand = rng(42);
  const types = [0x0800, 0x86dd, 0x0806, 0x8100, 0x88a8, 0x1234, 0];
  for (const [version, rules] of RULE_SETS) {
    const r = new Replay(3);
    rules.forEach((x) => r.tables.addFlow(x, 0, { version }));
    for (let i = 0; i < 500; i++) {
      const k = newKey();
      const b = bytesOf(k);
      for (let j = F.dl_dst.off; j < b.length; j++) if (rand() < 0.3) b[j] = (rand() * 256) | 0;
      setUint(b, F.dl_type.off, 2, types[(rand() * types.length) | 0]);
      setUint(b, F.in_port.off, 4, [1, 2, 3, 0xfffe, 77][(rand() * 5) | 0]);
      const out = xlate({
        flow: k,
        tables: r.tables,
        bridge: r.bridge,
        ml: r.ml,
        nowMs: i,
        recircIds: r.recircIds,
        sideEffects: true,
      });
      assert.ok(Array.isArray(out.actions));
    }
  }
});

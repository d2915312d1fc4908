/**
 * Actions after a trip over OpenFlow 1.0 and 1.3 (actionsOverWire),
 * printed as OVS prints ofpacts: what `ovs-ofctl dump-flows` shows.
 */
import assert from "node:assert/strict";
import { parseActions } from "./action_parse.ts";
import { formatActions, OFP10_VERSION, OFP13_VERSION } from "./action_format.ts";
import { actionsOverWire } from "./action_wire.ts";
import { newMatch, parseMatchItem } from "./match.ts";

const over = (text: string, version: number, match = newMatch()) =>
  formatActions(actionsOverWire(parseActions(text), version, match));
const both = (text: string) => [over(text, OFP10_VERSION), over(text, OFP13_VERSION)];

Deno.test("reserved ports and controller print in OVS's capitals", () => {
  assert.deepEqual(both("in_port,flood,all,local,normal,output:NORMAL,3"), [
    "IN_PORT,FLOOD,ALL,LOCAL,NORMAL,NORMAL,output:3",
    "IN_PORT,FLOOD,ALL,LOCAL,NORMAL,NORMAL,output:3",
  ]);
  assert.equal(
    formatActions(parseActions("controller:100,controller(id=3)")),
    "CONTROLLER:100,controller(id=3)",
  );
  assert.equal(formatActions(parseActions("drop")), "drop");
  assert.equal(formatActions([]), "drop");
});

Deno.test("set_field prints as an OF1.0 action or an NXM load in OpenFlow 1.0", () => {
  assert.deepEqual(
    both("set_field:10.0.0.1->ip_src,set_field:0x5->reg0,set_field:4196->vlan_vid"),
    [
      "mod_nw_src:10.0.0.1,load:0x5->NXM_NX_REG0[],mod_vlan_vid:100",
      "set_field:10.0.0.1->ip_src,set_field:0x5->reg0,set_field:4196->vlan_vid",
    ],
  );
  assert.deepEqual(both("set_field:0x10/0xf0->reg1,set_field:0/0xff->metadata"), [
    "load:0x1->NXM_NX_REG1[4..7],load:0->OXM_OF_METADATA[0..7]",
    "load:0x1->NXM_NX_REG1[4..7],load:0->OXM_OF_METADATA[0..7]",
  ]);
});

Deno.test("mod_* and strip_vlan print as set_field and pop_vlan in OpenFlow 1.3", () => {
  assert.deepEqual(
    both("mod_nw_tos:32,mod_vlan_vid:10,mod_vlan_pcp:5,strip_vlan,mod_dl_dst:00:00:00:00:00:02"),
    [
      "mod_nw_tos:32,mod_vlan_vid:10,mod_vlan_pcp:5,strip_vlan,mod_dl_dst:00:00:00:00:00:02",
      "set_field:8->ip_dscp,push_vlan:0x8100,set_field:4106->vlan_vid,set_field:5->vlan_pcp,pop_vlan,set_field:00:00:00:00:00:02->eth_dst",
    ],
  );
});

Deno.test("pipeline actions keep their shape; goto_table is a resubmit in OpenFlow 1.0", () => {
  assert.deepEqual(both("resubmit(,2),resubmit:3,resubmit(4,5),goto_table:6"), [
    "resubmit(,2),resubmit:3,resubmit(4,5),resubmit(,6)",
    "resubmit(,2),resubmit:3,resubmit(4,5),goto_table:6",
  ]);
  assert.equal(
    formatActions(parseActions("write_metadata:0x1,note:aa")),
    "write_metadata:0x1,note:aa.00.00.00.00.00",
  );
  assert.equal(
    formatActions(parseActions("move:NXM_OF_ETH_SRC[0..15]->NXM_NX_REG5[16..31],load:0->reg2[3]")),
    "move:NXM_OF_ETH_SRC[0..15]->NXM_NX_REG5[16..31],load:0->NXM_NX_REG2[3]",
  );
});

Deno.test("a partial set_field is a whole-field OF1.0 action over OpenFlow 1.0, loads over 1.3", () => {
  assert.deepEqual(both("set_field:10.0.0.0/255.255.255.0->ip_dst,set_field:80/0xff->tp_dst"), [
    "mod_nw_dst:10.0.0.0,mod_tp_dst:80",
    "load:0xa0000->NXM_OF_IP_DST[8..31],load:0x50->NXM_OF_TCP_DST[0..7]",
  ]);
});

Deno.test("mod_vlan_vid over OpenFlow 1.3 pushes a VLAN only where the flow has none", () => {
  const vlan = newMatch();
  parseMatchItem(vlan, "dl_vlan", "5", { nxmOnly: false });
  assert.equal(
    over("mod_vlan_vid:100", OFP13_VERSION),
    "push_vlan:0x8100,set_field:4196->vlan_vid",
  );
  assert.equal(over("mod_vlan_vid:100", OFP13_VERSION, vlan), "set_field:4196->vlan_vid");
  assert.equal(
    over("mod_vlan_vid:100,mod_vlan_pcp:1", OFP13_VERSION),
    "push_vlan:0x8100,set_field:4196->vlan_vid,set_field:1->vlan_pcp",
  );
});

Deno.test("the trip back and forth again changes nothing more", () => {
  const text = "set_field:10.0.0.1->ip_src,mod_nw_ttl:3,enqueue:2:1,strip_vlan,set_field:1/1->reg0";
  for (const v of [OFP10_VERSION, OFP13_VERSION]) {
    const once = actionsOverWire(parseActions(text), v, newMatch());
    assert.equal(formatActions(actionsOverWire(once, v, newMatch())), formatActions(once));
  }
});

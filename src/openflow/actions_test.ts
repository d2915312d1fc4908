import assert from "node:assert/strict";
import { formatActions, parseFlowMod } from "../ofproto/mod.ts";
import { WireReader, WireWriter } from "./_buf.ts";
import { OfpError } from "./errors.ts";
import { pullActions, pullInstructions, putActions10, putInstructions } from "./actions.ts";

const ACTIONS = [
  "output:2",
  "CONTROLLER:65535",
  "controller(reason=no_match,max_len=128,id=3)",
  "mod_vlan_vid:7,mod_vlan_pcp:3,strip_vlan",
  "mod_dl_src:00:11:22:33:44:55,mod_dl_dst:66:77:88:99:aa:bb",
  "mod_nw_src:10.0.0.1,mod_nw_dst:10.0.0.2,mod_nw_tos:16",
  "mod_tp_src:1,mod_tp_dst:2",
  "enqueue:2:7",
  "resubmit:3,resubmit(,4),resubmit(1,5)",
  "load:0x3->NXM_NX_REG1[0..7],move:NXM_NX_REG0[]->NXM_NX_REG2[]",
  "set_field:10.0.0.9->ip_dst,set_field:4103->vlan_vid",
  "push_vlan:0x8100,pop_vlan",
  "dec_ttl,mod_nw_ttl:9",
  "note:01.02.03.04.05.06.07",
  "write_metadata:0x5/0xff,goto_table:3",
  "normal,flood,all,local,in_port",
  "drop",
];

/** `actions` as ovs-ofctl sends them in `version`, written and read back by udpif. */
function roundTrip(actions: string, version: number): string {
  let fm;
  try {
    fm = parseFlowMod(`tcp,actions=${actions}`, "add", false, { version });
  } catch {
    return "unsendable";
  }
  const w = new WireWriter();
  if (version === 1) putActions10(w, fm.actions!, fm.match);
  else putInstructions(w, fm.actions!, version, fm.match);
  const bytes = w.finish();
  const r = new WireReader(bytes);
  const back = version === 1
    ? pullActions(r, bytes.length, version)
    : pullInstructions(r, bytes.length, version);
  assert.equal(formatActions(back), formatActions(fm.actions!), `${actions} (version ${version})`);
  return formatActions(back);
}

Deno.test("actions: what ovs-ofctl sends in OpenFlow 1.0 and 1.3 reads back as the switch keeps it", () => {
  for (const a of ACTIONS) {
    roundTrip(a, 1);
    roundTrip(a, 4);
  }
  assert.equal(roundTrip("set_field:10.0.0.9->ip_dst,output:3", 1), "mod_nw_dst:10.0.0.9,output:3");
  assert.equal(
    roundTrip("mod_vlan_vid:7,output:3", 4),
    "push_vlan:0x8100,set_field:4103->vlan_vid,output:3",
  );
  assert.equal(roundTrip("goto_table:3", 1), "resubmit(,3)");
});

function fails(bytes: number[], name: string, version = 1, instructions = false): void {
  const b = new Uint8Array(bytes);
  assert.throws(
    () =>
      instructions
        ? pullInstructions(new WireReader(b), b.length, version)
        : pullActions(new WireReader(b), b.length, version),
    (e) => e instanceof OfpError && e.errorName === name,
    name,
  );
}

Deno.test("actions: bad lengths, unknown types, vendors and instructions get OVS's errors", () => {
  fails([0, 0, 0, 4, 0, 0, 0, 0], "OFPBAC_BAD_LEN");
  fails([0, 0, 0, 16, 0, 1, 0, 0], "OFPBAC_BAD_LEN");
  fails([0, 99, 0, 8, 0, 0, 0, 0], "OFPBAC_BAD_TYPE");
  fails([0, 99, 0, 8, 0, 0, 0, 0], "OFPBAC_BAD_TYPE", 4);
  fails([0xff, 0xff, 0, 16, 0, 0, 0x12, 0x34, 0, 1, 0, 0, 0, 0, 0, 0], "OFPBAC_BAD_VENDOR");
  fails([0xff, 0xff, 0, 16, 0, 0, 0x23, 0x20, 0, 200, 0, 0, 0, 0, 0, 0], "OFPBAC_BAD_VENDOR_TYPE");
  fails([0, 1, 0, 8, 0x10, 0, 0, 0], "OFPBAC_BAD_ARGUMENT");
  fails([0, 6, 0, 8, 0, 0, 0, 0], "OFPBIC_UNSUP_INST", 4, true);
  fails([0, 99, 0, 8, 0, 0, 0, 0], "OFPBIC_UNKNOWN_INST", 4, true);
  fails([0, 1, 0, 8, 255, 0, 0, 0], "OFPBIC_BAD_TABLE_ID", 4, true);
  // A set_field to a field udpif does not know (OXM class 0x8000, field 40).
  fails([0, 25, 0, 16, 0x80, 0, 0x50, 4, 0, 0, 0, 1, 0, 0, 0, 0], "OFPBAC_BAD_SET_TYPE", 4);
});

/**
 * The wildcard rules translation applies on its own, whatever the rules:
 * the fields every megaflow matches and the ones it must never match.
 */
import assert from "node:assert/strict";
import { bytesOf, F, newKey, setUint } from "../flow/mod.ts";
import { maskedFields, maskOf, xlateText } from "../../tests/support/xlate/replay.ts";
import { megaflowMask } from "./xlate.ts";

Deno.test("every megaflow matches recirc_id, in_port, packet_type and dl_type", () => {
  const out = xlateText(["actions=output:2"], "in_port=1,dl_type=0x1234");
  assert.deepEqual(maskedFields(out.wc), ["in_port", "recirc_id", "packet_type", "dl_type"]);
});

Deno.test("IP megaflows also match the fragment bits", () => {
  const out = xlateText(["actions=output:2"], "in_port=1,ipv6");
  assert.equal(maskOf(out.wc, F.nw_frag), "03");
});

Deno.test("ICMP type and code are matched on 8 bits at most", () => {
  const out = xlateText(
    ["icmp,icmp_type=3,icmp_code=1,actions=output:2"],
    "in_port=1,icmp,icmp_type=3,icmp_code=1",
  );
  assert.equal(maskOf(out.wc, F.tp_src), "00ff");
  assert.equal(maskOf(out.wc, F.tp_dst), "00ff");
});

Deno.test("a later fragment never matches L4 ports", () => {
  const out = xlateText(["tcp,tp_dst=80,actions=output:2"], "in_port=1,tcp,nw_frag=later");
  assert.equal(maskOf(out.wc, F.tp_dst), "");
});

Deno.test("registers and metadata never reach the megaflow", () => {
  const out = xlateText([
    "table=0,actions=load:1->NXM_NX_REG3[],write_metadata:7,resubmit(,1)",
    "table=1,reg3=1,metadata=7,actions=output:2",
  ], "in_port=1,ip");
  assert.equal(out.text, "2");
  assert.equal(maskOf(out.wc, F.regs), "");
  assert.equal(maskOf(out.wc, F.metadata), "");
});

Deno.test("a matched VLAN TCI always includes the CFI bit", () => {
  const out = xlateText(["vlan_tci=0x0005/0x000f,actions=output:2"], "in_port=1,dl_vlan=5");
  assert.equal(out.text, "2");
  assert.equal(maskOf(out.wc, F.vlan0_tci), "100f");
});

Deno.test("VLAN bits are not matched for a packet that had no VLAN header", () => {
  const out = xlateText(["dl_vlan=5,actions=output:2", "priority=0,actions=drop"], "in_port=1,ip");
  assert.equal(out.text, "drop");
  assert.equal(maskOf(out.wc, F.vlan0_tci), "");
});

Deno.test("an untagged packet's datapath mask matches 'no VLAN' exactly", () => {
  const upcall = newKey();
  assert.equal(maskOf(megaflowMask(upcall, newKey()), F.vlan0_tci), "ffff");
  assert.equal(maskOf(megaflowMask(upcall, newKey()), F.vlan0_tpid), "ffff");
});

Deno.test("a tagged packet's datapath mask matches at least its VLAN id", () => {
  const upcall = newKey();
  setUint(bytesOf(upcall), F.vlan0_tci.off, 2, 0x1005);
  assert.equal(maskOf(megaflowMask(upcall, newKey()), F.vlan0_tci), "1fff");
  const wc = newKey();
  setUint(bytesOf(wc), F.vlan0_tci.off, 2, 0xf000);
  assert.equal(maskOf(megaflowMask(upcall, wc), F.vlan0_tci), "f000");
});

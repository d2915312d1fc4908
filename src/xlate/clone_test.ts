/**
 * clone(...) in translation (clone.ts): in line when reversible or last,
 * a datapath clone otherwise, with "last" decided across resubmits and
 * group buckets as OVS's is_last_action is. The expected actions are the
 * ones OVS 3.1 printed for the same rules (tests/conformance/cases/clone-*).
 */
import assert from "node:assert/strict";
import { xlateText } from "../../tests/support/xlate/replay.ts";
import { parseActions } from "../ofproto/mod.ts";
import { reversibleActions } from "./clone.ts";

const udp =
  "in_port=1,udp,dl_src=50:54:00:00:00:01,dl_dst=50:54:00:00:00:02,nw_src=10.0.0.1,nw_dst=10.0.0.2,nw_ttl=64,udp_src=1000,udp_dst=53";

Deno.test("reversibleActions: conntrack and nat are not; nested ones are not looked into", () => {
  assert.equal(reversibleActions(parseActions("mod_nw_dst:10.0.0.9,output:2,resubmit(,1)")), true);
  assert.equal(reversibleActions(parseActions("output:2,ct(commit)")), false);
  assert.equal(reversibleActions(parseActions("clone(ct(commit),output:2)")), true);
});

Deno.test("a clone with conntrack before other actions becomes a datapath clone", () => {
  const out = xlateText(["in_port=1,ip,actions=clone(ct(commit),output:2),output:3"], udp);
  assert.equal(out.text, "clone(ct(commit),2),3");
});

Deno.test("a clone with conntrack that is the last action is translated in line", () => {
  const out = xlateText(["in_port=1,ip,actions=output:3,clone(ct(commit),output:2)"], udp);
  assert.equal(out.text, "3,ct(commit),2");
});

Deno.test("pending rewrites are committed before a datapath clone; its own ones stay inside it", () => {
  const out = xlateText(
    ["in_port=1,ip,actions=mod_nw_tos:32,clone(mod_nw_dst:10.0.0.9,ct(commit),output:2),output:3"],
    udp,
  );
  assert.equal(
    out.text,
    "set(ipv4(tos=0x20/0xfc)),clone(set(ipv4(dst=10.0.0.9)),ct(commit),2),3",
  );
});

Deno.test("a clone ending a resubmitted table is last only if the resubmit is", () => {
  const table1 = "table=1,ip,actions=clone(ct(commit),output:2)";
  assert.equal(
    xlateText(["in_port=1,ip,actions=resubmit(,1),output:3", table1], udp).text,
    "clone(ct(commit),2),3",
  );
  assert.equal(
    xlateText(["in_port=1,ip,actions=output:3,resubmit(,1)", table1], udp).text,
    "3,ct(commit),2",
  );
});

Deno.test("a clone inside a clone: the outer one is reversible, the inner one decides for itself", () => {
  const out = xlateText(
    ["in_port=1,ip,actions=clone(clone(ct(commit,zone=5),output:2),output:3),output:2"],
    udp,
  );
  assert.equal(out.text, "clone(ct(commit,zone=5),2),3,2");
});

Deno.test("output_trunc: trunc(N) before the output it cuts; in a clone it is irreversible", () => {
  assert.equal(
    xlateText(["in_port=1,ip,actions=clone(output(port=2,max_len=64)),output:3"], udp).text,
    "clone(trunc(64),2),3",
  );
  assert.equal(
    xlateText(["in_port=1,ip,actions=mod_nw_tos:32,output(port=2,max_len=64)"], udp).text,
    "trunc(64),set(ipv4(tos=0x20/0xfc)),2",
  );
  // To the input port nothing is sent, nor truncated.
  assert.equal(xlateText(["in_port=1,ip,actions=output(port=1,max_len=64)"], udp).text, "drop");
});

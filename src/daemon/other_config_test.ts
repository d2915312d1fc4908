import assert from "node:assert/strict";
import { OtherConfig } from "./other_config.ts";
import { OVS_COMPAT_3_1, OVS_COMPAT_LATEST } from "../upcall/mod.ts";
import { applyPortSettings, formatPortVlanConfig } from "./port_config.ts";

Deno.test("other_config starts at OVS's defaults and thread counts are left to their users", () => {
  const c = new OtherConfig();
  assert.equal(c.get("flow-limit"), 200000);
  assert.equal(c.get("max-idle"), 10000);
  assert.equal(c.get("max-revalidator"), 500);
  assert.equal(c.get("min-revalidate-pps"), 5);
  assert.equal(c.get("emc-insert-inv-prob"), 100);
  assert.equal(c.get("vlan-limit"), 1);
  assert.equal(c.get("n-handler-threads"), undefined);
});

Deno.test("config changes reach the listeners, and only the values that changed", () => {
  const c = new OtherConfig();
  const seen: Array<[string, number | undefined][]> = [];
  c.onChange((changed) => seen.push([...changed]));
  c.set(["flow-limit=3", "max-idle=10000"]);
  c.set(["flow-limit="]);
  assert.deepEqual(seen, [[["flow-limit", 3]], [["flow-limit", 200000]]]);
  assert.deepEqual(c.explicit(), [["max-idle", 10000]]);
});

Deno.test("a bad setting changes nothing and names the bad key or value", () => {
  const c = new OtherConfig();
  assert.throws(
    () => c.set(["flow-limit=5", "flow-limt=3"]),
    /unknown other_config key "flow-limt"/,
  );
  assert.equal(c.get("flow-limit"), 200000);
  assert.throws(() => c.set(["max-idle=abc"]), /other_config:max-idle: "abc" is not an integer/);
  assert.throws(() => c.set(["max-idle"]), /"max-idle": expected KEY=VALUE/);
  assert.throws(() => c.set(["n-handler-threads=5000"]), /between 0 and 1024/);
});

Deno.test("port settings follow ovs-vsctl's tag, trunks and vlan_mode", () => {
  let p = applyPortSettings({}, ["tag=10", "vlan_mode=native-untagged", "trunks=30,20,20"]);
  assert.deepEqual(p, { tag: 10, vlanMode: "native-untagged", trunks: [20, 30] });
  assert.equal(
    formatPortVlanConfig("p1", p),
    "p1: tag=10 trunks=[20, 30] vlan_mode=native-untagged",
  );
  p = applyPortSettings(p, ["tag=", "trunks="]);
  assert.deepEqual(p, { vlanMode: "native-untagged" });
  assert.throws(() => applyPortSettings(p, ["tag=4096"]), /tag: "4096" is not a VLAN/);
  assert.throws(() => applyPortSettings(p, ["vlan_mode=hybrid"]), /vlan_mode: "hybrid" is not/);
  assert.throws(() => applyPortSettings(p, ["mtu=1500"]), /unknown port setting "mtu"/);
});

Deno.test("smc-enable is a bool written true or false, off by default", () => {
  const c = new OtherConfig();
  assert.equal(c.get("smc-enable"), 0);
  c.set(["smc-enable=true"]);
  assert.equal(c.get("smc-enable"), 1);
  assert.deepEqual(c.explicit(), [["smc-enable", true]]);
  assert.throws(() => c.set(["smc-enable=1"]), /other_config:smc-enable: "1" is not true or false/);
  assert.equal(c.get("smc-enable"), 1);
  c.set(["smc-enable=false"]);
  assert.deepEqual(c.explicit(), [["smc-enable", false]]);
});

Deno.test("ovs-compat is latest by default and takes 3.1; anything else is refused", () => {
  const c = new OtherConfig();
  assert.equal(c.get("ovs-compat"), OVS_COMPAT_LATEST);
  c.set(["ovs-compat=3.1"]);
  assert.equal(c.get("ovs-compat"), OVS_COMPAT_3_1);
  assert.deepEqual(c.explicit(), [["ovs-compat", "3.1"]]);
  assert.throws(
    () => c.set(["ovs-compat=3.2"]),
    /other_config:ovs-compat: "3.2" is not one of latest, 3.1/,
  );
  assert.equal(c.get("ovs-compat"), OVS_COMPAT_3_1, "a refused value changes nothing");
  c.set(["ovs-compat="]);
  assert.equal(c.get("ovs-compat"), OVS_COMPAT_LATEST);
});

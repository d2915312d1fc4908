import assert from "node:assert/strict";
import { parsePortSpecs } from "./port_spec.ts";

Deno.test("ports get the OpenFlow numbers they ask for, the others 1, 2, 3 skipping taken ones", () => {
  const ports = parsePortSpecs(["p1", "p2:1", "p3", "p9:9"], "br0");
  assert.deepEqual(ports.map((p) => [p.name, p.ofport]), [["p1", 2], ["p2", 1], ["p3", 3], [
    "p9",
    9,
  ]]);
});

Deno.test("a port spec carries its type and netdev options", () => {
  const [p] = parsePortSpecs(["p1:5,type=pcap,rx_pcap=in.pcap,tx_pcap=out.pcap"], "br0");
  assert.deepEqual(p, {
    name: "p1",
    ofport: 5,
    type: "pcap",
    options: { rx_pcap: "in.pcap", tx_pcap: "out.pcap" },
  });
  const [q] = parsePortSpecs(["q,pstream=punix:/tmp/q.sock"], "br0");
  assert.equal(q.type, "dummy");
  assert.equal(q.options.pstream, "punix:/tmp/q.sock");
});

Deno.test("a system port names a Linux interface, with offloads on unless turned off", () => {
  const [a, b] = parsePortSpecs(["veth0,type=system", "veth1:7,type=system,offloads=false"], "br0");
  assert.deepEqual(a, { name: "veth0", ofport: 1, type: "system", options: {} });
  assert.deepEqual(b, { name: "veth1", ofport: 7, type: "system", options: { offloads: "false" } });
});

Deno.test("bad port specs are refused with the bad part named", () => {
  const bad: Array<[string[], RegExp]> = [
    [["p1:0"], /bad OpenFlow port number "0"/],
    [["p1:x"], /bad OpenFlow port number "x"/],
    [["p1,type=tap"], /bad type "tap"/],
    [["p1,color=red"], /unknown option "color"/],
    [["p1,type=pcap"], /type=pcap needs rx_pcap or tx_pcap/],
    [["p1,pstream=tcp:1"], /pstream must be punix:PATH/],
    [["p1,stream=unix:/a,pstream=punix:/b"], /not both/],
    [["p1", "p1"], /port name used twice/],
    [["br0"], /port name used twice/],
    [["a:3", "b:3"], /OpenFlow port 3 used twice/],
    [["bad/name"], /bad port name "bad\/name"/],
    [["p1,rx_pcap="], /rx_pcap needs a value/],
    [["eth0,type=system,rx_pcap=a"], /type=system takes no rx_pcap option/],
    [["eth0,type=system,offloads=maybe"], /offloads must be true or false/],
    [["p1,offloads=false"], /offloads is an option of type=system ports/],
    [["abcdefghijklmnop,type=system"], /too long for an interface name/],
  ];
  for (const [specs, error] of bad) assert.throws(() => parsePortSpecs(specs, "br0"), error);
});

Deno.test("a bond port becomes its members, numbered as ports, sharing one bond config", () => {
  const ports = parsePortSpecs([
    "p1",
    "bond0,type=bond,members=p4:4+p5,bond_mode=balance-slb,other_config:bond-hash-basis=3",
  ], "br0");
  assert.deepEqual(ports.map((p) => [p.name, p.ofport]), [["p1", 1], ["p4", 4], ["p5", 2]]);
  assert.equal(ports[1].bond, ports[2].bond);
  assert.deepEqual(ports[1].bond?.members, [{ name: "p4", ofport: 4 }, { name: "p5", ofport: 2 }]);
  assert.equal(ports[1].bond?.mode, "balance-slb");
  assert.equal(ports[1].bond?.basis, 3);
  assert.equal(ports[0].bond, undefined);
});

Deno.test("bad bond specs are refused naming the bad part", () => {
  const bad = (spec: string, re: RegExp) =>
    assert.throws(() => parsePortSpecs([spec], "br0"), (e: Error) => re.test(e.message));
  bad("bond0,type=bond", /needs members=M1\+M2/);
  bad("bond0,type=bond,members=p4", /at least two members/);
  bad("bond0,type=bond,members=p4+p5,bond_mode=round-robin", /bad bond_mode "round-robin"/);
  bad("bond0,type=bond,members=p4+p5,lacp=on", /bad lacp "on"/);
  bad("bond0,type=bond,members=p4+p5:0", /bad OpenFlow port number "0" for member p5/);
  bad("bond0,type=bond,members=p4+p5,mtu=9000", /unknown bond option "mtu"/);
  bad("bond0:3,type=bond,members=p4+p5", /a bond has no OpenFlow port number/);
  bad("bond0,type=bond,members=p4+bond0", /port name used twice/);
  const m = "bond0,type=bond,members=p4+p5,";
  bad(m + "iface_other_config:p6:lacp-port-id=3", /names "p6", not a member/);
  bad(m + "iface_other_config:p4:lacp-port-id=0", /lacp-port-id must be 1 to 65535, not "0"/);
  bad(m + "iface_other_config:p4:lacp-port-priority=70000", /must be a number, not "70000"/);
  bad(m + "iface_other_config:p4:lacp-mode=x", /unknown member setting "lacp-mode"/);
  bad(m + "iface_other_config:p4", /unknown member setting ""/);
});

Deno.test("a bond's members carry their Interface LACP settings", () => {
  const [p4, p5] = parsePortSpecs([
    "bond0,type=bond,members=p4+p5,lacp=active,iface_other_config:p4:lacp-port-id=12," +
    "iface_other_config:p4:lacp-port-priority=7,iface_other_config:p5:lacp-aggregation-key=9",
  ], "br0");
  assert.equal(p4.bond, p5.bond);
  assert.deepEqual(p4.bond?.memberLacp, {
    p4: { portId: 12, portPriority: 7 },
    p5: { aggregationKey: 9 },
  });
});

Deno.test("a bond member given as a port of its own keeps its options and number", () => {
  const ports = parsePortSpecs([
    "a1:7,pstream=punix:/tmp/a1.sock",
    "bond0,type=bond,members=a1+a2,lacp=active",
  ], "br0");
  assert.deepEqual(ports.map((p) => [p.name, p.ofport, p.options]), [
    ["a1", 7, { pstream: "punix:/tmp/a1.sock" }],
    ["a2", 1, {}],
  ]);
  assert.deepEqual(ports[0].bond?.members, [{ name: "a1", ofport: 7 }, { name: "a2", ofport: 1 }]);
  assert.throws(
    () => parsePortSpecs(["a1:7", "bond0,type=bond,members=a1:8+a2"], "br0"),
    /a1: OpenFlow port 8 or 7\?/,
  );
});

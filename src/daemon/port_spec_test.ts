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
  ];
  for (const [specs, error] of bad) assert.throws(() => parsePortSpecs(specs, "br0"), error);
});

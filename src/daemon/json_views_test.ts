import assert from "node:assert/strict";
import { parseDumpFlows } from "./json_views.ts";

Deno.test("dump-flows lines become flows, with or without -m", () => {
  const text = "flow-dump from the main thread:\n" +
    "recirc_id(0),in_port(1),eth_type(0x0800),ipv4(frag=no), packets:3, bytes:354, used:0.5s, actions:2,3,100\n" +
    "ufid:b7cb35d9-9d6d-4fd9-ab67-1ba79f26d75d, recirc_id(0),in_port(p1),eth_type(0x0806), packets:0, bytes:0, used:never, dp:ovs, actions:drop, dp-extra-info:miniflow_bits(5,1)\n";
  assert.deepEqual(parseDumpFlows(text), [
    {
      flow: "recirc_id(0),in_port(1),eth_type(0x0800),ipv4(frag=no)",
      packets: 3,
      bytes: 354,
      used: "0.5s",
      actions: "2,3,100",
    },
    {
      ufid: "b7cb35d9-9d6d-4fd9-ab67-1ba79f26d75d",
      flow: "recirc_id(0),in_port(p1),eth_type(0x0806)",
      packets: 0,
      bytes: 0,
      used: "never",
      actions: "drop",
    },
  ]);
});

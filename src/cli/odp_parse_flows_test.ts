import assert from "node:assert/strict";
import { parseFlowsText, parsePortNames } from "./odp_parse_flows.ts";
import { UsageError } from "./errors.ts";

const data = (f: string) =>
  Deno.readTextFileSync(new URL(`../flow/testdata/${f}`, import.meta.url));
const BIN = new URL("../../bin/udpif", import.meta.url).pathname;
const NAMES = new Map([["p1", 1], ["p2", 2], ["p3", 3]]);

async function run(args: string[], stdin: string) {
  const child = new Deno.Command(BIN, { args, stdin: "piped", stdout: "piped", stderr: "piped" })
    .spawn();
  const w = child.stdin.getWriter();
  await w.write(new TextEncoder().encode(stdin));
  await w.close();
  const o = await child.output();
  const dec = new TextDecoder();
  return { code: o.code, stdout: dec.decode(o.stdout), stderr: dec.decode(o.stderr) };
}

Deno.test("the oracle's terse dump lines come back unchanged", () => {
  const input = data("oracle_dump_terse.txt");
  const r = parseFlowsText(input, { verbose: false, portNames: null });
  assert.deepEqual(r.errors, []);
  assert.equal(r.lines.join("\n") + "\n", input);
});

Deno.test("the oracle's -m dump lines come back unchanged with --verbose and port names", () => {
  const input = data("oracle_dump_verbose.txt");
  const r = parseFlowsText(input, { verbose: true, portNames: NAMES });
  assert.deepEqual(r.errors, []);
  assert.equal(r.lines.join("\n") + "\n", input);
});

Deno.test("a bad line is reported with its number and token, the others still print", () => {
  const r = parseFlowsText(
    "in_port(1),eth_type(0x0800),ipv4(frag=no), actions:2\nin_port(1),ipv4(ttl=300), actions:2\n",
    {
      verbose: false,
      portNames: null,
    },
  );
  assert.deepEqual(r.lines, ["in_port(1),eth_type(0x0800),ipv4(frag=no), actions:2"]);
  assert.equal(r.errors.length, 1);
  assert.match(r.errors[0], /^line 2: .*ipv4\(ttl=300\)$/);
});

Deno.test("--port-names entries that are not NAME=NUMBER are usage errors", () => {
  assert.deepEqual([...parsePortNames("p1=1,br0=100")], [["p1", 1], ["br0", 100]]);
  assert.throws(() => parsePortNames("p1"), UsageError);
  assert.throws(() => parsePortNames("1=p1"), UsageError);
});

Deno.test("the command prints the -m form and exits 0 for good input", async () => {
  const r = await run(
    ["odp/parse-flows", "--verbose"],
    "recirc_id(0),in_port(1),packet_type(ns=0,id=0),eth_type(0x0806), packets:0, bytes:0, used:never, actions:drop\n",
  );
  assert.equal(r.code, 0, r.stderr);
  assert.match(
    r.stdout,
    /^skb_priority\(0\/0\),.*eth_type\(0x0806\),arp\(sip=0\.0\.0\.0\/0\.0\.0\.0,/,
  );
  assert.match(r.stdout, /, packets:0, bytes:0, used:never, actions:drop\n$/);
});

Deno.test("the command exits 1 with a one-line error naming the bad token", async () => {
  const r = await run(["odp/parse-flows"], "recirc_id(0),in_port(1), actions:frobnicate\n");
  assert.equal(r.code, 1);
  assert.equal(r.stdout, "");
  assert.equal(r.stderr, "udpif: odp/parse-flows: line 1: unknown action: frobnicate\n");
});

Deno.test("an unknown option is a usage error (exit 2)", async () => {
  const r = await run(["odp/parse-flows", "--bogus"], "");
  assert.equal(r.code, 2);
});

Deno.test("--format json gives each flow's key, stats and actions", () => {
  const r = parseFlowsText(
    "recirc_id(0),in_port(1),packet_type(ns=0,id=0),eth_type(0x0800),ipv4(proto=6,frag=no),tcp(dst=80), packets:3, bytes:354, used:0.881s, actions:2\n",
    { verbose: false, portNames: NAMES },
  );
  assert.equal(r.flows.length, 1);
  const f = r.flows[0];
  assert.equal(
    f.key,
    "recirc_id(0),in_port(1),packet_type(ns=0,id=0),eth_type(0x0800),ipv4(proto=6,frag=no),tcp(dst=80)",
  );
  assert.match(f.keyVerbose, /^skb_priority\(0\/0\),.*in_port\(p1\),/);
  assert.deepEqual([f.packets, f.bytes, f.used, f.actions], [3, 354, 0.881, "p2"]);
});

Deno.test("--vlan-limit 2 keeps a second VLAN tag in the key", async () => {
  const qinq =
    "recirc_id(0),in_port(1),packet_type(ns=0,id=0),eth_type(0x88a8),vlan(vid=100),encap(eth_type(0x8100),vlan(vid=10),encap(eth_type(0x0800),ipv4(frag=no))), actions:2\n";
  const two = await run(["odp/parse-flows", "--vlan-limit", "2"], qinq);
  assert.equal(two.stdout, qinq);
  const one = await run(["odp/parse-flows"], qinq);
  assert.equal(
    one.stdout,
    "recirc_id(0),in_port(1),packet_type(ns=0,id=0),eth_type(0x88a8),vlan(vid=100),encap(eth_type(0x8100)), actions:2\n",
  );
  assert.equal((await run(["odp/parse-flows", "--vlan-limit", "x"], "")).code, 2);
});

/**
 * Regenerates the seed corpora under fixtures/fuzz/ from the project's
 * OVS-recorded test data (dump-flows lines, composed packets, ofctl
 * parse-flow inputs) and from strings the unit tests already exercise.
 * Crash fixtures (crash-*) are never touched. Run:
 *   deno run -A tests/fuzz/make_seeds.ts
 */
import { encodePcap, parseHexPacket } from "../../src/packet/mod.ts";
import { parsePacketSpec } from "../../src/flow/mod.ts";
import { framed } from "../stream_peer.ts";
import { concat } from "./engine.ts";
import { recorded } from "../support/openflow/recorded.ts";
import { hex as hexOf, parseProbeCases } from "../support/openflow/probe.ts";

const ROOT = new URL("../../", import.meta.url);
const read = (p: string) => Deno.readTextFileSync(new URL(p, ROOT));
const lines = (p: string) => read(p).split("\n").filter((l) => l && !l.startsWith("#"));
const out = (target: string) => new URL(`fixtures/fuzz/${target}/`, ROOT);

function writeText(target: string, file: string, xs: string[]): void {
  Deno.mkdirSync(out(target), { recursive: true });
  Deno.writeTextFileSync(new URL(file, out(target)), [...new Set(xs)].join("\n") + "\n");
}
function writeBin(target: string, file: string, b: Uint8Array): void {
  Deno.mkdirSync(out(target), { recursive: true });
  Deno.writeFileSync(new URL(file, out(target)), b);
}

const dumps = ["terse", "more_terse", "verbose", "more_verbose"].map((f) =>
  lines(`src/flow/testdata/oracle_dump_${f}.txt`)
);
const keyOf = (l: string) => l.replace(/^ufid:[^ ]+ /, "").split(", packets:")[0];
const actionsOf = (l: string) => l.split("actions:")[1].split(", dp-extra-info")[0];
writeText("odp_key", "terse.txt", [...dumps[0], ...dumps[1]].map(keyOf));
writeText("odp_key", "verbose.txt", [...dumps[2], ...dumps[3]].map(keyOf));

const quoted = (p: string) =>
  [...read(p).matchAll(/"((?:[a-z_0-9]+\(|[0-9]+,)[^"]*)"/g)].map((m) => m[1]);
writeText("odp_actions", "oracle.txt", dumps.flat().map(actionsOf));
writeText(
  "odp_actions",
  "unit.txt",
  quoted("src/flow/odp_action_test.ts").concat(quoted("src/flow/odp_execute_test.ts"))
    .filter((s) => !s.startsWith("in_port(")),
);

writeText("ofctl", "parse-inputs.txt", lines("fixtures/ofproto/parse/inputs.txt"));
writeText(
  "ofctl",
  "parse-of10.txt",
  lines("fixtures/ofproto/parse/expected-of10.txt").filter((l) => !l.startsWith("ERR")),
);

// Frames: the packets OVS sent in the compose oracle, plus composed specs
// for the protocols the oracle set lacks.
const frames: Uint8Array[] = lines("src/flow/testdata/compose_oracle.tsv").map((l) => {
  const buf = new Uint8Array(9216);
  return buf.slice(0, parseHexPacket(l.split("\t")[1], buf));
});
const ETH = "in_port(1),eth(src=50:54:00:00:00:05,dst=50:54:00:00:00:07)";
for (
  const spec of [
    `${ETH},eth_type(0x86dd),ipv6(src=2001:db8::1,dst=2001:db8::2,label=0,proto=58,tclass=0,hlimit=255,frag=no),icmpv6(type=135,code=0),nd(target=2001:db8::2,sll=50:54:00:00:00:05)`,
    `${ETH},eth_type(0x86dd),ipv6(src=2001:db8::1,dst=2001:db8::2,label=0,proto=6,tclass=0,hlimit=64,frag=no),tcp(src=1,dst=2)`,
    `${ETH},eth_type(0x0806),arp(sip=10.0.0.1,tip=10.0.0.2,op=1,sha=50:54:00:00:00:05,tha=00:00:00:00:00:00)`,
    `${ETH},eth_type(0x8100),vlan(vid=5,pcp=1),encap(eth_type(0x0800),ipv4(src=10.0.0.1,dst=10.0.0.2,proto=17,tos=0,ttl=64,frag=no),udp(src=1,dst=2))`,
    `${ETH},eth_type(0x0800),ipv4(src=10.0.0.1,dst=10.0.0.2,proto=1,tos=0,ttl=64,frag=no),icmp(type=8,code=0)`,
    `${ETH},eth_type(0x0800),ipv4(src=10.0.0.1,dst=10.0.0.2,proto=132,tos=0,ttl=64,frag=no),sctp(src=1,dst=2)`,
    `${ETH},eth_type(0x0800),ipv4(src=10.0.0.1,dst=10.0.0.2,proto=6,tos=0,ttl=64,frag=first),tcp(src=1,dst=2)`,
    `${ETH},eth_type(0x0800),ipv4(src=10.0.0.1,dst=10.0.0.2,proto=17,tos=0,ttl=64,frag=later)`,
    `${ETH},eth_type(0x8847),mpls(label=100,tc=0,ttl=64,bos=1)`,
  ]
) {
  const buf = new Uint8Array(2048);
  const n = parsePacketSpec(spec, buf);
  frames.push(buf.slice(0, n));
}
// QinQ: an 802.1ad tag in front of a tagged frame.
const tagged = frames[frames.length - 6];
const qinq = new Uint8Array(tagged.length + 4);
qinq.set(tagged.subarray(0, 12));
qinq.set([0x88, 0xa8, 0x00, 0x07], 12);
qinq.set(tagged.subarray(12), 16);
frames.push(qinq);
frames.forEach((f, i) => {
  writeBin("flow_extract", `seed-${String(i).padStart(2, "0")}.bin`, f);
  writeBin("pmd", `seed-${String(i).padStart(2, "0")}.bin`, f);
});

writeBin(
  "pcap",
  "seed-ovs-tx.bin",
  Deno.readFileSync(new URL("src/packet/testdata/ovs_p2_tx.pcap", ROOT)),
);
writeBin(
  "pcap",
  "seed-nsec.bin",
  encodePcap(frames.slice(0, 4).map((data, i) => ({ data, tsMs: 1000 * i })), { nanos: true }),
);
// A big-endian file (as written on a big-endian host): the same records, every field swapped.
const le = encodePcap(frames.slice(4, 7).map((data) => ({ data })));
const be = le.slice();
const lv = new DataView(le.buffer), bv = new DataView(be.buffer);
for (const o of [0, 8, 12, 16, 20]) bv.setUint32(o, lv.getUint32(o, true));
bv.setUint16(4, lv.getUint16(4, true)), bv.setUint16(6, lv.getUint16(6, true));
for (let o = 24; o < le.length; o += 16 + lv.getUint32(o + 8, true)) {
  for (let f = 0; f < 16; f += 4) bv.setUint32(o + f, lv.getUint32(o + f, true));
}
writeBin("pcap", "seed-be.bin", be);

// JSON-RPC streams: what udpif's client and ovs-appctl send, replies, and
// messages the classifier refuses, alone and back to back.
const enc = new TextEncoder();
const json = [
  '{"method":"upcall/show","params":[],"id":0}',
  '{"id":7,"method":"dpctl/dump-flows","params":["-m","netdev@ovs-netdev"]}',
  '{"result":"flows : (current 0)\\n","error":null,"id":0}',
  '{"error":"\\"bogus\\" is not a valid command\\n","result":null,"id":3}',
  '{"method":"echo","params":["\\u00e9t\\u00e9 \\"quoted\\" {braces} [brackets] \\\\"],"id":"x"}',
  '{"method":"notify","params":[]}',
  '{"method":5,"params":[],"id":1}',
  '[1,2,{"a":[{}]}]',
  '{"method":"x","params":{},"id":null,"extra":true}',
  '  \n{"method":"list-commands","params":[],"id":1}\r\n',
];
json.forEach((j, i) =>
  writeBin("jsonrpc", `seed-${String(i).padStart(2, "0")}.bin`, enc.encode(j))
);
writeBin("jsonrpc", "seed-stream.bin", enc.encode(json.slice(0, 4).join("")));
writeBin("jsonrpc", "seed-partial.bin", enc.encode(json[0] + json[1].slice(0, 20)));

// Framed streams as a stream= peer writes them: several frames, an empty
// one, and a last frame cut short.
const streams = [
  framed(frames.slice(0, 3)),
  framed([frames[3], new Uint8Array(0), frames[4]]),
  framed(frames.slice(5, 8)).slice(0, -7),
  framed([frames[frames.length - 1]]),
];
streams.forEach((s, i) => writeBin("stream", `seed-${i}.bin`, s));

// OpenFlow: each message ovs-ofctl sent in the recorded conversations with
// OVS (fixtures/openflow/*.txt, hellos left out), one whole conversation
// as a stream, and the bad messages of bad_input.txt.
const ofMessages = new Map<string, Uint8Array>();
const ofStreams: Uint8Array[] = [];
for (
  const e of [...Deno.readDirSync(new URL("fixtures/openflow/", ROOT))].sort((a, b) =>
    a.name < b.name ? -1 : 1
  )
) {
  if (!e.name.endsWith(".txt") || e.name === "steps.txt" || e.name === "bad_input.txt") continue;
  for (const conn of recorded(e.name.slice(0, -4))) {
    const sent = conn.client.filter((m) => m[1] !== 0);
    for (const m of sent) ofMessages.set(hexOf(m), m);
    if (sent.length > 2) ofStreams.push(concat(...sent));
  }
}
for (const c of parseProbeCases(read("fixtures/openflow/bad_input.txt"))) {
  if (c.message.length <= 4096) ofMessages.set(hexOf(c.message), c.message);
}
[...ofMessages.values()].forEach((m, i) =>
  writeBin("openflow", `seed-${String(i).padStart(3, "0")}.bin`, m)
);
ofStreams.slice(0, 4).forEach((s, i) => writeBin("openflow", `seed-stream-${i}.bin`, s));

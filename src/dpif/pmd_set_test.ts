import assert from "node:assert/strict";
import { flowExtract, newKey, parseOdpActions, parseOdpKey } from "../flow/mod.ts";
import { csum, csumAdd, csumFinish } from "../packet/mod.ts";
import { DummyNetdev, parseReceivePackets } from "../netdev/mod.ts";
import { DpifNetdev } from "./dpif_netdev.ts";
import { PUT_CREATE } from "./protocol.ts";

const TCP = "in_port(1),eth(src=50:54:00:00:00:05,dst=50:54:00:00:00:07),eth_type(0x0800)," +
  "ipv4(src=10.0.0.1,dst=10.0.0.2,proto=6,tos=0,ttl=64,frag=no),tcp(src=1000,dst=80)";
const UDP = TCP.replace("proto=6", "proto=17").replace("tcp(", "udp(");

/** Whether the IPv4 header and TCP/UDP checksums of `f` are right. */
function checksumsOk(f: Uint8Array): boolean {
  const l3 = 14, ihl = (f[l3] & 15) * 4, l4 = l3 + ihl;
  if (csum(f, l3, ihl) !== 0) return false;
  const proto = f[l3 + 9], l4len = ((f[l3 + 2] << 8) | f[l3 + 3]) - ihl;
  let s = csumAdd(0, f, l3 + 12, 8) + proto + l4len;
  s = csumAdd(s, f, l4, l4len);
  return csumFinish(s) === 0;
}

function run(spec: string, actions: string): Uint8Array {
  const dp = DpifNetdev.create("dummy", { extract: flowExtract, flowCapacity: 64 });
  const p1 = new DummyNetdev("p1");
  const p2 = new DummyNetdev("p2", "dummy", { recordTx: true });
  dp.portAdd(p1);
  dp.portAdd(p2);
  const key = newKey(), mask = newKey();
  parseOdpKey("in_port(1),eth_type(0x0800)", key, mask);
  const [frame] = parseReceivePackets([spec]);
  assert.ok(checksumsOk(frame), "composed frame has right checksums");
  const k = newKey();
  flowExtract(frame, frame.length, 1, k);
  const put = dp.flowPut({ flags: PUT_CREATE, key: k, mask, actions: parseOdpActions(actions) });
  assert.equal(put.error, 0);
  p1.receive([frame]);
  p2.pollTx();
  dp.destroy();
  assert.equal(p2.txFrames.length, 1);
  return p2.txFrames[0];
}

Deno.test("set actions rewrite Ethernet, IPv4 and TCP headers and keep checksums right", () => {
  const out = run(
    TCP,
    "set(eth(src=aa:bb:cc:dd:ee:ff,dst=11:22:33:44:55:66)),set(ipv4(src=192.168.1.1,dst=192.168.1.2,tos=0x10,ttl=9)),set(tcp(src=1234,dst=8080)),2",
  );
  const pkt = [...out.subarray(0, 12)].map((b) => b.toString(16).padStart(2, "0")).join("");
  assert.equal(pkt, "112233445566aabbccddeeff");
  assert.deepEqual([...out.subarray(26, 34)], [192, 168, 1, 1, 192, 168, 1, 2]);
  assert.equal(out[15], 0x10);
  assert.equal(out[22], 9);
  assert.deepEqual([...out.subarray(34, 38)], [0x04, 0xd2, 0x1f, 0x90]);
  assert.ok(checksumsOk(out));
});

Deno.test("masked sets change only the masked bits, UDP checksums follow", () => {
  const out = run(UDP, "set(ipv4(src=172.16.0.0/255.255.0.0)),set(udp(dst=53/0xff00)),2");
  assert.deepEqual([...out.subarray(26, 30)], [172, 16, 0, 1]);
  assert.deepEqual([...out.subarray(36, 38)], [0x00, 0x50]);
  assert.ok(checksumsOk(out));
});

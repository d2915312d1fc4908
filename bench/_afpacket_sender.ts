/// <reference no-default-lib="true" />
/// <reference lib="deno.worker" />
/**
 * afpacket_bench.ts's traffic source: blasts 64-byte frames into one end
 * of the bench's veth pair with sendmmsg (qdisc bypassed) until told to
 * stop, then reports how many it sent.
 */
import { libc, openPacketSocket, PacketTxBatch } from "../src/netdev/mod.ts";

const SOL_PACKET = 263;
const PACKET_QDISC_BYPASS = 20;

self.onmessage = (e: MessageEvent<{ ifname: string; stop: SharedArrayBuffer }>) => {
  const stop = new Int32Array(e.data.stop);
  const sock = openPacketSocket(e.data.ifname, { vnetHdr: false, promisc: false });
  libc().setsockopt(sock.fd, SOL_PACKET, PACKET_QDISC_BYPASS, new Uint8Array([1, 0, 0, 0]), 4);
  const batch = new PacketTxBatch(64, 64, false);
  // Every slot holds the same frame: locally administered MACs,
  // ethertype 0x88b5 (local experimental).
  for (let k = 0; k < batch.burst; k++) {
    batch.data.set([2, 0, 0, 0, 0, 2, 2, 0, 0, 0, 0, 1, 0x88, 0xb5], batch.nextOffset());
    batch.push(64);
  }
  batch.count = 0;
  let sent = 0;
  while (Atomics.load(stop, 0) === 0) {
    for (let k = 0; k < batch.burst; k++) batch.push(64);
    sent += batch.flush(sock.fd);
  }
  libc().close(sock.fd);
  self.postMessage(sent);
  self.close();
};

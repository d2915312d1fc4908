/**
 * Tap devices at the netdev level: a tap of the test's own (unique name,
 * in this namespace, removed in `finally`), frames written in a burst by
 * TapTxBatch reach the host side (read there with a packet socket), and
 * frames the host sends out of the tap are read in a burst by
 * TapRxBatch; with a vnet header each frame carries one both ways.
 * Closing the tap removes the device. Needs root.
 */
import assert from "node:assert/strict";
import {
  closePacketSocket,
  closeTap,
  IFF_UP,
  interfaceIndex,
  openPacketSocket,
  openTap,
  PacketRxBatch,
  type PacketSocket,
  PacketTxBatch,
  type TapDevice,
  TapRxBatch,
  TapTxBatch,
  updateInterfaceFlags,
} from "./mod.ts";
import { TapNetdev } from "./tap.ts";
import { pollUntil } from "../../tests/poll.ts";

const ignore = Deno.build.os !== "linux" || Deno.uid() !== 0;
if (ignore) console.log("tap_test: skipped: needs root on Linux to create tap devices");
let counter = 0;

function frame(n: number): Uint8Array {
  const f = new Uint8Array(60);
  f.set([0x02, 0, 0, 0, 0, 0x02, 0x02, 0, 0, 0, 0, 0x01, 0x88, 0xb5]);
  f[14] = n;
  return f;
}

/** The test byte (offset 14) of each of `b`'s first `n` frames that are the test's (ethertype 0x88b5). */
function testBytes(b: PacketRxBatch | TapRxBatch, n: number): number[] {
  const out: number[] = [];
  for (let k = 0; k < n; k++) {
    const at = b.offset(k);
    if (b.frameLength(k) === 60 && b.data[at + 12] === 0x88 && b.data[at + 13] === 0xb5) {
      out.push(b.data[at + 14]);
    }
  }
  return out;
}

for (const vnetHdr of [false, true]) {
  Deno.test({
    name: `frames cross a tap both ways in bursts${vnetHdr ? " with a vnet header" : ""}`,
    ignore,
    async fn() {
      const name = `udpiftap${Deno.pid % 100000}${counter++}`;
      let tap: TapDevice | undefined = openTap(name, vnetHdr);
      let host: PacketSocket | undefined;
      try {
        updateInterfaceFlags(name, IFF_UP, 0);
        host = openPacketSocket(name, { vnetHdr: false, promisc: false });
        // Switch -> host: three frames in one burst.
        const tx = new TapTxBatch(4, vnetHdr);
        for (let n = 1; n <= 3; n++) {
          tx.data.set(frame(n), tx.nextOffset());
          if (vnetHdr) tx.header.fill(0, tx.count * 16, tx.count * 16 + tx.hdrLen);
          tx.push(60);
        }
        assert.equal(tx.flush(tap.fd), 3);
        const hostRx = new PacketRxBatch(8, 2048, false), seen: number[] = [];
        await pollUntil(() => {
          seen.push(...testBytes(hostRx, Math.max(0, hostRx.recv(host!.fd))));
          return seen.length >= 3;
        }, "the host receiving the switch's frames");
        assert.deepEqual(seen, [1, 2, 3]);
        // Host -> switch: the host's frames out of the tap, read in bursts.
        const hostTx = new PacketTxBatch(4, 2048, false);
        for (let n = 4; n <= 6; n++) {
          hostTx.data.set(frame(n), hostTx.nextOffset());
          hostTx.push(60);
        }
        assert.equal(hostTx.flush(host.fd), 3);
        const rx = new TapRxBatch(8, vnetHdr), read: number[] = [];
        await pollUntil(() => {
          read.push(...testBytes(rx, Math.max(0, rx.recv(tap!.fd))));
          return read.length >= 3;
        }, "the tap reading the host's frames");
        assert.deepEqual(read, [4, 5, 6]);
        assert.equal(rx.vlanTag(0), -1);
        closeTap(tap);
        tap = undefined;
        assert.throws(() => interfaceIndex(name), /No such device/);
      } finally {
        if (host) closePacketSocket(host);
        if (tap) closeTap(tap);
      }
    },
  });
}

Deno.test({
  name: "a tap whose name is taken is refused with one line naming it",
  ignore,
  fn() {
    assert.throws(
      () => TapNetdev.open("lo"),
      /^Error: cannot create tap device lo: a network device of that name exists already$/,
    );
  },
});

import assert from "node:assert/strict";
import { csum, csumAdd, csumFinish } from "./checksum.ts";
import { HDR_L3, HDR_L4, locateHeaders, newHeaderOffsets } from "./locate.ts";
import {
  completeL4Checksum,
  pseudoHeaderSum,
  setPartialL4Checksum,
  tcpHeadersLength,
  tcpSegment,
  tcpSegmentCount,
} from "./offload.ts";

/** An Ethernet (optionally VLAN-tagged) TCP frame over IPv4 or IPv6 with `payload` bytes. */
function tcpFrame(v6: boolean, payload: number, vlan: boolean): Uint8Array {
  const l2 = vlan ? 18 : 14, l3 = v6 ? 40 : 20;
  const f = new Uint8Array(l2 + l3 + 20 + payload);
  f.set([2, 0, 0, 0, 0, 2, 2, 0, 0, 0, 0, 1]);
  let o = 12;
  if (vlan) {
    f.set([0x81, 0x00, 0x00, 0x0a], 12);
    o = 16;
  }
  f.set(v6 ? [0x86, 0xdd] : [0x08, 0x00], o);
  o += 2;
  if (v6) {
    f.set([0x60, 0, 0, 0, (20 + payload) >> 8, (20 + payload) & 255, 6, 64], o);
    f[o + 23] = 1;
    f[o + 39] = 2;
  } else {
    const tot = 20 + 20 + payload;
    f.set([
      0x45,
      0,
      tot >> 8,
      tot & 255,
      0x12,
      0x34,
      0x40,
      0,
      64,
      6,
      0,
      0,
      10,
      0,
      0,
      1,
      10,
      0,
      0,
      2,
    ], o);
  }
  const t = o + l3;
  // Ports 1000 -> 2000, seq 0xfffff000 (wraps), ack 1, offset 5, flags PSH|ACK|FIN|CWR.
  f.set([3, 0xe8, 7, 0xd0, 0xff, 0xff, 0xf0, 0, 0, 0, 0, 1, 0x50, 0x99, 0xff, 0xff], t);
  for (let i = 0; i < payload; i++) f[t + 20 + i] = (i * 7) & 255;
  return f;
}

/** True when the L4 checksum of the frame verifies. */
function l4Valid(f: Uint8Array): boolean {
  const hdr = newHeaderOffsets();
  locateHeaders(f, f.length, hdr);
  const l4 = hdr[HDR_L4];
  return csumFinish(csumAdd(pseudoHeaderSum(f, hdr, f.length - l4), f, l4, f.length - l4)) === 0;
}

for (const v6 of [false, true]) {
  for (const vlan of [false, true]) {
    const what = `${v6 ? "IPv6" : "IPv4"}${vlan ? " with a VLAN tag" : ""}`;
    Deno.test(`a TCP super-frame over ${what} is cut into valid segments`, () => {
      const mss = 1448, payload = 3 * mss + 100;
      const f = tcpFrame(v6, payload, vlan);
      const hdr = newHeaderOffsets();
      locateHeaders(f, f.length, hdr);
      // As the kernel hands it over: only the pseudo-header in the checksum.
      assert.ok(setPartialL4Checksum(f, f.length, hdr) > 0);
      const hl = tcpHeadersLength(f, f.length, hdr);
      assert.equal(hl, f.length - payload);
      const n = tcpSegmentCount(f.length, hl, mss);
      assert.equal(n, 4);
      const seg = new Uint8Array(hl + mss);
      const l3 = hdr[HDR_L3], l4 = hdr[HDR_L4];
      let carried = 0;
      for (let s = 0; s < n; s++) {
        const len = tcpSegment(f, f.length, hdr, hl, mss, s, seg);
        const got = seg.slice(0, len);
        const part: number = s < n - 1 ? mss : 100;
        assert.equal(len, hl + part);
        assert.deepEqual(got.subarray(hl), f.subarray(hl + carried, hl + carried + part));
        carried += part;
        if (v6) assert.equal((got[l3 + 4] << 8) | got[l3 + 5], 20 + part);
        else {
          assert.equal((got[l3 + 2] << 8) | got[l3 + 3], 40 + part);
          assert.equal((got[l3 + 4] << 8) | got[l3 + 5], 0x1234 + s);
          assert.equal(csum(got, l3, 20), 0, "IPv4 header checksum");
        }
        const seq = new DataView(got.buffer).getUint32(l4 + 4);
        assert.equal(seq, (0xfffff000 + s * mss) >>> 0);
        const flags = got[l4 + 13];
        assert.equal(flags & 0x09, s === n - 1 ? 0x09 : 0, "FIN and PSH only on the last");
        assert.equal(flags & 0x80, s === 0 ? 0x80 : 0, "CWR only on the first");
        assert.ok(l4Valid(got), `segment ${s} TCP checksum`);
      }
      assert.equal(carried, payload);
    });
  }
}

Deno.test("a partial checksum is completed in place; a frame without TCP or UDP has none", () => {
  const f = tcpFrame(false, 333, false);
  const hdr = newHeaderOffsets();
  locateHeaders(f, f.length, hdr);
  setPartialL4Checksum(f, f.length, hdr);
  assert.ok(!l4Valid(f));
  assert.ok(completeL4Checksum(f, f.length, hdr));
  assert.ok(l4Valid(f));
  // Ethernet padding after the IP packet is not summed.
  const padded = new Uint8Array(f.length + 6).fill(0xee);
  padded.set(f);
  padded[50] ^= 0xff;
  assert.ok(completeL4Checksum(padded, padded.length, hdr));
  assert.ok(l4Valid(padded.subarray(0, f.length)));
  assert.equal(tcpHeadersLength(f, 20, hdr), -1, "a cut-short frame has no TCP headers");
  // An ARP frame has nothing to checksum.
  const arp = new Uint8Array(60);
  arp.set([0x08, 0x06], 12);
  locateHeaders(arp, arp.length, hdr);
  assert.equal(completeL4Checksum(arp, arp.length, hdr), false);
  assert.equal(setPartialL4Checksum(arp, arp.length, hdr), -1);
});

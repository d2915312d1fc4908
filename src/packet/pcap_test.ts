import assert from "node:assert/strict";
import {
  encodePcap,
  PCAP_HEADER_LEN,
  PcapError,
  readPcap,
  writePcapHeader,
  writePcapRecord,
} from "./pcap.ts";
import { toHex } from "./hex.ts";

const OVS_FILE = new URL("./testdata/ovs_p2_tx.pcap", import.meta.url);

Deno.test("a capture written by OVS (tx_pcap) reads back as its three packets", () => {
  const { info, packets } = readPcap(Deno.readFileSync(OVS_FILE));
  assert.equal(info.nanos, false);
  assert.equal(info.linkType, 1);
  assert.equal(info.snaplen, 1518);
  assert.equal(packets.length, 3);
  assert.deepEqual(packets.map((p) => p.data.length), [118, 106, 106]);
  assert.equal(
    toHex(packets[2].data).slice(0, 68),
    "50540000000750540000000508004500005c000000004001669f0a0000010a000002",
  );
});

Deno.test("microsecond files written here read back unchanged", () => {
  const a = new Uint8Array([1, 2, 3]), b = new Uint8Array(70).fill(9);
  const file = encodePcap([{ data: a, tsMs: 1500 }, { data: b, tsMs: 2000.25 }]);
  const { info, packets } = readPcap(file);
  assert.equal(info.nanos, false);
  assert.deepEqual([...packets[0].data], [1, 2, 3]);
  assert.equal(packets[0].tsSec, 1);
  assert.equal(packets[0].tsFrac, 500000);
  assert.equal(packets[1].tsFrac, 250);
  assert.equal(packets[1].origLen, 70);
});

Deno.test("nanosecond files keep nanoseconds", () => {
  const file = encodePcap([{ data: new Uint8Array(4), tsMs: 1.5 }], { nanos: true });
  assert.equal(new DataView(file.buffer).getUint32(0, true), 0xa1b23c4d);
  const { info, packets } = readPcap(file);
  assert.equal(info.nanos, true);
  assert.equal(packets[0].tsFrac, 1500000);
});

Deno.test("big-endian files of either magic are read", () => {
  for (const magic of [0xa1b2c3d4, 0xa1b23c4d]) {
    const file = new Uint8Array(PCAP_HEADER_LEN + 16 + 2);
    const v = new DataView(file.buffer);
    v.setUint32(0, magic, false);
    v.setUint16(4, 2, false);
    v.setUint16(6, 4, false);
    v.setUint32(16, 65535, false);
    v.setUint32(20, 1, false);
    v.setUint32(24, 7, false);
    v.setUint32(28, 8, false);
    v.setUint32(32, 2, false);
    v.setUint32(36, 60, false);
    file.set([0xab, 0xcd], 40);
    const { info, packets } = readPcap(file);
    assert.equal(info.littleEndian, false);
    assert.equal(info.nanos, magic === 0xa1b23c4d);
    assert.deepEqual(packets.map((p) => [p.tsSec, p.tsFrac, p.origLen, ...p.data]), [[
      7,
      8,
      60,
      0xab,
      0xcd,
    ]]);
  }
});

Deno.test("records are cut to the snap length but keep their original length", () => {
  const out = new Uint8Array(100);
  let off = writePcapHeader(out, { snaplen: 10 });
  off = writePcapRecord(out, off, new Uint8Array(50), 50, 0, 0, 10);
  const { packets } = readPcap(out.subarray(0, off));
  assert.equal(packets[0].data.length, 10);
  assert.equal(packets[0].origLen, 50);
});

Deno.test("bad magic and truncated records are errors, not garbage", () => {
  assert.throws(() => readPcap(new Uint8Array(24)), PcapError);
  const file = encodePcap([{ data: new Uint8Array(20) }]);
  assert.throws(
    () => readPcap(file.subarray(0, file.length - 1)),
    /truncated pcap record at offset 24/,
  );
});

/**
 * The pcap reader (src/packet/pcap.ts readPcap, behind readPcapFrames and
 * rx_pcap) on arbitrary bytes. Properties: a bad file fails with one
 * PcapError with a one-line message, nothing else; a truncated record is
 * named by its offset, the start of a record inside the file; a file
 * read whole accounts for every byte (header plus each record header and
 * its bytes), in order, and each frame lies inside the file.
 */
import assert from "node:assert/strict";
import {
  PCAP_HEADER_LEN,
  PCAP_RECORD_HEADER_LEN,
  PcapError,
  readPcap,
} from "../../../src/packet/mod.ts";
import { mutateBytes, type Rng, type Target } from "../engine.ts";

export function checkPcap(file: Uint8Array): void {
  let packets;
  try {
    packets = readPcap(file).packets;
  } catch (e) {
    if (!(e instanceof PcapError)) throw e;
    assert.ok(!e.message.includes("\n"), "error message spans lines");
    const at = /at offset (\d+)$/.exec(e.message);
    if (/truncated pcap record/.test(e.message)) {
      assert.ok(at, `a truncated record without its offset: ${e.message}`);
      const off = Number(at[1]);
      assert.ok(
        off >= PCAP_HEADER_LEN && off < file.length,
        `offset outside the file: ${e.message}`,
      );
    }
    return;
  }
  let off = PCAP_HEADER_LEN;
  for (const p of packets) {
    const start = p.data.byteOffset - file.byteOffset;
    assert.equal(p.data.buffer, file.buffer, "a frame is not a view of the file");
    assert.equal(start, off + PCAP_RECORD_HEADER_LEN, "frames out of order");
    off = start + p.data.length;
  }
  assert.equal(off, file.length, "bytes left over after the last record");
}

export const pcapTarget: Target<Uint8Array> = {
  name: "pcap",
  kind: "bytes",
  mutate: (rng: Rng, corpus: readonly Uint8Array[]) => mutateBytes(rng, corpus, 4096),
  run: checkPcap,
};

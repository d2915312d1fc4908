/**
 * The `make test` smoke of the fuzz targets: every corpus entry and crash
 * fixture under fixtures/fuzz/ replayed, then a fixed number of mutated
 * inputs per target from a fixed seed (a count, never a time, so the run
 * is the same on a busy machine).
 */
import assert from "node:assert/strict";
import { check, fuzz } from "./engine.ts";
import { loadCorpus } from "./corpus.ts";
import { TARGETS } from "./targets/mod.ts";
import { pcapTarget } from "./targets/pcap.ts";
import { PCAP_RECORD_HEADER_LEN, readPcap } from "../../src/packet/mod.ts";
import { readPcapFrames } from "../../src/netdev/mod.ts";

const SMOKE_INPUTS = 2000;

for (const t of TARGETS) {
  Deno.test(`fuzz ${t.name}: the corpus and crash fixtures replay clean`, async () => {
    await t.setup?.();
    try {
      const failures: string[] = [];
      for (const e of loadCorpus(t)) {
        const err = await check(t, e.input);
        if (err !== null) failures.push(`${e.file}: ${err}`);
      }
      assert.deepEqual(failures, []);
    } finally {
      t.teardown?.();
    }
  });

  Deno.test(`fuzz ${t.name}: ${SMOKE_INPUTS} mutated inputs from seed 1, no crash`, async () => {
    await t.setup?.();
    try {
      const corpus = loadCorpus(t).map((e) => e.input);
      const r = await fuzz(t, corpus, { seed: 1, inputs: SMOKE_INPUTS, maxCrashes: 1 });
      assert.equal(r.inputs, SMOKE_INPUTS);
      assert.deepEqual(
        r.crashes.map((c) =>
          `${c.error} for ${JSON.stringify(typeof c.input === "string" ? c.input : [...c.input])}`
        ),
        [],
      );
    } finally {
      t.teardown?.();
    }
  });
}

Deno.test("fuzz pcap: readPcapFrames names the file and the cut record's offset, on one line", async () => {
  const dir = Deno.makeTempDirSync();
  try {
    for (const e of loadCorpus(pcapTarget)) {
      const file = e.input as Uint8Array;
      const frames = readPcap(file).packets;
      const second = frames[1].data.byteOffset - file.byteOffset - PCAP_RECORD_HEADER_LEN;
      const path = `${dir}/${e.file}.pcap`;
      for (const cut of [second + 3, second + PCAP_RECORD_HEADER_LEN + 1]) {
        Deno.writeFileSync(path, file.subarray(0, cut));
        await assert.rejects(
          readPcapFrames(path),
          (err: Error) =>
            /^.*: truncated pcap record( header)? at offset (\d+)$/.test(err.message) &&
            err.message.startsWith(`${path}: `) && err.message.endsWith(` ${second}`),
        );
      }
    }
  } finally {
    Deno.removeSync(dir, { recursive: true });
  }
});

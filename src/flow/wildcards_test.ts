import assert from "node:assert/strict";
import { wildcardsForPacket } from "./wildcards.ts";
import { parsePacketSpec } from "./packet_spec.ts";
import { flowExtract } from "./extract.ts";
import { newKey } from "./key.ts";
import { formatOdpKey } from "./odp_key_format.ts";
import { miniflowBits } from "./miniflow.ts";

const rows = Deno.readTextFileSync(new URL("./testdata/exact_oracle.tsv", import.meta.url))
  .split("\n").filter((l) => l !== "" && !l.startsWith("#")).map((l) => l.split("\t"));

Deno.test("with megaflows off, each packet's flow prints as OVS printed it, with its miniflow_bits", () => {
  assert.ok(rows.length >= 20);
  const buf = new Uint8Array(2048);
  for (const [spec, ovsKey, ovsBits] of rows) {
    const key = newKey(), mask = newKey();
    flowExtract(buf, parsePacketSpec(spec, buf), 1, key);
    wildcardsForPacket(key, mask);
    assert.equal(formatOdpKey(key, mask), ovsKey, spec);
    const b = miniflowBits(mask, key);
    assert.equal(`miniflow_bits(${b[0]},${b[1]})`, ovsBits, spec);
  }
});

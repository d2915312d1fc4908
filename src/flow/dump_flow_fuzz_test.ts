import assert from "node:assert/strict";
import { formatDumpFlow, parseDumpFlow } from "./dump_flow.ts";
import { OdpParseError } from "./_scan.ts";

const lines = ["oracle_dump_terse.txt", "oracle_dump_more_verbose.txt"].flatMap((f) =>
  Deno.readTextFileSync(new URL(`./testdata/${f}`, import.meta.url)).split("\n").filter((l) => l)
);
const NAMES = new Map([["p1", 1], ["p2", 2], ["p3", 3], ["br0", 100]]);
const ALPHABET = "(),=/:.x0123456789abcdef-+ _";

Deno.test("mutated dump lines either parse or fail with an OdpParseError, nothing else", () => {
  let seed = 7;
  const rnd = (n: number) => {
    seed = (seed * 1103515245 + 12345) >>> 0;
    return (seed >>> 8) % n;
  };
  let parsed = 0, refused = 0;
  for (let i = 0; i < 4000; i++) {
    let s = lines[rnd(lines.length)];
    for (let j = 1 + rnd(3); j > 0; j--) {
      const at = rnd(s.length);
      const op = rnd(3);
      if (op === 0) s = s.slice(0, at) + s.slice(at + 1 + rnd(4));
      else if (op === 1) s = s.slice(0, at) + ALPHABET[rnd(ALPHABET.length)] + s.slice(at);
      else s = s.slice(0, at) + ALPHABET[rnd(ALPHABET.length)] + s.slice(at + 1);
    }
    try {
      const f = parseDumpFlow(s, NAMES);
      formatDumpFlow(f, { verbose: true });
      parsed++;
    } catch (e) {
      assert.ok(e instanceof OdpParseError, `${e} for: ${s}`);
      refused++;
    }
  }
  assert.ok(parsed > 0 && refused > 0);
});

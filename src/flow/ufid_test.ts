import assert from "node:assert/strict";
import { newKey } from "./key.ts";
import { formatUfid, odpFormatUfid, parseUfid, ufidFromKey, ufidHash } from "./ufid.ts";

Deno.test("ufids print and parse as UUIDs", () => {
  const u = Uint32Array.of(0xb7cb35d9, 0x9d6d4fd9, 0xab671ba7, 0x9f26d75d);
  assert.equal(formatUfid(u), "b7cb35d9-9d6d-4fd9-ab67-1ba79f26d75d");
  assert.equal(odpFormatUfid(u), "ufid:b7cb35d9-9d6d-4fd9-ab67-1ba79f26d75d");
  assert.deepEqual(parseUfid("ufid:b7cb35d9-9d6d-4fd9-ab67-1ba79f26d75d"), u);
  assert.deepEqual(parseUfid(formatUfid(u)), u);
  assert.equal(parseUfid("nope"), null);
});

Deno.test("a UFID from a key is a version 4, RFC 4122 UUID and depends on the key", () => {
  const k = newKey(), a = new Uint32Array(4), b = new Uint32Array(4);
  ufidFromKey(k, 0, a);
  k[0] = 1;
  ufidFromKey(k, 0, b);
  assert.notDeepEqual(a, b);
  for (const u of [a, b]) {
    const text = formatUfid(u);
    assert.equal(text[14], "4", text);
    assert.ok("89ab".includes(text[19]), text);
  }
});

Deno.test("the ukey hash takes the first UFID word and the PMD id", () => {
  const u = Uint32Array.of(1, 2, 3, 4), v = Uint32Array.of(1, 9, 9, 9);
  assert.equal(ufidHash(u, 0), ufidHash(v, 0));
  assert.notEqual(ufidHash(u, 0), ufidHash(u, 1));
});

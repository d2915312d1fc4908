import assert from "node:assert/strict";
import { hugePagesAdvised } from "../../../tests/support/huge_pages.ts";
import { adviseHugePages } from "./memory.ts";

Deno.test("huge pages: a large buffer's mapping is advised, a small one is left alone", () => {
  // (Whether the mapping was advised before depends on what the process
  // freed there: an advised range stays advised when it is reused.)
  const large = new SharedArrayBuffer(8 << 20), small = new SharedArrayBuffer(64 << 10);
  assert.equal(adviseHugePages(large), true);
  assert.equal(hugePagesAdvised(large), true);
  assert.equal(adviseHugePages(small), false);
  // Still every byte as it was (zero) and writable.
  const u = new Uint8Array(large);
  u[u.length - 1] = 7;
  assert.equal(u[0] + u[u.length - 1], 7);
});

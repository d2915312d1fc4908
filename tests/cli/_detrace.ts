/** Helpers of the `ofproto/detrace` tests (post31_detrace_*_test.ts), after upstream's testsuite. */
import assert from "node:assert/strict";

/** The testsuite's ofctl_strip, and its sed giving every n_bytes one value. */
export function strip(s: string): string {
  return s.replace(/ duration=[0-9.]*s,/g, "").replace(/ cookie=0x0,/g, "")
    .replace(/ n_offload_packets=[0-9]*,/g, "").replace(/ n_offload_bytes=[0-9]*,/g, "")
    .replace(/n_bytes=\d+,/g, "n_bytes=294,");
}

/** The UFID of the one dumped flow whose line matches `re`. */
export function ufidOf(dump: string, re: RegExp): string {
  const lines = dump.split("\n").filter((l) => re.test(l));
  assert.equal(lines.length, 1, `one flow matches ${re}:\n${dump}`);
  return lines[0].match(/^ufid:[0-9a-f-]+/)![0];
}

/**
 * Records how a switch answers the bad messages of
 * fixtures/openflow/bad_input.txt (tests/support/openflow/probe.ts: one
 * connection per case, hello, the message, an echo fence): prints
 * `# NAME` then each reply as hex, or `closed`. Run against OVS 3.1's
 * management socket to (re)make fixtures/openflow/bad_input.out, which
 * tests/interop/openflow_bad_input_test.ts compares udpif with.
 *
 * Usage: deno run -A scripts/record-openflow-bad.ts SWITCH_SOCKET > fixtures/openflow/bad_input.out
 */
import { parseProbeCases, probe } from "../tests/support/openflow/probe.ts";

const [socket] = Deno.args;
if (!socket) {
  console.error("usage: record-openflow-bad.ts SWITCH_SOCKET");
  Deno.exit(2);
}
const cases = parseProbeCases(
  Deno.readTextFileSync(new URL("../fixtures/openflow/bad_input.txt", import.meta.url)),
);
for (const c of cases) {
  console.log(`# ${c.name}`);
  for (const line of await probe(socket, c)) console.log(line);
}

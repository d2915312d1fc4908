/**
 * Bad input on the wire (fixtures/openflow/bad_input.txt: unknown types,
 * versions other than the connection's, bodies too long or too short for
 * their type, lengths inside a flow-mod that overrun it, unknown fields,
 * instructions, actions, stats and vendors, a 64 KiB echo, a length below
 * the header's): udpif must answer each exactly as OVS 3.1 did
 * (fixtures/openflow/bad_input.out, recorded by
 * scripts/record-openflow-bad.ts): the same OFPT_ERROR type, code,
 * version and carried message, or the same replies, or closing the
 * connection only where OVS closed it. Meanwhile a connection opened
 * before them keeps working: nothing a peer sends ends the daemon or
 * another connection.
 */
import assert from "node:assert/strict";
import { TestDaemon } from "../cli/_run.ts";
import { parseProbeCases, probe, ProbeSession } from "../support/openflow/probe.ts";

const FIXTURES = new URL("../../fixtures/openflow/", import.meta.url);

/** bad_input.out: `# NAME` then that case's reply lines. */
function recordedAnswers(): Map<string, string[]> {
  const answers = new Map<string, string[]>();
  let current: string[] = [];
  for (const line of Deno.readTextFileSync(new URL("bad_input.out", FIXTURES)).split("\n")) {
    if (line.startsWith("# ")) answers.set(line.slice(2), current = []);
    else if (line) current.push(line);
  }
  return answers;
}

Deno.test("bad OpenFlow messages get OVS's answers and end nothing but what OVS ends", async () => {
  const cases = parseProbeCases(Deno.readTextFileSync(new URL("bad_input.txt", FIXTURES)));
  const answers = recordedAnswers();
  const d = await TestDaemon.start(["--datapath-type", "dummy", "--port", "p3"]);
  const socket = `${d.dir}/br0.mgmt`;
  try {
    // A bystander connected throughout: its echo is answered after all the bad input.
    const bystander = await ProbeSession.open(socket, 4);
    const echo = new Uint8Array([4, 2, 0, 8, 0, 0, 0, 7]);
    try {
      assert.deepEqual(await bystander.send(echo), ["0403000800000007"]);
      for (const c of cases) {
        const expected = answers.get(c.name);
        assert.ok(expected, `${c.name}: not in bad_input.out`);
        assert.deepEqual(await probe(socket, c), expected, c.name);
      }
      assert.deepEqual(await bystander.send(echo), ["0403000800000007"]);
    } finally {
      bystander.close();
    }
    const r = await d.run(["ofctl", "dump-flows", "br0"]);
    assert.equal(r.code, 0, r.stderr);
  } finally {
    await d.stop();
  }
});

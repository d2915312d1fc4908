import assert from "node:assert/strict";
import { alive, processesWithMarker, run, runShell, stopProcesses } from "./proc.ts";

const opts = (env: Record<string, string> = {}, timeoutMs = 10_000) => ({
  cwd: "/tmp",
  env,
  timeoutMs,
});

Deno.test("stdout and stderr come back merged in write order, with the exit status", async () => {
  const r = await runShell("echo one; echo two >&2; echo three; exit 3", opts());
  assert.equal(r.output, "one\ntwo\nthree\n");
  assert.equal(r.code, 3);
  assert.equal(r.timedOut, false);
});

Deno.test("a command over its time limit is killed together with its children", async () => {
  const r = await run(["bash", "-c", "sleep 30 & sleep 30; echo never"], opts({}, 300));
  assert.equal(r.timedOut, true);
  assert.notEqual(r.code, 0);
  assert.equal(r.output, "");
});

Deno.test("processes are found by the marker in their environment and stopped", async () => {
  const marker = `UDPIF_RUNDIR=/tmp/proc-test-${crypto.randomUUID()}`;
  const [k, v] = marker.split("=");
  const child = new Deno.Command("sleep", { args: ["30"], env: { [k]: v } }).spawn();
  try {
    const found = await processesWithMarker(marker);
    assert.deepEqual(found, [child.pid]);
    await stopProcesses(found, marker);
    await child.status;
    assert.equal(await alive(child.pid), false);
    assert.deepEqual(await processesWithMarker(marker), []);
  } finally {
    try {
      child.kill("SIGKILL");
    } catch {
      // stopped above
    }
  }
});

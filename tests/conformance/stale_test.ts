import assert from "node:assert/strict";
import { alive } from "./proc.ts";
import { reapStale, RUN_DIR_PREFIX, RUNNER_PID_FILE } from "./stale.ts";

Deno.test("a run directory whose runner is gone is reaped, its processes stopped", async () => {
  const root = await Deno.makeTempDir({ prefix: "stale-test." });
  try {
    const dead = `${root}/${RUN_DIR_PREFIX}dead`;
    const live = `${root}/${RUN_DIR_PREFIX}live`;
    await Deno.mkdir(dead);
    await Deno.mkdir(live);
    // A runner that has exited: a finished child's pid.
    const gone = new Deno.Command("true").spawn();
    await gone.status;
    await Deno.writeTextFile(`${dead}/${RUNNER_PID_FILE}`, `${gone.pid}\n`);
    await Deno.writeTextFile(`${live}/${RUNNER_PID_FILE}`, `${Deno.pid}\n`);
    const daemon = new Deno.Command("sleep", {
      args: ["30"],
      env: { UDPIF_RUNDIR: dead },
    }).spawn();
    try {
      assert.deepEqual(await reapStale(root), [dead]);
      await daemon.status;
      assert.equal(await alive(daemon.pid), false);
      assert.deepEqual([...Deno.readDirSync(root)].map((e) => e.name), [`${RUN_DIR_PREFIX}live`]);
    } finally {
      try {
        daemon.kill("SIGKILL");
      } catch {
        // stopped by the reaper
      }
    }
  } finally {
    await Deno.remove(root, { recursive: true });
  }
});

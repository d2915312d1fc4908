/**
 * The guard behind the real-interface tests' cleanup: it must run its
 * cleanup when released, and when the process that started it dies
 * without releasing it (SIGKILL, a `deno test` ended by SIGINT).
 */
import assert from "node:assert/strict";
import { pollUntil, readUntil } from "../poll.ts";
import { CleanupGuard } from "../support/cleanup_guard.ts";

const GUARD = new URL("../support/cleanup_guard.ts", import.meta.url).href;

function exists(path: string): boolean {
  try {
    Deno.statSync(path);
    return true;
  } catch {
    return false;
  }
}

Deno.test("a cleanup guard runs its cleanup once released", async () => {
  const dir = await Deno.makeTempDir({ prefix: "udpif-guard-" });
  try {
    const guard = CleanupGuard.start('touch "$1"', [`${dir}/cleaned`]);
    assert.equal(exists(`${dir}/cleaned`), false);
    await guard.release();
    assert.equal(exists(`${dir}/cleaned`), true);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("a cleanup guard runs its cleanup when its process is killed", async () => {
  const dir = await Deno.makeTempDir({ prefix: "udpif-guard-" });
  try {
    const owner = new Deno.Command(Deno.execPath(), {
      args: [
        "eval",
        `import { CleanupGuard } from "${GUARD}";
         CleanupGuard.start('touch "$1"', ["${dir}/cleaned"]);
         console.log("guarded");
         await new Promise(() => setInterval(() => {}, 60_000));`,
      ],
      stdout: "piped",
      stderr: "inherit",
    }).spawn();
    const { reader } = await readUntil(owner.stdout, "guarded", "the guarded process");
    assert.equal(exists(`${dir}/cleaned`), false);
    owner.kill("SIGKILL");
    await owner.status;
    await reader.cancel();
    await pollUntil(() => exists(`${dir}/cleaned`), "the guard's cleanup after its owner died");
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

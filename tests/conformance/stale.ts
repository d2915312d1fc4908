/**
 * Runs a replay could not clean up: when the runner itself is killed
 * (a signal, a closed pipe), its daemon and run directory stay behind.
 * Each replay writes its runner's pid into its run directory; a later run
 * reaps the directories whose runner is gone, stopping only the processes
 * that carry that directory's marker in their environment.
 */
import { alive, processesWithMarker, stopProcesses } from "./proc.ts";

export const RUN_DIR_PREFIX = "udpif-conformance.";
export const RUNNER_PID_FILE = "runner.pid";

/** The temp directory the replays live in. */
export function tempRoot(): string {
  return Deno.env.get("TMPDIR") || "/tmp";
}

/** Stops and removes the run directories of dead runners; returns the ones reaped. */
export async function reapStale(root = tempRoot()): Promise<string[]> {
  const reaped: string[] = [];
  let entries: Deno.DirEntry[];
  try {
    entries = [...Deno.readDirSync(root)];
  } catch {
    return reaped;
  }
  for (const e of entries) {
    if (!e.isDirectory || !e.name.startsWith(RUN_DIR_PREFIX)) continue;
    const dir = `${root}/${e.name}`;
    let runner: number;
    try {
      runner = Number((await Deno.readTextFile(`${dir}/${RUNNER_PID_FILE}`)).trim());
    } catch {
      continue;
    }
    if (!(runner > 0) || runner === Deno.pid || (await alive(runner))) continue;
    const marker = `UDPIF_RUNDIR=${dir}`;
    await stopProcesses(await processesWithMarker(marker), marker);
    await Deno.remove(dir, { recursive: true }).catch(() => {});
    reaped.push(dir);
  }
  return reaped;
}

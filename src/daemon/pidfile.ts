/**
 * The `--pidfile` file: the daemon's pid, written at start-up and removed
 * at exit. A pidfile naming a live process stops a second daemon from
 * starting on top of the first; one left by a dead process is replaced.
 */

function processAlive(pid: number): boolean {
  try {
    const stat = Deno.readTextFileSync(`/proc/${pid}/stat`);
    // A zombie (state Z) has exited; it only waits to be reaped.
    return stat.slice(stat.lastIndexOf(")") + 2, stat.lastIndexOf(")") + 3) !== "Z";
  } catch {
    return false;
  }
}

/** The pid recorded in `path` if that process is still running. */
export async function readLivePid(path: string): Promise<number | undefined> {
  let text: string;
  try {
    text = await Deno.readTextFile(path);
  } catch {
    return undefined;
  }
  const pid = Number.parseInt(text.trim(), 10);
  return Number.isInteger(pid) && pid > 0 && processAlive(pid) ? pid : undefined;
}

/** Writes our pid to `path`, refusing if another live daemon holds it. */
export async function writePidfile(path: string): Promise<void> {
  const other = await readLivePid(path);
  if (other !== undefined && other !== Deno.pid) {
    throw new Error(`a daemon is already running as pid ${other}`);
  }
  const tmp = `${path}.tmp${Deno.pid}`;
  await Deno.writeTextFile(tmp, `${Deno.pid}\n`);
  await Deno.rename(tmp, path);
}

/** Removes `path` if it still names this process. */
export async function removePidfile(path: string): Promise<void> {
  try {
    if ((await Deno.readTextFile(path)).trim() === String(Deno.pid)) await Deno.remove(path);
  } catch {
    // Already gone.
  }
}

/**
 * The `--pidfile` file: the daemon's pid, written at start-up and removed
 * at exit. A pidfile naming a live process stops a second daemon from
 * starting on top of the first; one left by a dead process is replaced.
 */

/**
 * Whether `pid` is a running process. /proc needs more than --allow-read
 * in Deno, so ask ps (which also shows zombies, processes that have
 * exited and only wait to be reaped); without ps, fall back to `kill -0`.
 */
async function processAlive(pid: number): Promise<boolean> {
  try {
    const out = await new Deno.Command("ps", {
      args: ["-o", "stat=", "-p", String(pid)],
      stdout: "piped",
      stderr: "null",
    }).output();
    const state = new TextDecoder().decode(out.stdout).trim();
    return out.success && state !== "" && !state.startsWith("Z");
  } catch {
    const out = await new Deno.Command("sh", {
      args: ["-c", `kill -0 ${pid}`],
      stdout: "null",
      stderr: "null",
    }).output();
    return out.success;
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
  return Number.isInteger(pid) && pid > 0 && await processAlive(pid) ? pid : undefined;
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

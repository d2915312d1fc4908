/**
 * Running the commands of a replay: each in its own session (setsid), with
 * stdout and stderr merged in write order as the oracle script captures
 * them, under a time limit after which the whole session is killed. And
 * finding and stopping the processes a replay left behind, recognised by
 * a marker in their environment (the replay's private run directory),
 * never by name.
 */

export interface RunResult {
  code: number;
  output: string;
  timedOut: boolean;
}

export interface RunOptions {
  cwd: string;
  env: Record<string, string>;
  timeoutMs: number;
}

/** Sends `signal` to a process group; a group that is already gone is fine. */
async function killGroup(pgid: number, signal: "TERM" | "KILL"): Promise<void> {
  await new Deno.Command("kill", { args: [`-${signal}`, "--", `-${pgid}`], stderr: "null" })
    .output();
}

/** Runs `argv` with output merged; never throws for a failing command. */
export async function run(argv: string[], o: RunOptions): Promise<RunResult> {
  const child = new Deno.Command("setsid", {
    args: ["bash", "-c", 'exec 2>&1; exec "$@"', "bash", ...argv],
    cwd: o.cwd,
    env: o.env,
    stdin: "null",
    stdout: "piped",
    stderr: "null",
  }).spawn();
  let timedOut = false;
  const timer = setTimeout(() => {
    timedOut = true;
    void killGroup(child.pid, "KILL");
  }, o.timeoutMs);
  try {
    const out = await child.output();
    return { code: out.code, output: new TextDecoder().decode(out.stdout), timedOut };
  } finally {
    clearTimeout(timer);
  }
}

/** Runs one shell command line (bash -c) the same way. */
export function runShell(command: string, o: RunOptions): Promise<RunResult> {
  return run(["bash", "-c", command], o);
}

/**
 * Runs a small bash script that reads /proc (Deno itself may only read
 * /proc with --allow-all; the tests run with --allow-run).
 */
async function procQuery(script: string, ...args: string[]): Promise<string> {
  const out = await new Deno.Command("bash", {
    args: ["-c", script, "bash", ...args],
    stdout: "piped",
    stderr: "null",
  }).output();
  return new TextDecoder().decode(out.stdout);
}

/** True while `pid` runs (a zombie waiting to be reaped counts as gone). */
export async function alive(pid: number): Promise<boolean> {
  const state = await procQuery(
    'sed -n "s/^State:[[:space:]]*\\([A-Z]\\).*/\\1/p" "/proc/$1/status" 2>/dev/null',
    String(pid),
  );
  return state.trim() !== "" && state.trim() !== "Z";
}

/** True when `pid`'s environment carries `marker` (a `NAME=value` entry). */
export async function carriesMarker(pid: number, marker: string): Promise<boolean> {
  const r = await procQuery(
    'grep -qxzF -e "$2" "/proc/$1/environ" 2>/dev/null && echo yes',
    String(pid),
    marker,
  );
  return r.trim() === "yes";
}

/** Every live process whose environment carries `marker`, except this one. */
export async function processesWithMarker(marker: string): Promise<number[]> {
  const list = await procQuery(
    `for d in /proc/[0-9]*; do
       grep -qxzF -e "$1" "$d/environ" 2>/dev/null || continue
       grep -q '^State:[[:space:]]*Z' "$d/status" 2>/dev/null && continue
       echo "\${d#/proc/}"
     done`,
    marker,
  );
  return list.split("\n").filter((l) => /^[0-9]+$/.test(l)).map(Number)
    .filter((pid) => pid !== Deno.pid);
}

/** Waits until `pid` is gone, at most `ms`; true if it went. */
export async function waitGone(pid: number, ms: number): Promise<boolean> {
  const until = Date.now() + ms;
  while (await alive(pid)) {
    if (Date.now() >= until) return false;
    await new Promise((r) => setTimeout(r, 20));
  }
  return true;
}

/** TERM, then KILL after a grace period, for each pid that still carries `marker`. */
export async function stopProcesses(pids: number[], marker: string): Promise<void> {
  for (const pid of pids) {
    if (!(await carriesMarker(pid, marker))) continue;
    try {
      Deno.kill(pid, "SIGTERM");
    } catch {
      continue;
    }
    if (await waitGone(pid, 3000)) continue;
    if (await carriesMarker(pid, marker)) {
      try {
        Deno.kill(pid, "SIGKILL");
      } catch {
        // already gone
      }
      await waitGone(pid, 2000);
    }
  }
}

/**
 * A cleanup that runs however the test process ends. A `finally` does not
 * run when the process is killed, and `deno test` ends itself on SIGINT
 * without running a script's signal listeners, so namespaces, veths and
 * detached daemons a test made would outlive it. The guard is a small
 * shell that ignores SIGINT/SIGTERM/SIGHUP and blocks reading a pipe
 * from this process; the pipe closes when this process calls `release()`
 * or dies of anything, and the shell then runs the cleanup. Cleanups are
 * idempotent commands, so after an ordinary teardown the guard's run finds
 * nothing left to do.
 *
 * Deno opens its child pipes close-on-exec, so no other process the test
 * starts (a detached daemon included) holds the pipe open.
 */
export class CleanupGuard {
  readonly #child: Deno.ChildProcess;

  private constructor(child: Deno.ChildProcess) {
    this.#child = child;
  }

  /** Starts a guard for `script` (bash), which gets `args` as $1...; ignore its failures. */
  static start(script: string, args: string[]): CleanupGuard {
    const child = new Deno.Command("bash", {
      args: ["-c", `trap '' INT TERM HUP; cat >/dev/null; ${script}`, "cleanup-guard", ...args],
      stdin: "piped",
      stdout: "null",
      stderr: "null",
    }).spawn();
    return new CleanupGuard(child);
  }

  /** Runs the cleanup now and waits for it to finish. */
  async release(): Promise<void> {
    await this.#child.stdin.close().catch(() => undefined);
    await this.#child.status;
  }
}

/** Removes namespaces ($1: space-separated) after killing what runs in them, and links ($2). */
export const REMOVE_NAMESPACES_AND_LINKS = `
  for ns in $1; do
    ip netns pids "$ns" 2>/dev/null | xargs -r kill -KILL 2>/dev/null
    ip netns del "$ns" 2>/dev/null
  done
  for link in $2; do ip link del "$link" 2>/dev/null; done
  true`;

/** Kills the daemons whose pidfiles ($2...) are in run directory $1, then removes the directory. */
export const REMOVE_RUN_DIR = `
  dir=$1; shift
  for f in "$@"; do
    [ -f "$dir/$f" ] && kill -KILL "$(cat "$dir/$f")" 2>/dev/null
  done
  rm -rf "$dir"
  true`;

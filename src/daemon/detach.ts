/**
 * `udpif start --detach`: run the same command again as a background
 * process, and return only once that process answers on its control
 * socket (or report why it could not start).
 */
import { unixctlTransact } from "../unixctl/mod.ts";

/** Set in the environment of the background process. */
export const DETACHED_ENV = "UDPIF_DETACHED";

/** The line the background process writes on stderr once its socket is listening. */
export const READY_LINE = "udpif: daemon ready";

/**
 * In the background process, after start-up: tells the waiting parent
 * that the socket is up. Stderr is the parent's pipe, which closes when
 * the parent exits, so nothing may be written there afterwards.
 */
export function announceReady(): void {
  Deno.stderr.writeSync(new TextEncoder().encode(READY_LINE + "\n"));
}

/** The permissions bin/udpif and dist/udpif grant. */
const PERMISSIONS = [
  "--allow-read",
  "--allow-write",
  "--allow-env",
  "--allow-run",
  "--allow-sys",
  "--allow-net",
  "--allow-ffi",
];

/**
 * V8's tier-up thresholds for the daemon, lowered (defaults: Maglev after
 * 400 calls, TurboFan after 3000, on-stack replacement after 500 loop
 * iterations, 500 calls after a type-feedback change). A datapath
 * function runs once per packet: with the defaults, the first few hundred
 * packets through the PMD all run unoptimized, and at ping rates that is
 * minutes of traffic. Measured on system ports (bench/README.md): a
 * packet's processing in the PMD 69 -> 27 us, its one-way trip through
 * the PMD 165 -> 105 us (medians). bin/udpif (for `start`) and `make
 * build` pass the same flags.
 */
const V8_FLAGS = "--v8-flags=--invocation-count-for-maglev=20," +
  "--invocation-count-for-turbofan=200,--invocation-count-for-osr=50," +
  "--minimum-invocations-after-ic-update=20";

/** The background process failed to start; `code` is its exit status, `message` what it said. */
export class DetachError extends Error {
  override name = "DetachError";
  readonly code: number;

  constructor(message: string, code: number) {
    super(message);
    this.code = code;
  }
}

/** How this program was started, so it can start itself again. */
function selfCommand(): string[] {
  const exe = Deno.execPath();
  const base = exe.slice(exe.lastIndexOf("/") + 1);
  if (base === "deno" || base.startsWith("deno.") || base === "deno-bin") {
    const main = new URL(Deno.mainModule).pathname;
    return [exe, "run", "--quiet", V8_FLAGS, ...PERMISSIONS, main];
  }
  return [exe];
}

/**
 * Starts `args` (the `start` arguments without `--detach`) in the
 * background and waits until it announces that its socket is listening,
 * then checks that `socket` answers. Returns the child's pid; throws with
 * the child's own error output if it exits before that.
 */
export async function spawnDetached(args: string[], socket: string): Promise<number> {
  const [cmd, ...pre] = selfCommand();
  const child = new Deno.Command(cmd, {
    args: [...pre, ...args],
    env: { [DETACHED_ENV]: "1" },
    stdin: "null",
    stdout: "null",
    stderr: "piped",
    detached: true,
  }).spawn();
  const reader = child.stderr.pipeThrough(new TextDecoderStream()).getReader();
  let text = "";
  let ready = false;
  while (!ready) {
    const { value, done } = await reader.read();
    if (done) break;
    text += value;
    ready = text.split("\n").includes(READY_LINE);
  }
  if (!ready) {
    const status = await child.status;
    const said = text.trim().split("\n").at(-1)?.replace(/^udpif: /, "");
    throw new DetachError(
      said || `daemon exited with status ${status.code} before it was ready`,
      status.code,
    );
  }
  await reader.cancel().catch(() => {});
  child.unref();
  const answer = await unixctlTransact(socket, "version", []);
  if (answer.error !== undefined) throw new Error(`${socket}: ${answer.error.trim()}`);
  return child.pid;
}

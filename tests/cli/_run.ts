/** Runs the real entry point (bin/udpif) the way a user does, and captures what it prints. */
import assert from "node:assert/strict";
import { readUntil } from "../poll.ts";
import { CleanupGuard, REMOVE_RUN_DIR } from "../support/cleanup_guard.ts";

export const UDPIF = new URL("../../bin/udpif", import.meta.url).pathname;

export interface RunResult {
  code: number;
  stdout: string;
  stderr: string;
}

export async function udpif(
  args: string[],
  options: { env?: Record<string, string>; stdin?: string } = {},
): Promise<RunResult> {
  const child = new Deno.Command(UDPIF, {
    args,
    env: options.env,
    stdin: options.stdin === undefined ? "null" : "piped",
    stdout: "piped",
    stderr: "piped",
  }).spawn();
  if (options.stdin !== undefined) {
    const w = child.stdin.getWriter();
    await w.write(new TextEncoder().encode(options.stdin));
    await w.close();
  }
  const out = await child.output();
  const dec = new TextDecoder();
  return { code: out.code, stdout: dec.decode(out.stdout), stderr: dec.decode(out.stderr) };
}

/** other_config:max-idle for test daemons whose test is not about expiry (see TestDaemon). */
const IDLE_FOR_TESTS = ["--other-config", "max-idle=86400000"];

/** How to start a TestDaemon besides its arguments. */
export interface TestDaemonOptions {
  /**
   * A namespace to run in (a topology's switch namespace, for tests that
   * wire the daemon to interfaces); a fresh one of its own otherwise.
   */
  netns?: string;
  /** The `--port` arguments given before `extra` (default p1 and p2). */
  ports?: string[];
}

/**
 * The one way tests and benches start udpif: a foreground daemon
 * (`udpif start`) in a fresh run directory and a network namespace that
 * is not the host's: its own (`unshare`; with a user namespace too when
 * not root), or the named `netns` of a topology that wires it up, so the
 * tap its netdev datapath makes for the bridge's local port (br0) clashes
 * with no other daemon's, the host's or a real OVS's. `start` returns
 * once its log says it is up; `stop` sends `exit` and waits for the
 * process to end. A CleanupGuard kills the daemon and removes its run
 * directory when the test process dies first.
 *
 * Unless the arguments set other_config:max-idle, the daemon gets a day
 * of it (IDLE_FOR_TESTS): a test that is not about idle expiry must not
 * lose its flows because a loaded machine took OVS's 10 s between its
 * packet and its dump. Tests about expiry set max-idle and warp time.
 */
export class TestDaemon {
  readonly dir: string;
  readonly socket: string;
  readonly env: Record<string, string>;
  readonly #child: Deno.ChildProcess;
  readonly #log: Promise<void>;
  readonly #guard: CleanupGuard;
  readonly #netns?: string;
  #text = "";

  private constructor(
    dir: string,
    child: Deno.ChildProcess,
    reader: ReadableStreamDefaultReader<string>,
    text: string,
    guard: CleanupGuard,
    netns?: string,
  ) {
    this.#netns = netns;
    this.dir = dir;
    this.socket = `${dir}/udpif.ctl`;
    // UDPIF_CTL from the caller's shell must not redirect the test's clients.
    this.env = { UDPIF_RUNDIR: dir, UDPIF_CTL: "" };
    this.#child = child;
    this.#text = text;
    this.#guard = guard;
    this.#log = (async () => {
      for (;;) {
        const { value, done } = await reader.read();
        if (done) return;
        this.#text += value;
      }
    })();
  }

  static async start(extra: string[] = [], options: TestDaemonOptions = {}): Promise<TestDaemon> {
    const dir = await Deno.makeTempDir({ prefix: "udpif-cli-" });
    const guard = CleanupGuard.start(REMOVE_RUN_DIR, [dir, "udpif.pid"]);
    // unshare, sh -c and ip netns exec all exec the daemon, so the child's pid is the daemon's.
    const netns = options.netns ? ["ip", "netns", "exec", options.netns] : [
      "unshare",
      "--net",
      ...(Deno.uid() === 0 ? [] : ["--map-root-user"]),
      // A new namespace's loopback is down; `--listen ptcp:...:127.0.0.1` needs it.
      "sh",
      "-c",
      'ip link set lo up && exec "$0" "$@"',
    ];
    const ports = (options.ports ?? ["p1", "p2"]).flatMap((p) => ["--port", p]);
    const idle = extra.some((a) => a.includes("max-idle=")) ? [] : IDLE_FOR_TESTS;
    const child = new Deno.Command(netns[0], {
      args: [
        ...netns.slice(1),
        UDPIF,
        ...["start", "--pidfile", `${dir}/udpif.pid`, ...ports, ...idle, ...extra],
      ],
      env: { UDPIF_RUNDIR: dir, UDPIF_CTL: "" },
      stdin: "null",
      stdout: "null",
      stderr: "piped",
    }).spawn();
    try {
      const { reader, text } = await readUntil(
        child.stderr,
        "|vswitchd|INFO|udpif started",
        "the daemon",
      );
      return new TestDaemon(dir, child, reader, text, guard, options.netns);
    } catch (e) {
      await child.status;
      await guard.release();
      throw e;
    }
  }

  /**
   * `argv` made to run in the daemon's network namespace, for a client that
   * talks to it over TCP on loopback (`--listen ptcp:`). Entering the
   * daemon's own namespace takes root (nsenter).
   */
  inNetns(argv: string[]): string[] {
    return this.#netns
      ? ["ip", "netns", "exec", this.#netns, ...argv]
      : ["nsenter", `--net=/proc/${this.#child.pid}/ns/net`, ...argv];
  }

  run(args: string[], stdin?: string): Promise<RunResult> {
    return udpif(args, { env: this.env, stdin });
  }

  /** Everything the daemon logged so far. */
  logSoFar(): string {
    return this.#text;
  }

  /**
   * Stops the daemon with `exit` (or `signal`); returns its exit status, everything it
   * logged, and the files it left in its run directory.
   */
  async stop(signal?: Deno.Signal): Promise<{ code: number; log: string; leftovers: string[] }> {
    if (signal) this.#child.kill(signal);
    else await this.run(["appctl", "exit"]);
    const status = await this.#child.status;
    await this.#log;
    const leftovers: string[] = [];
    for await (const e of Deno.readDir(this.dir)) leftovers.push(e.name);
    await this.#guard.release();
    return { code: status.code, log: this.#text, leftovers };
  }
}

/** Runs `args` on `d`; fails the test unless it exits 0; its stdout. */
export async function ok(d: TestDaemon, args: string[], stdin?: string): Promise<string> {
  const r = await d.run(args, stdin);
  assert.equal(r.code, 0, `${args.join(" ")}: ${r.stderr}`);
  return r.stdout;
}

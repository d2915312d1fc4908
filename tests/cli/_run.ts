/** Runs the real entry point (bin/udpif) the way a user does, and captures what it prints. */

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

/**
 * A foreground daemon (`udpif start`) in a fresh run directory and its
 * own network namespace (`unshare`; with a user namespace too when not
 * root), so the tap its netdev datapath makes for the bridge's local port
 * (br0) clashes with no other daemon's or the host's (or in the named
 * namespace `netns`, for tests that wire it up). `start` returns
 * once its log says it is up; `stop` sends `exit` and waits for the
 * process to end.
 */
export class TestDaemon {
  readonly dir: string;
  readonly socket: string;
  readonly env: Record<string, string>;
  readonly #child: Deno.ChildProcess;
  readonly #log: Promise<string>;

  private constructor(dir: string, child: Deno.ChildProcess, log: Promise<string>) {
    this.dir = dir;
    this.socket = `${dir}/udpif.ctl`;
    // UDPIF_CTL from the caller's shell must not redirect the test's clients.
    this.env = { UDPIF_RUNDIR: dir, UDPIF_CTL: "" };
    this.#child = child;
    this.#log = log;
  }

  static async start(extra: string[] = [], options: { netns?: string } = {}): Promise<TestDaemon> {
    const dir = await Deno.makeTempDir({ prefix: "udpif-cli-" });
    // unshare and ip netns exec exec the daemon, so the child's pid is the daemon's.
    const netns = options.netns
      ? ["ip", "netns", "exec", options.netns]
      : ["unshare", "--net", ...(Deno.uid() === 0 ? [] : ["--map-root-user"])];
    const child = new Deno.Command(netns[0], {
      args: [
        ...netns.slice(1),
        UDPIF,
        ...["start", "--pidfile", `${dir}/udpif.pid`, "--port", "p1", "--port", "p2", ...extra],
      ],
      env: { UDPIF_RUNDIR: dir, UDPIF_CTL: "" },
      stdin: "null",
      stdout: "null",
      stderr: "piped",
    }).spawn();
    const reader = child.stderr.pipeThrough(new TextDecoderStream()).getReader();
    let text = "";
    while (!text.includes("|vswitchd|INFO|udpif started")) {
      const { value, done } = await reader.read();
      if (done) {
        await child.status;
        throw new Error(`daemon did not start: ${text}`);
      }
      text += value;
    }
    const rest = (async () => {
      for (;;) {
        const { value, done } = await reader.read();
        if (done) return text;
        text += value;
      }
    })();
    return new TestDaemon(dir, child, rest);
  }

  run(args: string[], stdin?: string): Promise<RunResult> {
    return udpif(args, { env: this.env, stdin });
  }

  /**
   * Stops the daemon with `exit` (or `signal`); returns its exit status, everything it
   * logged, and the files it left in its run directory.
   */
  async stop(signal?: Deno.Signal): Promise<{ code: number; log: string; leftovers: string[] }> {
    if (signal) this.#child.kill(signal);
    else await this.run(["appctl", "exit"]);
    const status = await this.#child.status;
    const log = await this.#log;
    const leftovers: string[] = [];
    for await (const e of Deno.readDir(this.dir)) leftovers.push(e.name);
    await Deno.remove(this.dir, { recursive: true });
    return { code: status.code, log, leftovers };
  }
}

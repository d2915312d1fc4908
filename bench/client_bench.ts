/**
 * How long one client command takes, as a script feels it: the median wall
 * time of `udpif upcall/show` against a running daemon, beside the median
 * of `deno run` of an empty script (the runtime's own start) and of
 * Debian's `ovs-appctl` against the same daemon, interleaved round by round
 * so that load on the machine touches all three alike. Prints one line:
 *
 *   client: upcall_show_ms=M empty_deno_ms=E ratio=M/E ovs_appctl_ms=A runs=N
 *
 * The aim (issue 11) is ratio <= 1.5.
 */
const ROUNDS = Number(Deno.env.get("CLIENT_BENCH_ROUNDS") ?? "21");
const root = new URL("..", import.meta.url).pathname;
const UDPIF = `${root}bin/udpif`;
const dir = await Deno.makeTempDir({ prefix: "udpif-client-bench-" });
const socket = `${dir}/udpif.ctl`;
const empty = `${dir}/empty.ts`;
await Deno.writeTextFile(empty, "");
const env = { UDPIF_RUNDIR: dir, UDPIF_CTL: "" };

function which(cmd: string): string | null {
  for (const d of (Deno.env.get("PATH") ?? "").split(":")) {
    try {
      if (Deno.statSync(`${d}/${cmd}`).isFile) return `${d}/${cmd}`;
    } catch {
      // not in this directory
    }
  }
  return null;
}

/** Wall time of one run in ms; a failed run stops the bench (a figure of a failure means nothing). */
async function timed(cmd: string, args: string[]): Promise<number> {
  const t0 = performance.now();
  const out = await new Deno.Command(cmd, { args, env, stdout: "null", stderr: "piped" }).output();
  const ms = performance.now() - t0;
  if (!out.success) {
    throw new Error(`${cmd} ${args.join(" ")}: ${new TextDecoder().decode(out.stderr).trim()}`);
  }
  return ms;
}

const median = (xs: number[]) => {
  const s = [...xs].sort((a, b) => a - b);
  return s[s.length >> 1];
};

const started = await new Deno.Command(UDPIF, {
  args: ["start", "--detach", "--datapath-type", "dummy", "--port", "p1", "--port", "p2"],
  env,
  stdout: "null",
  stderr: "inherit",
}).output();
if (!started.success) Deno.exit(1);
try {
  const appctl = which("ovs-appctl");
  const runs = {
    show: [] as number[],
    empty: [] as number[],
    appctl: [] as number[],
  };
  // One untimed round: the first run of each compiles and caches what it loads.
  for (let i = 0; i <= ROUNDS; i++) {
    const show = await timed(UDPIF, ["upcall/show", "-t", socket]);
    const none = await timed(Deno.execPath(), ["run", "--quiet", empty]);
    const ovs = appctl ? await timed(appctl, ["-t", socket, "upcall/show"]) : NaN;
    if (i === 0) continue;
    runs.show.push(show);
    runs.empty.push(none);
    runs.appctl.push(ovs);
  }
  const m = { show: median(runs.show), empty: median(runs.empty), appctl: median(runs.appctl) };
  console.log(
    `client: upcall_show_ms=${m.show.toFixed(1)} empty_deno_ms=${m.empty.toFixed(1)} ` +
      `ratio=${(m.show / m.empty).toFixed(2)} ovs_appctl_ms=${
        appctl ? m.appctl.toFixed(1) : "n/a"
      } runs=${ROUNDS}`,
  );
} finally {
  await new Deno.Command(UDPIF, { args: ["exit", "-t", socket], env, stdout: "null" }).output();
  await Deno.remove(dir, { recursive: true }).catch(() => {});
}

/**
 * Replays a conformance case through udpif, step for step as
 * ovs-oracle.sh runs it on OVS, and returns the same report:
 *
 * 1. `udpif start --detach` on a private run directory, datapath type
 *    dummy, ports p1..pN with OpenFlow numbers 1..N, the case's `--vsctl`
 *    other_config as `--other-config`; `time/stop` with `--time-stop`;
 * 2. `ovs-ofctl add-flows br0 flows.txt` (through the wrapper: `udpif
 *    ofctl`, or in wire mode the real ovs-ofctl over OpenFlow);
 * 3. two `revalidator/wait`, the settle pause, a coverage snapshot;
 * 4. the `--pre` commands, then packets.txt in order: packet lines as
 *    `netdev-dummy/receive` over the control socket, `!` lines in bash
 *    (cwd = run directory, the ovs-* wrappers first in PATH; ovs-appctl
 *    goes through the runner's relay, at ovs-appctl speed);
 * 5. two `revalidator/wait`; the `--post` commands (and two more waits);
 * 6. the final dumps with the oracle's section headers, the coverage
 *    totals and the delta;
 * 7. `exit` on the control socket, then TERM/KILL of whatever the replay
 *    started and is still alive; the run directory is removed.
 */
import { AppctlRelay } from "./appctl_relay.ts";
import { agesFlows, type ConformanceCase } from "./case.ts";
import { coverageDelta, coverageLines, coverageTotals } from "./coverage.ts";
import { COV_TOTAL_TAG, maskRealTimeFigures, normalize } from "./normalize.ts";
import { unifiedDiff } from "./diff.ts";
import {
  alive,
  carriesMarker,
  processesWithMarker,
  run,
  runShell,
  stopProcesses,
  waitGone,
} from "./proc.ts";
import type { RunResult } from "./proc.ts";
import { RUN_DIR_PREFIX, RUNNER_PID_FILE, tempRoot } from "./stale.ts";
import { unixctlCall } from "./unixctl.ts";
import { bondPortsOf, patchBridgeArgs, vsctlToOtherConfig, writeWrappers } from "./wrappers.ts";
import type { ReplayConfig } from "./replay_config.ts";

export { configFromEnv, type ReplayConfig } from "./replay_config.ts";

export interface ReplayResult {
  raw: string;
  normalized: string;
}

const sleep = (seconds: number) => new Promise((r) => setTimeout(r, seconds * 1000));

class Replay {
  readonly out: string[] = [];
  readonly socket: string;
  readonly pidfile: string;
  readonly marker: string;
  readonly env: Record<string, string>;
  readonly deadline: number;
  /** Serves the `ovs-appctl` wrapper's fast path (see appctl_relay.ts). */
  relay: AppctlRelay | undefined;

  constructor(readonly c: ConformanceCase, readonly cfg: ReplayConfig, readonly dir: string) {
    this.socket = `${dir}/udpif.ctl`;
    this.pidfile = `${dir}/udpif.pid`;
    this.marker = `UDPIF_RUNDIR=${dir}`;
    this.deadline = Date.now() + cfg.caseTimeoutMs;
    this.env = {
      ...Deno.env.toObject(),
      PATH: `${dir}/bin:${Deno.env.get("PATH") ?? "/usr/bin:/bin"}`,
      UDPIF_RUNDIR: dir,
      UDPIF_CTL: this.socket,
      NO_COLOR: "1",
    };
  }

  emit(text: string): void {
    this.out.push(text);
  }

  line(text: string): void {
    this.out.push(text + "\n");
  }

  /**
   * The time a step may take: the command limit, cut to what is left of
   * the case's; throws once the case is out of time.
   */
  budget(commandMs = this.cfg.commandTimeoutMs): number {
    const left = this.deadline - Date.now();
    if (left <= 0) {
      throw new Error(
        `case timed out after ${this.cfg.caseTimeoutMs / 1000} s (CONFORMANCE_CASE_TIMEOUT)`,
      );
    }
    return Math.min(commandMs, left);
  }

  /** `ovs-ofctl ARGS` as the case's shell lines run it (the wrapper of the replay's mode). */
  ofctl(args: string[]): Promise<RunResult> {
    return this.runCmd([`${this.dir}/bin/ovs-ofctl`, ...args]);
  }

  runCmd(argv: string[]): Promise<RunResult> {
    return run(argv, { cwd: this.dir, env: this.env, timeoutMs: this.budget() });
  }

  /** A control call whose outcome does not matter (the oracle sends these to /dev/null). */
  async quietCall(method: string, params: string[] = []): Promise<void> {
    const ms = this.budget();
    try {
      await unixctlCall(this.socket, method, params, ms);
    } catch {
      // the oracle ignores these failures too
    }
  }

  /** A control call printed as a section: its reply, or its error and exit status. */
  async callSection(header: string, method: string, params: string[]): Promise<void> {
    this.line(`## ${header}`);
    const ms = this.budget();
    try {
      const reply = await unixctlCall(this.socket, method, params, ms);
      if (reply.error !== null) {
        this.emit(reply.error.endsWith("\n") ? reply.error : reply.error + "\n");
        this.line("(exit status 2)");
      } else {
        this.emit(reply.result ?? "");
      }
    } catch (e) {
      this.line(e instanceof Error ? e.message : String(e));
      this.line("(exit status 1)");
    }
  }

  async shellSection(label: string, command: string): Promise<void> {
    this.line(`## ${label} ${command}`);
    const r = await runShell(command, {
      cwd: this.dir,
      env: this.env,
      timeoutMs: this.budget(this.cfg.commandTimeoutMs * 2),
    });
    this.emit(r.output);
    if (r.timedOut) this.line("(timed out)");
    if (r.code !== 0) this.line(`(exit status ${r.code})`);
  }

  async start(): Promise<void> {
    const o = this.c.options;
    const argv = [
      this.cfg.udpif,
      "start",
      "--detach",
      "--unixctl",
      this.socket,
      "--pidfile",
      this.pidfile,
      // Named as OVS's, so that a case's shell lines can read the log.
      "--log-file",
      `${this.dir}/ovs-vswitchd.log`,
      "--datapath-type",
      "dummy",
      // The cases were recorded from OVS 3.1: replay them with 3.1's behaviour.
      "--other-config",
      "ovs-compat=3.1",
    ];
    for (let i = 1; i <= o.ports; i++) argv.push("--port", `p${i}:${i}`);
    for (const bond of bondPortsOf(o.pre, this.dir)) argv.push("--port", bond);
    argv.push(...patchBridgeArgs(o));
    for (const words of o.vsctl) {
      for (const kv of vsctlToOtherConfig(words)) argv.push("--other-config", kv);
    }
    if (!o.timeStop && !agesFlows(this.c)) argv.push("--other-config", "max-idle=86400000");
    const r = await this.runCmd(argv);
    if (r.code !== 0 || r.timedOut) {
      throw new Error(
        `udpif start failed (${r.timedOut ? "timed out" : `exit status ${r.code}`}): ${
          firstLines(r.output)
        }`,
      );
    }
    if (o.timeStop) {
      const reply = await unixctlCall(this.socket, "time/stop", [], this.budget());
      if (reply.error !== null) throw new Error(`time/stop failed: ${reply.error.trim()}`);
    }
  }

  async addFlows(): Promise<void> {
    if (this.c.flowsFile === null) return;
    const r = await this.ofctl([...this.c.options.ofctlOpts, "add-flows", "br0", this.c.flowsFile]);
    if (r.code !== 0) {
      throw new Error(
        `ovs-ofctl add-flows failed (exit status ${r.code}): ${firstLines(r.output)}`,
      );
    }
  }

  async waits(): Promise<void> {
    for (let i = 0; i < this.c.options.waits; i++) await this.quietCall("revalidator/wait");
  }

  async coverageSnapshot(): Promise<string> {
    const ms = this.budget();
    try {
      const reply = await unixctlCall(this.socket, "coverage/show", [], ms);
      return reply.result ?? "";
    } catch {
      return "";
    }
  }

  async packets(): Promise<void> {
    for (const step of this.c.packets) {
      if (step.kind === "shell") {
        await this.shellSection("!", step.command);
      } else if (step.kind === "bad") {
        this.line(`## bad packet line: ${step.line}`);
      } else {
        const ms = this.budget();
        try {
          const reply = await unixctlCall(
            this.socket,
            "netdev-dummy/receive",
            [step.port, ...step.args],
            ms,
          );
          if (reply.error !== null) {
            this.line(`## netdev-dummy/receive ${step.port} FAILED:`);
            this.emit(reply.error.endsWith("\n") ? reply.error : reply.error + "\n");
          }
        } catch (e) {
          this.line(`## netdev-dummy/receive ${step.port} FAILED:`);
          this.line(e instanceof Error ? e.message : String(e));
        }
      }
    }
  }

  async finalDumps(covBefore: string): Promise<void> {
    const o = this.c.options;
    await this.callSection("ovs-appctl dpctl/dump-flows", "dpctl/dump-flows", []);
    await this.callSection("ovs-appctl dpctl/dump-flows -m", "dpctl/dump-flows", ["-m"]);
    await this.callSection("ovs-appctl upcall/show", "upcall/show", []);
    this.line("## ovs-ofctl dump-flows br0");
    const r = await this.ofctl([...o.ofctlOpts, "dump-flows", "br0"]);
    this.emit(r.output);
    if (r.code !== 0) this.line(`(exit status ${r.code})`);
    const settle = o.settle ?? this.cfg.settleSeconds;
    await sleep(settle);
    if (!o.coverage) return;
    const after = await this.coverageSnapshot();
    this.line(
      "## ovs-appctl coverage/show (upcall/revalidator/dpif/datapath counters; totals since start-up)",
    );
    for (const l of coverageLines(after)) this.line(COV_TOTAL_TAG + l);
    this.line("## coverage delta during the scenario (after the flows were loaded -> end)");
    for (const l of coverageDelta(coverageTotals(covBefore), coverageTotals(after))) this.line(l);
  }

  async run(): Promise<void> {
    const o = this.c.options;
    await Deno.mkdir(`${this.dir}/bin`);
    const wire = this.cfg.ofctl === "wire" ? { rundir: this.dir } : undefined;
    await writeWrappers(`${this.dir}/bin`, this.cfg.udpif, this.socket, this.dir, wire);
    this.relay = await AppctlRelay.start(this.dir, this.socket, this.cfg.commandTimeoutMs);
    await this.start();
    await this.addFlows();
    let covBefore = "";
    if (o.final && o.coverage) {
      await this.waits();
      await sleep(o.settle ?? this.cfg.settleSeconds);
      covBefore = await this.coverageSnapshot();
    }
    for (const c of o.pre) await this.shellSection("pre:", c);
    await this.packets();
    await this.waits();
    for (const c of o.post) await this.shellSection("post:", c);
    if (o.final) {
      if (o.post.length > 0) await this.waits();
      await this.finalDumps(covBefore);
    }
  }

  /** Stops the daemon (exit, then signals) and anything else the replay started. */
  async stop(): Promise<void> {
    await this.relay?.stop();
    let pid = 0;
    try {
      pid = Number((await Deno.readTextFile(this.pidfile)).trim());
    } catch {
      // no pidfile: the daemon may not have started
    }
    if (pid > 0 && (await alive(pid)) && (await carriesMarker(pid, this.marker))) {
      try {
        await unixctlCall(this.socket, "exit", [], 5000);
      } catch {
        // not answering: signals below
      }
      if (!(await waitGone(pid, 5000))) await stopProcesses([pid], this.marker);
    }
    await stopProcesses(await processesWithMarker(this.marker), this.marker);
  }
}

function firstLines(text: string, n = 5): string {
  const l = text.trim().split("\n").slice(0, n).join(" | ");
  return l === "" ? "(no output)" : l;
}

/** Replays `c` through udpif; throws when the switch cannot be set up (as the oracle exits 1). */
export async function replayCase(c: ConformanceCase, cfg: ReplayConfig): Promise<ReplayResult> {
  const dir = await Deno.makeTempDir({ dir: tempRoot(), prefix: RUN_DIR_PREFIX });
  await Deno.writeTextFile(`${dir}/${RUNNER_PID_FILE}`, `${Deno.pid}\n`);
  const replay = new Replay(c, cfg, dir);
  // Interrupted (Ctrl-C, kill): stop this case's daemon before going down.
  const onSignal = async () => {
    await replay.stop();
    await Deno.remove(dir, { recursive: true }).catch(() => {});
    Deno.exit(130);
  };
  Deno.addSignalListener("SIGINT", onSignal);
  Deno.addSignalListener("SIGTERM", onSignal);
  try {
    await replay.run();
  } finally {
    Deno.removeSignalListener("SIGINT", onSignal);
    Deno.removeSignalListener("SIGTERM", onSignal);
    await replay.stop();
    if (cfg.keepDir) {
      await Deno.mkdir(`${cfg.keepDir}/${c.name}`, { recursive: true });
      await run(["cp", "-a", `${dir}/.`, `${cfg.keepDir}/${c.name}/`], {
        cwd: "/",
        env: {},
        timeoutMs: 30_000,
      });
    }
    await Deno.remove(dir, { recursive: true }).catch(() => {});
  }
  const raw = replay.out.join("");
  return { raw, normalized: normalize(raw) };
}

/**
 * The unified diff from OVS's recorded output to a replay's normalized
 * output (empty when they agree); on the running clock, upcall/show's
 * average flow count is left out of both (maskRealTimeFigures).
 */
export function diffFromOvs(c: ConformanceCase, normalized: string, label = "udpif"): string {
  const mask = c.options.timeStop ? (t: string) => t : maskRealTimeFigures;
  return unifiedDiff(mask(c.expected), mask(normalized), [
    `cases/${c.name}/expected.txt (Open vSwitch 3.1)`,
    label,
  ]);
}

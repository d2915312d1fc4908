/**
 * The switch a real-interface test or benchmark drives, behind one
 * interface with two drivers: udpif (bin/udpif started by TestDaemon, the
 * tests' one way to start it) and Open vSwitch 3.1 (ovsdb-server and ovs-vswitchd in a
 * private run directory, `datapath_type=netdev`, the veths as system
 * ports), so the same scenario can run against both and OVS shows what the
 * scenario expects of a switch.
 *
 * Both run inside the topology's switch namespace and are stopped through
 * their control sockets, then by the pids their pidfiles name, never by
 * process name.
 */
import { TestDaemon } from "../cli/_run.ts";
import { waitGone } from "../conformance/proc.ts";
import { CleanupGuard, REMOVE_RUN_DIR } from "./cleanup_guard.ts";
import { mustRun, runCmd } from "./veth_topology.ts";

/** What a test does with the switch between two hosts. */
export interface SwitchUnderTest {
  /** "udpif" or "ovs". */
  readonly kind: string;
  /** Starts the switch with bridge br0 over these system interfaces; returns once it answers. */
  start(ports: string[]): Promise<void>;
  /** `ofctl add-flow br0 FLOW`; returns once the rule is in the table. */
  addFlow(flow: string): Promise<void>;
  /** `ofctl --strict del-flows br0 FLOW`. */
  delFlowsStrict(flow: string): Promise<void>;
  /** `dpctl/dump-flows`: the datapath's megaflows with their packet counts. */
  dumpDatapathFlows(): Promise<string>;
  /** `revalidator/wait`: returns once a full revalidation has run after the call. */
  revalidatorWait(): Promise<void>;
  /** Stops the daemons and removes their run directory; safe to call when not started. */
  stop(): Promise<void>;
  /** The daemon's log so far, for a failing test's message. */
  log(): Promise<string>;
}

const STOP_DEADLINE_MS = 10_000;

async function readPid(file: string): Promise<number | undefined> {
  try {
    const pid = Number((await Deno.readTextFile(file)).trim());
    return Number.isInteger(pid) && pid > 0 ? pid : undefined;
  } catch {
    return undefined;
  }
}

/**
 * Asks the daemon of `pidfile` to exit with `request` and waits until it
 * has; SIGKILL after the deadline. The pid is read first: daemons remove
 * their pidfile as they exit.
 */
async function stopDaemon(pidfile: string, request: () => Promise<unknown>): Promise<void> {
  const pid = await readPid(pidfile);
  await request();
  if (pid === undefined) return;
  if (await waitGone(pid, STOP_DEADLINE_MS)) return;
  try {
    Deno.kill(pid, "SIGKILL");
  } catch {
    return;
  }
  await waitGone(pid, STOP_DEADLINE_MS);
}

async function readOr(file: string, fallback: string): Promise<string> {
  try {
    return await Deno.readTextFile(file);
  } catch {
    return fallback;
  }
}

/**
 * udpif as a user starts it (`udpif start --datapath-type netdev --port
 * IF,type=system`), through TestDaemon, inside the topology's switch
 * namespace where the switch's veth ends are: its netdev datapath makes a
 * `br0` tap, which must never appear in the host's namespace.
 */
export class UdpifSwitch implements SwitchUnderTest {
  readonly kind = "udpif";
  readonly #netns: string;
  #daemon?: TestDaemon;

  constructor(netns: string | undefined) {
    if (!netns) throw new Error("UdpifSwitch needs the topology's switch namespace");
    this.#netns = netns;
  }

  async #udpif(args: string[]): Promise<string> {
    const r = await this.#daemon!.run(args);
    if (r.code !== 0) {
      throw new Error(`udpif ${args.join(" ")}: exit ${r.code}: ${(r.stderr || r.stdout).trim()}`);
    }
    return r.stdout;
  }

  async start(ports: string[]): Promise<void> {
    this.#daemon = await TestDaemon.start(["--datapath-type", "netdev"], {
      netns: this.#netns,
      ports: ports.map((p) => `${p},type=system`),
    });
  }

  async addFlow(flow: string): Promise<void> {
    await this.#udpif(["ofctl", "add-flow", "br0", flow]);
  }

  async delFlowsStrict(flow: string): Promise<void> {
    await this.#udpif(["ofctl", "--strict", "del-flows", "br0", flow]);
  }

  dumpDatapathFlows(): Promise<string> {
    return this.#udpif(["appctl", "dpctl/dump-flows"]);
  }

  async revalidatorWait(): Promise<void> {
    await this.#udpif(["appctl", "revalidator/wait"]);
  }

  log(): Promise<string> {
    return Promise.resolve(this.#daemon?.logSoFar() ?? "(no udpif log)");
  }

  async stop(): Promise<void> {
    const d = this.#daemon;
    this.#daemon = undefined;
    await d?.stop();
  }
}

const OVS_SCHEMA = "/usr/share/openvswitch/vswitch.ovsschema";

/** An OVS daemon detached with its pidfile, control socket and log as `dir`/`name`.*. */
function daemonArgs(dir: string, name: string): string[] {
  return [
    "--detach",
    "--no-chdir",
    `--pidfile=${dir}/${name}.pid`,
    `--unixctl=${dir}/${name}.ctl`,
    `--log-file=${dir}/${name}.log`,
    "-vconsole:off",
  ];
}

/**
 * Open vSwitch 3.1's userspace datapath, set up as OVS's own system-userspace
 * tests do. ovs-vswitchd runs inside `netns` when given (the topology's
 * switch namespace): the netdev datapath makes tap devices named
 * `ovs-netdev` and `br0`, which would collide between parallel runs in
 * the root namespace.
 */
export class OvsSwitch implements SwitchUnderTest {
  readonly kind = "ovs";
  readonly #netns?: string;
  #dir?: string;
  #guard?: CleanupGuard;

  constructor(netns?: string) {
    this.#netns = netns;
  }

  get #env(): Record<string, string> {
    const d = this.#dir!;
    return { OVS_RUNDIR: d, OVS_LOGDIR: d, OVS_DBDIR: d, OVS_SYSCONFDIR: d };
  }

  #vsctl(args: string[]): Promise<string> {
    return mustRun(["ovs-vsctl", `--db=unix:${this.#dir}/db.sock`, ...args], this.#env);
  }

  #appctl(args: string[]): Promise<string> {
    return mustRun(["ovs-appctl", "-t", `${this.#dir}/vswitchd.ctl`, ...args], this.#env);
  }

  async start(ports: string[]): Promise<void> {
    this.#dir = await Deno.makeTempDir({ prefix: "ovs-e2e-" });
    const d = this.#dir, env = this.#env;
    this.#guard = CleanupGuard.start(REMOVE_RUN_DIR, [d, "vswitchd.pid", "ovsdb.pid"]);
    await mustRun(["ovsdb-tool", "create", `${d}/conf.db`, OVS_SCHEMA], env);
    await mustRun([
      "ovsdb-server",
      ...daemonArgs(d, "ovsdb"),
      `--remote=punix:${d}/db.sock`,
      `${d}/conf.db`,
    ], env);
    await this.#vsctl(["--no-wait", "init"]);
    const vswitchd = [
      "ovs-vswitchd",
      ...daemonArgs(d, "vswitchd"),
      "--disable-system-route",
      `unix:${d}/db.sock`,
    ];
    await mustRun(this.#netns ? ["ip", "netns", "exec", this.#netns, ...vswitchd] : vswitchd, env);
    // Without --no-wait, ovs-vsctl returns once ovs-vswitchd has applied it.
    await this.#vsctl([
      "add-br",
      "br0",
      "--",
      "set",
      "bridge",
      "br0",
      "datapath_type=netdev",
      "fail-mode=secure",
      ...ports.flatMap((p) => ["--", "add-port", "br0", p]),
    ]);
  }

  async addFlow(flow: string): Promise<void> {
    await mustRun(["ovs-ofctl", "add-flow", "br0", flow], this.#env);
  }

  async delFlowsStrict(flow: string): Promise<void> {
    await mustRun(["ovs-ofctl", "--strict", "del-flows", "br0", flow], this.#env);
  }

  dumpDatapathFlows(): Promise<string> {
    return this.#appctl(["dpctl/dump-flows"]);
  }

  async revalidatorWait(): Promise<void> {
    await this.#appctl(["revalidator/wait"]);
  }

  log(): Promise<string> {
    return readOr(`${this.#dir}/vswitchd.log`, "(no ovs-vswitchd log)");
  }

  async stop(): Promise<void> {
    const d = this.#dir;
    if (!d) return;
    const env = this.#env;
    this.#dir = undefined;
    await stopDaemon(
      `${d}/vswitchd.pid`,
      () => runCmd(["ovs-appctl", "-t", `${d}/vswitchd.ctl`, "exit", "--cleanup"], env),
    );
    await stopDaemon(
      `${d}/ovsdb.pid`,
      () => runCmd(["ovs-appctl", "-t", `${d}/ovsdb.ctl`, "exit"], env),
    );
    await this.#guard?.release();
  }
}

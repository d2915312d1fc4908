/**
 * The one builder of real-interface topologies for tests and benches: up
 * to two hosts, each a network namespace holding one end of a veth pair
 * (10.x.0.1/24, 10.x.0.2/24, on a VLAN subinterface when asked); the
 * other ends are the switch's ports, in the root namespace (a datapath
 * the test runs in-process) or in a namespace of the switch's own, where
 * a daemon runs so that the tap its netdev datapath makes for the
 * bridge's local port stays out of the host's namespace.
 *
 * Names carry this process's pid and a counter, so parallel runs never
 * collide (interface names stay within Linux's 15 characters). Everything
 * a topology makes (namespaces, links, the processes started inside the
 * namespaces) is removed by `destroy()`, which tests call in `finally`,
 * and by a CleanupGuard when the process dies before that (SIGINT,
 * SIGKILL, a crash). `vethSkipReason()` is the one-line reason to skip.
 */
import { CleanupGuard, REMOVE_NAMESPACES_AND_LINKS } from "./cleanup_guard.ts";

const INSTALL = new URL("../../scripts/install-test-deps.sh", import.meta.url).pathname;

/** Why real-interface tests cannot run here, in one line; undefined when they can. */
export function vethSkipReason(): string | undefined {
  if (Deno.build.os !== "linux") return "needs Linux network namespaces";
  if (Deno.uid() !== 0) return "needs root to create network namespaces and veths";
  try {
    // unshare(1) (util-linux, always present on Debian) probes namespace
    // support without leaving anything behind.
    const probe = new Deno.Command("unshare", { args: ["--net", "true"], stderr: "null" })
      .outputSync();
    if (!probe.success) return "cannot create network namespaces here";
  } catch {
    return "unshare(1) not found to probe network namespace support";
  }
  return undefined;
}

/** Installs ip, ping, ethtool, iperf3 and OVS 3.1 when missing (scripts/install-test-deps.sh). */
export async function ensureTestDeps(): Promise<void> {
  const out = await new Deno.Command("bash", { args: [INSTALL], stdout: "null", stderr: "piped" })
    .output();
  if (!out.success) {
    throw new Error(`install-test-deps failed: ${new TextDecoder().decode(out.stderr).trim()}`);
  }
}

export interface CmdResult {
  code: number;
  stdout: string;
  stderr: string;
}

/** Runs a command to completion; never throws for a non-zero exit. */
export async function runCmd(argv: string[], env?: Record<string, string>): Promise<CmdResult> {
  const out = await new Deno.Command(argv[0], {
    args: argv.slice(1),
    env,
    stdin: "null",
    stdout: "piped",
    stderr: "piped",
  }).output();
  const dec = new TextDecoder();
  return { code: out.code, stdout: dec.decode(out.stdout), stderr: dec.decode(out.stderr) };
}

/** Runs a command that must succeed; throws with its stderr otherwise. */
export async function mustRun(argv: string[], env?: Record<string, string>): Promise<string> {
  const r = await runCmd(argv, env);
  if (r.code !== 0) {
    throw new Error(`${argv.join(" ")}: exit ${r.code}: ${(r.stderr || r.stdout).trim()}`);
  }
  return r.stdout;
}

export interface TopologyOptions {
  /**
   * Checksum offload, TSO and GSO on the hosts' interfaces; left as the
   * kernel makes them (on, for veths) when undefined.
   */
  offload?: boolean;
  /** Put the switch's ports into a namespace of their own (`switchNetns`). */
  switchNamespace?: boolean;
  /** Second octet of the hosts' 10.x.0.0/24 subnet (default 78). */
  subnet?: number;
  /** How many hosts (1 or 2, default 2). */
  hosts?: 1 | 2;
  /**
   * Put the hosts' addresses on VLAN `vlan` subinterfaces of their veths
   * (needs the kernel's 8021q, which the kernel this was written on lacks:
   * creation then fails naming it).
   */
  vlan?: number;
}

let created = 0;

/** One host: a namespace and the interface inside it. */
export interface Host {
  netns: string;
  /** The veth end inside the namespace. */
  ifname: string;
  /** The interface carrying the address (`ifname`, or its VLAN subinterface). */
  ipIfname: string;
  ip: string;
}

/** Where a command runs: a host's index, or a namespace by name. */
export type Where = number | string;

export class VethTopology {
  /** The switch's ports (the veths' other ends), in host order. */
  readonly ports: string[];
  readonly hosts: Host[];
  /** The switch's namespace, when its ports are not in the root namespace. */
  readonly switchNetns?: string;
  /** A bridge name of this topology's own (the daemon's tap gets it). */
  readonly bridge: string;
  readonly #subnet: number;
  readonly #vlan?: number;
  readonly #children = new Set<Deno.ChildProcess>();
  #destroyed = false;
  #guard?: CleanupGuard;

  private constructor(tag: string, o: TopologyOptions) {
    this.#subnet = o.subnet ?? 78;
    this.#vlan = o.vlan;
    const hosts = ["a", "b"].slice(0, o.hosts ?? 2);
    this.ports = hosts.map((x) => `${tag}${x}`);
    this.hosts = hosts.map((x, i) => {
      const ifname = `${tag}${x}p`;
      return {
        netns: `udpif-e2e-${tag}-${x}`,
        ifname,
        ipIfname: o.vlan === undefined ? ifname : `${ifname}.${o.vlan}`,
        ip: `10.${this.#subnet}.0.${i + 1}`,
      };
    });
    this.bridge = `${tag}br`;
    if (o.switchNamespace) this.switchNetns = `udpif-e2e-${tag}-sw`;
  }

  static async create(o: TopologyOptions = {}): Promise<VethTopology> {
    const t = new VethTopology(`v${Deno.pid}x${created++}`, o);
    t.#guard = CleanupGuard.start(REMOVE_NAMESPACES_AND_LINKS, [
      t.#namespaces.join(" "),
      t.ports.join(" "),
    ]);
    try {
      await t.#build(o);
    } catch (e) {
      await t.destroy();
      throw e;
    }
    return t;
  }

  async #build(o: TopologyOptions): Promise<void> {
    // Only the test's own IPv4 traffic: no IPv6 router or neighbour
    // solicitations mixed into the flows the tests look at.
    for (const ns of this.#namespaces) {
      await mustRun(["ip", "netns", "add", ns]);
      await this.exec(ns, ["sysctl", "-qw", "net.ipv6.conf.all.disable_ipv6=1"]);
      await this.exec(ns, ["sysctl", "-qw", "net.ipv6.conf.default.disable_ipv6=1"]);
      await mustRun(["ip", "-n", ns, "link", "set", "lo", "up"]);
    }
    for (let i = 0; i < this.hosts.length; i++) await this.addLink(i);
    if (o.offload !== undefined) await this.setOffload(o.offload);
  }

  /**
   * Makes host `i`'s veth pair (again, after a test deleted it): the
   * host's end with its address, the switch's end up, both without IPv6.
   */
  async addLink(i: number): Promise<void> {
    const h = this.hosts[i], port = this.ports[i], sw = this.switchNetns;
    await mustRun(["ip", "link", "add", port, "type", "veth", "peer", "name", h.ifname]);
    await mustRun(["ip", "link", "set", h.ifname, "netns", h.netns]);
    if (sw) await mustRun(["ip", "link", "set", port, "netns", sw]);
    await this.#switchSide(["sysctl", "-qw", `net.ipv6.conf.${port}.disable_ipv6=1`]);
    await mustRun(["ip", "-n", h.netns, "link", "set", h.ifname, "up"]);
    if (this.#vlan !== undefined) {
      const r = await runCmd([
        ...["ip", "-n", h.netns, "link", "add", "link", h.ifname, "name", h.ipIfname],
        ...["type", "vlan", "id", String(this.#vlan)],
      ]);
      if (r.code !== 0) {
        throw new Error(`VLAN subinterface ${h.ipIfname} (kernel 8021q): ${r.stderr.trim()}`);
      }
      await mustRun(["ip", "-n", h.netns, "link", "set", h.ipIfname, "up"]);
    }
    await mustRun(["ip", "-n", h.netns, "addr", "add", `${h.ip}/24`, "dev", h.ipIfname]);
    await this.#switchSide(["ip", "link", "set", port, "up"]);
  }

  #switchSide(argv: string[]): Promise<string> {
    return mustRun(this.switchNetns ? ["ip", "netns", "exec", this.switchNetns, ...argv] : argv);
  }

  /**
   * Gives interface `dev` of the switch's namespace (the bridge's tap)
   * address 10.x.0.254 on the hosts' subnet and brings it up, so that
   * namespace plays a host behind the bridge's local port.
   */
  async switchAddress(dev: string): Promise<void> {
    await this.#switchSide(["ip", "addr", "add", `10.${this.#subnet}.0.254/24`, "dev", dev]);
    await this.#switchSide(["ip", "link", "set", dev, "up"]);
  }

  /** Turns checksum offload, TSO and GSO on or off on every host's interface. */
  async setOffload(on: boolean): Promise<void> {
    const v = on ? "on" : "off";
    for (let i = 0; i < this.hosts.length; i++) {
      await this.ethtool(i, ["tx", v, "tso", v, "gso", v]);
    }
  }

  /** `ethtool -K` on host `i`'s interface (e.g. ["tx", "off"]). */
  async ethtool(i: number, features: string[]): Promise<void> {
    await this.exec(i, ["ethtool", "-K", this.hosts[i].ifname, ...features]);
  }

  #in(where: Where, argv: string[]): string[] {
    const ns = typeof where === "number" ? this.hosts[where].netns : where;
    return ["ip", "netns", "exec", ns, ...argv];
  }

  /** Runs a command inside host `where`'s namespace (or namespace `where`); it must succeed. */
  exec(where: Where, argv: string[]): Promise<string> {
    return mustRun(this.#in(where, argv));
  }

  /** Runs a command inside `where` and returns how it ended. */
  run(where: Where, argv: string[]): Promise<CmdResult> {
    return runCmd(this.#in(where, argv));
  }

  /**
   * Starts a command inside `where` (a server, a peer); `destroy()` kills
   * it with everything else in the namespace.
   */
  spawn(where: Where, argv: string[]): Deno.ChildProcess {
    const [cmd, ...args] = this.#in(where, argv);
    const child = new Deno.Command(cmd, {
      args,
      stdin: "null",
      stdout: "piped",
      stderr: "piped",
    }).spawn();
    this.#children.add(child);
    return child;
  }

  /**
   * Pings from host `from` to the other host until one echo comes back
   * (the first also waits for ARP and for the switch to learn), at most
   * `deadlineMs`.
   */
  async pingUntilReply(from: number, deadlineMs = 30_000): Promise<void> {
    const to = this.hosts[1 - from].ip;
    const until = performance.now() + deadlineMs;
    let last: CmdResult | undefined;
    while (performance.now() < until) {
      last = await this.run(from, ["ping", "-n", "-c", "1", "-W", "1", to]);
      if (last.code === 0) return;
    }
    throw new Error(
      `no ping reply from ${to} to ${this.hosts[from].ip} within ${deadlineMs} ms: ` +
        (last?.stdout ?? "").trim().split("\n").pop(),
    );
  }

  /** Namespaces this topology made, switch namespace first. */
  get #namespaces(): string[] {
    const ns = this.hosts.map((h) => h.netns);
    return this.switchNetns ? [this.switchNetns, ...ns] : ns;
  }

  /**
   * Removes everything the topology made: kills the processes it started
   * and anything else running in its namespaces, deletes the namespaces
   * (which destroys the veths in them) and any veth end left in the root
   * namespace. Safe to call twice.
   */
  async destroy(): Promise<void> {
    if (this.#destroyed) return;
    this.#destroyed = true;
    for (const child of this.#children) killQuietly(child.pid, "SIGKILL");
    await this.#guard?.release();
    for (const child of this.#children) {
      await child.status;
      for (const stream of [child.stdout, child.stderr]) {
        if (!stream.locked) await stream.cancel();
      }
    }
  }
}

function killQuietly(pid: number, sig: Deno.Signal): void {
  try {
    Deno.kill(pid, sig);
  } catch {
    // already gone
  }
}

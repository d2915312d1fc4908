/**
 * Two network namespaces joined to the host by veth pairs, for tests of
 * `system` ports: the host ends (`a.host`, `b.host`) become datapath
 * ports, the namespace ends carry addresses 10.<net>.0.1 and .2. Names
 * are unique per process (they include the pid and a counter) and
 * `destroy` removes everything, even after a failed setup.
 *
 * `netnsSkipReason()` says in one line why such tests cannot run here
 * (not root, no `ip`, namespaces refused), or undefined when they can.
 */

export interface NetnsEnd {
  /** The namespace. */
  ns: string;
  /** The veth end left in the host namespace (the datapath port). */
  host: string;
  /** The veth end inside the namespace. */
  peer: string;
  /** The namespace end's IPv4 address. */
  ip: string;
}

let counter = 0;

function ipSync(args: string[]): Deno.CommandOutput {
  return new Deno.Command("ip", { args, stdout: "piped", stderr: "piped" }).outputSync();
}

/** Runs `cmd` and throws naming it and its stderr when it fails. */
export async function sh(cmd: string, args: string[]): Promise<string> {
  const out = await new Deno.Command(cmd, { args, stdout: "piped", stderr: "piped" }).output();
  const dec = new TextDecoder();
  if (!out.success) throw new Error(`${cmd} ${args.join(" ")}: ${dec.decode(out.stderr).trim()}`);
  return dec.decode(out.stdout);
}

export function netnsSkipReason(): string | undefined {
  if (Deno.build.os !== "linux") return "system ports need Linux";
  if (Deno.uid() !== 0) return "needs root to create namespaces and veths";
  try {
    const probe = `udpifprobe${Deno.pid}`;
    if (!ipSync(["netns", "add", probe]).success) return "cannot create network namespaces";
    ipSync(["netns", "del", probe]);
  } catch {
    return "the ip command (iproute2) is missing";
  }
  return undefined;
}

export class NetnsPair {
  private constructor(readonly a: NetnsEnd, readonly b: NetnsEnd) {}

  /**
   * Creates the namespaces and veths on subnet 10.`net`.0.0/24; `vlan`
   * puts the addresses on VLAN `vlan` subinterfaces instead.
   */
  static async create(net: number, options: { vlan?: number } = {}): Promise<NetnsPair> {
    const tag = `${Deno.pid % 100000}${counter++}`;
    const end = (x: string, n: number): NetnsEnd => ({
      ns: `udpif${x}${tag}`,
      host: `ud${x}${tag}`,
      peer: `ud${x}${tag}p`,
      ip: `10.${net}.0.${n}`,
    });
    const pair = new NetnsPair(end("a", 1), end("b", 2));
    try {
      for (const e of [pair.a, pair.b]) {
        await sh("ip", ["netns", "add", e.ns]);
        // No IPv6 chatter (DAD, router solicitations) besides the test's own traffic.
        await sh("ip", [
          "netns",
          "exec",
          e.ns,
          "sysctl",
          "-qw",
          "net.ipv6.conf.all.disable_ipv6=1",
        ]);
        await sh("ip", [
          "netns",
          "exec",
          e.ns,
          "sysctl",
          "-qw",
          "net.ipv6.conf.default.disable_ipv6=1",
        ]);
        await sh("ip", ["link", "add", e.host, "type", "veth", "peer", "name", e.peer]);
        await sh("ip", ["link", "set", e.peer, "netns", e.ns]);
        await sh("ip", ["-n", e.ns, "link", "set", "lo", "up"]);
        await sh("ip", ["-n", e.ns, "link", "set", e.peer, "up"]);
        let dev = e.peer;
        if (options.vlan !== undefined) {
          dev = `${e.peer}.${options.vlan}`;
          await sh("ip", [
            "-n",
            e.ns,
            "link",
            "add",
            "link",
            e.peer,
            "name",
            dev,
            "type",
            "vlan",
            "id",
            String(options.vlan),
          ]);
          await sh("ip", ["-n", e.ns, "link", "set", dev, "up"]);
        }
        await sh("ip", ["-n", e.ns, "addr", "add", `${e.ip}/24`, "dev", dev]);
        await sh("ip", ["link", "set", e.host, "up"]);
      }
    } catch (err) {
      pair.destroy();
      throw err;
    }
    return pair;
  }

  /** `ethtool -K` on a namespace end (e.g. ["tx", "off"]). */
  async ethtool(e: NetnsEnd, features: string[]): Promise<void> {
    await sh("ip", ["netns", "exec", e.ns, "ethtool", "-K", e.peer, ...features]);
  }

  /** Starts `cmd` inside `e`'s namespace; its output is piped. */
  spawn(e: NetnsEnd, cmd: string[]): Deno.ChildProcess {
    return new Deno.Command("ip", {
      args: ["netns", "exec", e.ns, ...cmd],
      stdin: "null",
      stdout: "piped",
      stderr: "piped",
    }).spawn();
  }

  /** Removes the namespaces (and so the veths), killing what runs in them. */
  destroy(): void {
    for (const e of [this.a, this.b]) {
      const pids = ipSync(["netns", "pids", e.ns]);
      for (const pid of new TextDecoder().decode(pids.stdout).split(/\s+/).filter(Boolean)) {
        try {
          Deno.kill(Number(pid), "SIGKILL");
        } catch {
          // Already gone.
        }
      }
      ipSync(["netns", "del", e.ns]);
      ipSync(["link", "del", e.host]);
    }
  }
}

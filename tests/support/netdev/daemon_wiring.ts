/**
 * Two network namespaces for tests and benches of a whole daemon with
 * Linux ports: H, where the daemon runs (so its bridge's tap appears
 * there and H plays the host), and P, the peer at 10.<net>.0.1, joined by
 * a veth whose H end (`veth`) becomes a system port. Names are unique per
 * process; `destroy` removes both namespaces (and with them the veth and
 * anything left running in them), even after a failed setup.
 */
import assert from "node:assert/strict";
import { sh } from "./netns.ts";

const PEER = new URL("./peer.ts", import.meta.url).pathname;

let counter = 0;

export class DaemonWiring {
  readonly tag = `${Deno.pid % 100000}${counter++}`;
  readonly h = `udpifth${this.tag}`;
  readonly p = `udpiftp${this.tag}`;
  readonly bridge = `tb${this.tag}`;
  readonly veth = `tv${this.tag}`;
  constructor(readonly net: number) {}

  get peerIp(): string {
    return `10.${this.net}.0.1`;
  }

  async create(): Promise<void> {
    await sh("ip", ["netns", "add", this.h]);
    await sh("ip", ["netns", "add", this.p]);
    await sh("ip", ["-n", this.h, "link", "set", "lo", "up"]);
    await sh("ip", ["-n", this.p, "link", "set", "lo", "up"]);
    await this.addVeth();
  }

  async addVeth(): Promise<void> {
    const peer = `${this.veth}p`;
    await sh("ip", ["-n", this.h, "link", "add", this.veth, "type", "veth", "peer", "name", peer]);
    await sh("ip", ["-n", this.h, "link", "set", peer, "netns", this.p]);
    await sh("ip", ["-n", this.p, "addr", "add", `${this.peerIp}/24`, "dev", peer]);
    await sh("ip", ["-n", this.p, "link", "set", peer, "up"]);
    await sh("ip", ["-n", this.h, "link", "set", this.veth, "up"]);
  }

  /** Gives the bridge's tap (in H) address 10.<net>.0.254 and brings it up. */
  async tapUp(): Promise<void> {
    await sh("ip", ["-n", this.h, "addr", "add", `10.${this.net}.0.254/24`, "dev", this.bridge]);
    await sh("ip", ["-n", this.h, "link", "set", this.bridge, "up"]);
  }

  /** Runs peer.ts `mode` in namespace `ns` towards P's address. */
  peer(ns: string, mode: string, port: number, extra: string[] = []): Promise<Deno.CommandOutput> {
    return new Deno.Command("ip", {
      args: [
        "netns",
        "exec",
        ns,
        Deno.execPath(),
        "run",
        "--allow-net",
        "--unstable-net",
        PEER,
        mode,
        this.peerIp,
        String(port),
        ...extra,
      ],
      stdin: "null",
      stdout: "piped",
      stderr: "piped",
    }).output();
  }

  /** A UDP exchange from H to P's echo; returns the reply H got. */
  async udp(port: number): Promise<string> {
    const echo = this.peer(this.p, "udp-echo", port);
    const ask = await this.peer(this.h, "udp-ask", port);
    const dec = new TextDecoder();
    assert.ok(ask.success, `udp-ask failed: ${dec.decode(ask.stderr)}`);
    assert.ok((await echo).success, "udp-echo failed");
    return dec.decode(ask.stdout).trim();
  }

  destroy(): void {
    for (const ns of [this.h, this.p]) {
      const pids = new Deno.Command("ip", {
        args: ["netns", "pids", ns],
        stdout: "piped",
        stderr: "null",
      })
        .outputSync();
      for (const pid of new TextDecoder().decode(pids.stdout).split(/\s+/).filter(Boolean)) {
        try {
          Deno.kill(Number(pid), "SIGKILL");
        } catch {
          // Already gone.
        }
      }
      new Deno.Command("ip", { args: ["netns", "del", ns], stderr: "null" }).outputSync();
    }
  }
}

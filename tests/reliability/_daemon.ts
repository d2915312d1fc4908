/**
 * What the reliability tests and benches share about the daemon they
 * drive: a seeded PRNG, one unixctl call in-process (no client process per
 * command, so a thousand rounds of rules, packets and traces stay fast),
 * and the daemon's resident memory.
 */
import { unixctlCall } from "../conformance/unixctl.ts";

/** xorshift32: seeded, so a failing run replays from its printed seed. */
export class Rng {
  #x: number;
  constructor(readonly seed: number) {
    this.#x = seed >>> 0 || 1;
  }
  /** 0 <= n < `below`. */
  int(below: number): number {
    let x = this.#x;
    x ^= x << 13;
    x >>>= 0;
    x ^= x >>> 17;
    x ^= x << 5;
    this.#x = x >>>= 0;
    return x % below;
  }
  pick<T>(xs: readonly T[]): T {
    return xs[this.int(xs.length)];
  }
  /** True with probability `p`. */
  chance(p: number): boolean {
    return this.int(1_000_000) < p * 1_000_000;
  }
}

/** The daemon's error reply, or an unreachable socket, as an Error. */
export class AppctlError extends Error {
  override name = "AppctlError";
}

/** One command to the daemon; resolves with its text, rejects with its error. */
export async function appctl(
  socket: string,
  method: string,
  params: string[] = [],
  timeoutMs = 60_000,
): Promise<string> {
  const reply = await unixctlCall(socket, method, params, timeoutMs);
  if (reply.error !== null) {
    throw new AppctlError(`${method} ${params.join(" ")}: ${reply.error.trimEnd()}`);
  }
  return reply.result ?? "";
}

/** The daemon's pid from its pidfile. */
export async function daemonPid(pidfile: string): Promise<number> {
  return Number((await Deno.readTextFile(pidfile)).trim());
}

/**
 * VmRSS and VmHWM (peak) of `pid`, in kB, from /proc (read by `cat`: Deno
 * grants /proc/PID only with --allow-all, which `make test` does not give).
 */
export async function memoryOf(pid: number): Promise<{ rssKb: number; hwmKb: number }> {
  const out = await new Deno.Command("cat", { args: [`/proc/${pid}/status`], stderr: "piped" })
    .output();
  if (!out.success) {
    throw new Error(`/proc/${pid}/status: ${new TextDecoder().decode(out.stderr).trim()}`);
  }
  const status = new TextDecoder().decode(out.stdout);
  const kb = (name: string) => Number(new RegExp(`^${name}:\\s+(\\d+) kB`, "m").exec(status)?.[1]);
  return { rssKb: kb("VmRSS"), hwmKb: kb("VmHWM") };
}

/** memory/show's `name:count` pairs (names may hold a space: `udpif keys`). */
export function memoryUsage(line: string): Record<string, number> {
  return Object.fromEntries(
    [...line.matchAll(/([a-z][a-z -]*?):(\d+)/g)].map((m) => [m[1], Number(m[2])]),
  );
}

/** The real `ovs-ofctl monitor` on a test daemon's bridge, for the async-message tests. */
import type { TestDaemon } from "../cli/_run.ts";

export interface OfctlMonitor {
  /** Everything the monitor printed so far (it prints what it receives on stderr). */
  seen(): string;
  /** Kills the monitor and waits until it and its streams are done. */
  stop(): Promise<void>;
}

/** Starts `ovs-ofctl [options] monitor br0 65534` against `d`'s management socket. */
export function ofctlMonitor(d: TestDaemon, options: string[] = []): OfctlMonitor {
  const monitor = new Deno.Command("ovs-ofctl", {
    args: [...options, "monitor", "br0", "65534"],
    env: { OVS_RUNDIR: d.dir },
    stdout: "piped",
    stderr: "piped",
  }).spawn();
  let seen = "";
  const reading = (async () => {
    for await (const chunk of monitor.stderr.pipeThrough(new TextDecoderStream())) seen += chunk;
  })();
  return {
    seen: () => seen,
    stop: async () => {
      monitor.kill();
      await monitor.status;
      await reading.catch(() => {});
      await monitor.stdout.cancel();
    },
  };
}

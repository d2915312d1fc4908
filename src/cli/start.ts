/**
 * `udpif start`: runs the switch daemon, in the foreground unless
 * `--detach` is given (then it returns once the daemon answers on its
 * control socket, printing nothing).
 */
import type { Command } from "commander";
import type { Daemon } from "../daemon/mod.ts";
import { absolutePath, defaultSocketPath, rundirPath } from "../unixctl/mod.ts";
import type { Subcommand } from "./subcommand.ts";
import { importOnDemand } from "./on_demand.ts";
import { UsageError } from "./errors.ts";

function collect(value: string, previous: string[]): string[] {
  return [...previous, value];
}

interface StartOptions {
  detach?: boolean;
  pidfile?: string | true;
  unixctl?: string;
  logFile?: string | true;
  /** Absent: br0. */
  bridge?: string[];
  datapathType: string;
  port: string[];
  otherConfig: string[];
  flows: string[];
  enableFaultInjection?: boolean;
  listen: string[];
  controller: string[];
  failMode: string[];
}

/** A `FILE[,bridge=NAME]` value with FILE made absolute (the detached daemon runs from /). */
function absoluteFileOption(value: string): string {
  const m = /^(.*)(,bridge=[^,]*)$/.exec(value);
  return m ? absolutePath(m[1]) + m[2] : absolutePath(value);
}

/** The argv of the background process: the same options as absolute paths, without --detach. */
function detachedArgs(o: StartOptions): string[] {
  const args = ["start"];
  for (const b of o.bridge ?? []) args.push("--bridge", b);
  if (o.unixctl) args.push("--unixctl", absolutePath(o.unixctl));
  args.push("--datapath-type", o.datapathType);
  if (typeof o.pidfile === "string") args.push("--pidfile", absolutePath(o.pidfile));
  if (typeof o.logFile === "string") args.push("--log-file", absolutePath(o.logFile));
  for (const f of o.flows) args.push("--flows", absoluteFileOption(f));
  for (const l of o.listen) args.push("--listen", l);
  for (const c of o.controller) args.push("--controller", c);
  for (const m of o.failMode) args.push("--fail-mode", m);
  for (const p of o.port) args.push("--port", p);
  for (const c of o.otherConfig) args.push("--other-config", c);
  if (o.enableFaultInjection) args.push("--enable-fault-injection");
  return args;
}

export const start: Subcommand = {
  name: "start",
  register(command: Command, setExit: (code: number) => void): void {
    command
      .description("run the switch daemon (foreground unless --detach)")
      .option("--detach", "run in the background; return once the control socket answers")
      .option(
        "--pidfile [file]",
        "write the daemon's pid to FILE (default $UDPIF_RUNDIR/udpif.pid)",
      )
      .option("--unixctl <socket>", "control socket (default $UDPIF_RUNDIR/udpif.ctl)")
      .option("--log-file [file]", "append the log to FILE (default $UDPIF_RUNDIR/udpif.log)")
      .option(
        "--bridge <name>",
        "add a bridge (default br0); repeatable: the bridges share one datapath, " +
          "a port goes on the first bridge unless its spec says bridge=NAME",
        (value: string, previous: string[] | undefined) => [...previous ?? [], value],
      )
      .option("--datapath-type <type>", "netdev or dummy", "netdev")
      .option(
        "--port <spec>",
        "add a port: NAME[:OFPORT][,bridge=BRIDGE][,type=dummy|pcap][,rx_pcap=FILE]" +
          "[,tx_pcap=FILE][,pstream=punix:PATH|stream=unix:PATH][,n_rxq=N] (repeatable); " +
          "a patch port to another bridge: NAME[:OFPORT][,bridge=BRIDGE],type=patch,peer=PORT; " +
          "a bond: NAME,type=bond,members=M1[:OFPORT]+M2...[,bond_mode=active-backup|" +
          "balance-slb|balance-tcp][,lacp=off|active|passive][,bond_updelay=MS]" +
          "[,bond_downdelay=MS][,other_config:KEY=VALUE] (README: Bonds)",
        collect,
        [],
      )
      .option(
        "--other-config <key=value>",
        "flow-limit, max-idle, max-revalidator, min-revalidate-pps, n-handler-threads, " +
          "n-revalidator-threads, emc-insert-inv-prob, smc-enable, vlan-limit, pmd-cpu-mask, " +
          "n-pmd-threads, pmd-rxq-assign, pmd-rxq-isolate, " +
          "ovs-compat=latest|3.1 (3.1 restores OVS 3.1's behaviour where releases differ) (repeatable)",
        collect,
        [],
      )
      .option(
        "--flows <file>",
        "load OpenFlow rules (ovs-ofctl add-flows syntax) into the first bridge, " +
          "or into BRIDGE given FILE,bridge=BRIDGE (repeatable)",
        collect,
        [],
      )
      .option(
        "--enable-fault-injection",
        "add the fault/kill-worker and fault/show-workers commands (for tests)",
      )
      .option(
        "--listen <target>",
        "also accept OpenFlow connections: ptcp:PORT[:IP] or punix:PATH, for the first " +
          "bridge or for BRIDGE given TARGET,bridge=BRIDGE (repeatable)",
        collect,
        [],
      )
      .option(
        "--controller <target>",
        "connect to an OpenFlow controller: tcp:IP[:PORT] (port 6653 by default), unix:PATH, " +
          "or wait for one on ptcp:PORT[:IP] or punix:PATH; the first bridge's, " +
          "or BRIDGE's given TARGET,bridge=BRIDGE (repeatable)",
        collect,
        [],
      )
      .option(
        "--fail-mode <mode>",
        "without a reachable controller: standalone (fail open to NORMAL, the default) or " +
          "secure; the first bridge's, or BRIDGE's given MODE,bridge=BRIDGE (once per bridge)",
        collect,
        [],
      )
      .addHelpText(
        "after",
        "\nExample: udpif start --detach --port p1 --port p2 --other-config max-idle=1000" +
          "\nTwo bridges joined by patch ports: udpif start --detach --bridge br0 --bridge br1 " +
          "--port p1 --port p2,bridge=br1 --port patch-br1,type=patch,peer=patch-br0 " +
          "--port patch-br0,bridge=br1,type=patch,peer=patch-br1" +
          "\nA controller for br1 only: --controller tcp:127.0.0.1:6653,bridge=br1",
      )
      .action(async (o: StartOptions) => {
        // Without a name, as in OVS: the run directory, named after the program.
        if (o.pidfile === true) o.pidfile = `${rundirPath()}/udpif.pid`;
        if (o.logFile === true) o.logFile = `${rundirPath()}/udpif.log`;
        if (o.datapathType !== "netdev" && o.datapathType !== "dummy") {
          throw new UsageError(
            `--datapath-type: unknown type "${o.datapathType}" (netdev or dummy)`,
          );
        }
        const socket = o.unixctl ? absolutePath(o.unixctl) : defaultSocketPath();
        // The switch itself is loaded only by the command that runs it.
        const {
          announceReady,
          Daemon,
          DaemonConfigError,
          DETACHED_ENV,
          DetachError,
          spawnDetached,
        } = await importOnDemand<typeof import("../daemon/mod.ts")>("../daemon/mod.ts");
        const { setVlogLevel } = await importOnDemand<typeof import("../lib/mod.ts")>(
          "../lib/mod.ts",
        );
        if (o.detach) {
          try {
            await spawnDetached(detachedArgs(o), socket);
          } catch (e) {
            if (e instanceof DetachError && e.code === 2) throw new UsageError(e.message);
            throw e;
          }
          setExit(0);
          return;
        }
        const detached = Deno.env.get(DETACHED_ENV) === "1";
        // The parent shows only the error that stops start-up, not the log.
        if (detached) setVlogLevel(undefined, "console", "off");
        let daemon: Daemon;
        try {
          daemon = await Daemon.start({
            unixctl: o.unixctl,
            pidfile: o.pidfile as string | undefined,
            logFile: o.logFile as string | undefined,
            bridge: o.bridge ?? ["br0"],
            datapathType: o.datapathType,
            ports: o.port,
            otherConfig: o.otherConfig,
            flowsFiles: o.flows,
            faultInjection: o.enableFaultInjection,
            listen: o.listen,
            controllers: o.controller,
            failModes: o.failMode,
          });
        } catch (e) {
          if (e instanceof DaemonConfigError) throw new UsageError(e.message);
          throw e;
        }
        if (detached) announceReady();
        await daemon.done;
        setExit(0);
      });
  },
};

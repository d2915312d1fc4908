/**
 * The switch process: start-up, the control socket, and a clean stop.
 *
 * `Daemon.start` brings things up in the order OVS's vswitchd does: log
 * file, pidfile, configuration and bridge, then the control socket last,
 * so that a client that can connect finds a working switch. `stop` (from
 * `exit`, SIGINT or SIGTERM) takes it down in reverse and removes the
 * socket and pidfile.
 *
 * Thread-safety: main thread.
 */
import {
  CommandError,
  coverageRun,
  getLogger,
  registerCommand,
  setVlogFile,
  setVlogLevel,
  timeMsec,
  UnixctlServer,
  unregisterCommand,
} from "../lib/mod.ts";
import { allUdpifs, registerUpcallCommands } from "../upcall/mod.ts";
import { OfctlError } from "../ofproto/mod.ts";
import { Bridge, type DatapathType } from "./bridge.ts";
import { currentBridge, registerBridgeCommands } from "./bridge_commands.ts";
import { registerDetraceCommand } from "./detrace.ts";
import { registerJsonViews } from "./json_views.ts";
import { registerMemoryShow } from "./memory_show.ts";
import { onClockWarp, registerCoreCommands } from "./core_commands.ts";
import { FAULT_COMMANDS, registerFaultCommands } from "./fault_commands.ts";
import { OtherConfig, OtherConfigError } from "./other_config.ts";
import { removePidfile, writePidfile } from "./pidfile.ts";
import { parsePortSpecs } from "./port_spec.ts";
import { PORT_LINK_COMMANDS, PortLinkWatch, registerPortLinkCommands } from "./port_link.ts";
import { ensureRundir } from "./rundir.ts";
import { Connmgr } from "./connmgr.ts";
import { type ListenTarget, parseControllerTarget, parseListenTarget } from "./of_target.ts";
import { BridgeOpenFlow } from "./bridge_openflow.ts";
import { BridgeControllers } from "./bridge_controllers.ts";
import { CONTROLLER_COMMANDS, registerControllerCommands } from "./controller_commands.ts";
import { type FailMode, parseFailMode } from "./fail_open.ts";
import { absolutePath, defaultSocketPath, rundirPath } from "../unixctl/mod.ts";

const log = getLogger("vswitchd");

/** How long a warp step waits for the revalidator cycle it woke (a dead worker's). */
const WARP_CYCLE_TIMEOUT_MS = 5000;

/** Commands bound to one running daemon, dropped when it stops. */
const DAEMON_COMMANDS = [
  "exit",
  "config/set",
  "config/show",
  ...PORT_LINK_COMMANDS,
  ...CONTROLLER_COMMANDS,
];

export interface DaemonOptions {
  /** Control socket path; `$UDPIF_RUNDIR/udpif.ctl` when undefined. */
  unixctl?: string;
  pidfile?: string;
  logFile?: string;
  bridge: string;
  datapathType: DatapathType;
  /** `--port` values, unparsed. */
  ports: string[];
  /** `--other-config` values, `KEY=VALUE`. */
  otherConfig: string[];
  /** OpenFlow rules to load, ovs-ofctl add-flows syntax. */
  flowsFile?: string;
  /** Register the fault/ commands (fault_commands.ts), for tests. */
  faultInjection?: boolean;
  /** `--listen` targets for OpenFlow (ptcp:PORT[:IP], punix:PATH), unparsed. */
  listen?: string[];
  /** `--controller` targets (tcp:IP[:PORT], unix:PATH, ptcp:, punix:), unparsed. */
  controllers?: string[];
  /** `--fail-mode`: standalone or secure; unset behaves as standalone. */
  failMode?: string;
  /** Log to the console at this level (the daemon's stderr); default info. */
  consoleLevel?: "off" | "info" | "warn" | "dbg";
}

/** Start-up failed because of what the user asked for (exit code 2 material). */
export class DaemonConfigError extends Error {
  override name = "DaemonConfigError";
}

export class Daemon {
  readonly socketPath: string;
  readonly bridge: Bridge;
  readonly config: OtherConfig;
  /** Resolves once the daemon has stopped. */
  readonly done: Promise<void>;
  readonly #pidfile: string | undefined;
  readonly #server: UnixctlServer;
  #connmgr: Connmgr | undefined;
  #controllers: BridgeControllers | undefined;
  readonly #timers: Array<ReturnType<typeof setInterval>> = [];
  readonly #signals: Array<[Deno.Signal, () => void]> = [];
  readonly #offWarp: () => void;
  readonly #undo: Array<() => void> = [];
  /** The interfaces behind the bridge's system and tap ports, checked every tick. */
  readonly #links: PortLinkWatch;
  #finish!: () => void;
  #stopping = false;

  private constructor(
    server: UnixctlServer,
    bridge: Bridge,
    config: OtherConfig,
    pidfile: string | undefined,
  ) {
    this.#server = server;
    this.socketPath = server.path;
    this.bridge = bridge;
    this.config = config;
    this.#pidfile = pidfile;
    this.done = new Promise((resolve) => (this.#finish = resolve));
    this.#links = new PortLinkWatch(bridge);
    // A vanished interface is noticed from the kernel's link notifications at once.
    this.#timers.push(setInterval(() => this.#links.poll(), 50));
    this.#timers.push(setInterval(() => this.#tick(), 1000));
    // Each warp step: the revalidator cycle it woke, then the main loop's run.
    this.#offWarp = onClockWarp(async () => {
      await bridge.udpif.warpAnswered(AbortSignal.timeout(WARP_CYCLE_TIMEOUT_MS));
      this.bridge.run();
    });
    // Transmitted frames wait in a ring until collected: collect them promptly for recorders.
    if (bridge.wantsTx) this.#timers.push(setInterval(() => bridge.pollTx(), 20));
    // OVS's main loop wakes as soon as a handler changes the MAC table or
    // the revalidators finish a dump (rule expiry waits for the latter).
    this.#timers.push(setInterval(() => {
      bridge.learning.run(timeMsec());
      bridge.macLearningRun();
      bridge.expireRun();
    }, 20));
  }

  /** Starts a switch as `options` say; throws DaemonConfigError for bad options. */
  static async start(options: DaemonOptions): Promise<Daemon> {
    if (options.consoleLevel) setVlogLevel(undefined, "console", options.consoleLevel);
    const config = new OtherConfig();
    let ports;
    try {
      config.set(options.otherConfig);
      ports = parsePortSpecs(options.ports, options.bridge);
    } catch (e) {
      throw new DaemonConfigError(e instanceof Error ? e.message : String(e));
    }
    let listen: ListenTarget[];
    try {
      listen = (options.listen ?? []).map(parseListenTarget);
    } catch (e) {
      throw new DaemonConfigError(`--listen ${e instanceof Error ? e.message : e}`);
    }
    let failMode: FailMode | undefined;
    try {
      if (options.failMode !== undefined) failMode = parseFailMode(options.failMode);
      (options.controllers ?? []).forEach(parseControllerTarget);
    } catch (e) {
      const what = options.failMode !== undefined && !failMode ? "--fail-mode" : "--controller";
      throw new DaemonConfigError(`${what} ${e instanceof Error ? e.message : e}`);
    }
    let flows: string | undefined;
    if (options.flowsFile !== undefined) {
      try {
        flows = await Deno.readTextFile(options.flowsFile);
      } catch {
        throw new DaemonConfigError(`--flows ${options.flowsFile}: cannot read the file`);
      }
    }
    const socket = options.unixctl ? absolutePath(options.unixctl) : defaultSocketPath();
    const pidfile = options.pidfile ? absolutePath(options.pidfile) : undefined;
    const logFile = options.logFile ? absolutePath(options.logFile) : undefined;
    if ([socket, pidfile, logFile].some((p) => p?.startsWith(`${rundirPath()}/`))) {
      await ensureRundir();
    }
    if (logFile) setVlogFile(logFile);
    if (pidfile) {
      try {
        await writePidfile(pidfile);
      } catch (e) {
        throw new Error(`${pidfile}: cannot write pidfile (${e instanceof Error ? e.message : e})`);
      }
    }
    let server: UnixctlServer | undefined;
    let bridge: Bridge | undefined;
    let connmgr: Connmgr | undefined;
    try {
      try {
        bridge = await Bridge.create({
          name: options.bridge,
          datapathType: options.datapathType,
          ports,
          config,
        });
      } catch (e) {
        throw new DaemonConfigError(e instanceof Error ? e.message : String(e));
      }
      if (flows !== undefined) {
        try {
          bridge.loadFlows(flows);
        } catch (e) {
          if (e instanceof OfctlError) {
            throw new DaemonConfigError(`--flows ${options.flowsFile}: ${e.message}`);
          }
          throw e;
        }
      }
      registerCoreCommands();
      registerBridgeCommands(bridge);
      registerUpcallCommands(allUdpifs);
      registerJsonViews(currentBridge);
      if (options.faultInjection) registerFaultCommands(bridge.udpif);
      registerMemoryShow(currentBridge);
      registerDetraceCommand(() => [currentBridge()].filter((b) => b !== undefined));
      try {
        const br = bridge;
        server = await UnixctlServer.listen(socket, {
          beforeCommand: () => {
            br.macLearningRun();
            br.expireRun();
          },
        });
      } catch (e) {
        throw new Error(
          `${socket}: could not initialize control socket (${e instanceof Error ? e.message : e})`,
        );
      }
      // The OpenFlow endpoints: BRIDGE.mgmt as in OVS, then the --listen ones.
      connmgr = new Connmgr(new BridgeOpenFlow(bridge));
      await ensureRundir();
      await connmgr.listen(
        { kind: "punix", path: `${rundirPath()}/${bridge.name}.mgmt` },
        "service",
      );
      for (const target of listen) await connmgr.listen(target, "primary");
      const controllers = new BridgeControllers(bridge, connmgr, failMode);
      await controllers.setControllers(options.controllers ?? []);
      registerControllerCommands(controllers);
      const daemon = new Daemon(server, bridge, config, pidfile);
      daemon.#connmgr = connmgr;
      daemon.#controllers = controllers;
      daemon.#registerCommands();
      daemon.#catchSignals();
      daemon.#catchStrayErrors();
      bridge.startRx();
      log.info(`udpif started: bridge ${bridge.name}, control socket ${socket}`);
      return daemon;
    } catch (e) {
      await connmgr?.close();
      await server?.stop();
      registerBridgeCommands(undefined);
      await bridge?.destroy();
      if (pidfile) await removePidfile(pidfile);
      throw e;
    }
  }

  /** Periodic housekeeping: coverage rates, rule stats and expiry, MAC aging. */
  #tick(): void {
    coverageRun();
    this.bridge.run();
    this.#links.run();
    this.#controllers?.run();
  }

  #registerCommands(): void {
    registerPortLinkCommands(registerCommand, this.#links);
    registerCommand({
      name: "exit",
      usage: "[--cleanup]",
      minArgs: 0,
      maxArgs: 1,
      handler: (args, conn) => {
        if (args.length && args[0] !== "--cleanup") {
          throw new CommandError(`exit: unknown option "${args[0]}" (only --cleanup)`);
        }
        conn.afterReply(() => this.stop("exit requested over the control socket"));
        return "";
      },
    });
    registerCommand({
      name: "config/set",
      usage: "key=value...",
      minArgs: 1,
      maxArgs: Number.MAX_SAFE_INTEGER,
      handler: (args) => {
        try {
          this.config.set(args);
        } catch (e) {
          if (e instanceof OtherConfigError) throw new CommandError(e.message);
          throw e;
        }
        return "";
      },
    });
    registerCommand({
      name: "config/show",
      usage: "",
      minArgs: 0,
      maxArgs: 0,
      handler: () => this.config.explicit().map(([k, v]) => `${k}=${v}\n`).join(""),
      json: () => Object.fromEntries(this.config.explicit()),
    });
  }

  /**
   * A promise nobody awaited that failed is a bug somewhere, but not a
   * reason to take the switch down: log it and keep serving.
   */
  #catchStrayErrors(): void {
    const onRejection = (e: PromiseRejectionEvent) => {
      e.preventDefault();
      const r = e.reason;
      log.error(`unhandled error: ${r instanceof Error ? r.stack ?? r.message : String(r)}`);
    };
    globalThis.addEventListener("unhandledrejection", onRejection);
    this.#undo.push(() => globalThis.removeEventListener("unhandledrejection", onRejection));
  }

  #catchSignals(): void {
    for (const signal of ["SIGINT", "SIGTERM"] as const) {
      const handler = () => void this.stop(`${signal} received`);
      Deno.addSignalListener(signal, handler);
      this.#signals.push([signal, handler]);
    }
  }

  /** Stops everything, removes the socket and pidfile; safe to call twice. */
  async stop(reason: string): Promise<void> {
    if (this.#stopping) return this.done;
    this.#stopping = true;
    log.info(`stopping: ${reason}`);
    for (const t of this.#timers) clearInterval(t);
    this.#links.close();
    this.#offWarp();
    for (const undo of this.#undo) undo();
    for (const [signal, handler] of this.#signals) Deno.removeSignalListener(signal, handler);
    await this.#connmgr?.close();
    await this.#server.stop();
    for (const name of [...DAEMON_COMMANDS, ...FAULT_COMMANDS]) unregisterCommand(name);
    registerBridgeCommands(undefined);
    await this.bridge.destroy();
    if (this.#pidfile) await removePidfile(this.#pidfile);
    setVlogFile(undefined);
    this.#finish();
  }
}

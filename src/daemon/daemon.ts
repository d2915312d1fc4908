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
import type { Bridge, DatapathType } from "./bridge.ts";
import { Backer } from "./backer.ts";
import { currentBridge, registerBridgeCommands } from "./bridge_commands.ts";
import { registerDetraceCommand } from "./detrace.ts";
import { registerJsonViews } from "./json_views.ts";
import { registerMemoryShow } from "./memory_show.ts";
import { onClockWarp, registerCoreCommands } from "./core_commands.ts";
import { FAULT_COMMANDS, registerFaultCommands } from "./fault_commands.ts";
import { OtherConfig, OtherConfigError } from "./other_config.ts";
import { removePidfile, writePidfile } from "./pidfile.ts";
import { parseBridgePorts, type PortSpec } from "./port_spec.ts";
import { checkPatchPeers } from "./patch_port.ts";
import { PORT_LINK_COMMANDS, PortLinkWatch, registerPortLinkCommands } from "./port_link.ts";
import { ensureRundir } from "./rundir.ts";
import {
  type BridgeEndpoints,
  BridgeStartError,
  type BridgeStartOptions,
  loadBridgeFlows,
  openBridgeEndpoints,
  parseBridgeStartOptions,
} from "./bridge_start_options.ts";
import { CONTROLLER_COMMANDS, registerControllerCommands } from "./controller_commands.ts";
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
  /** The bridge, or the bridges (`--bridge`, repeatable; the first is the default one). */
  bridge: string | string[];
  datapathType: DatapathType;
  /** `--port` values, unparsed. */
  ports: string[];
  /** `--other-config` values, `KEY=VALUE`. */
  otherConfig: string[];
  /**
   * `--flows` files of OpenFlow rules (ovs-ofctl add-flows syntax), each
   * `FILE[,bridge=NAME]` (bridge_start_options.ts; the first bridge by default).
   */
  flowsFiles?: string[];
  /** Register the fault/ commands (fault_commands.ts), for tests. */
  faultInjection?: boolean;
  /** `--listen` targets for OpenFlow (ptcp:PORT[:IP], punix:PATH), unparsed, each `[,bridge=NAME]`. */
  listen?: string[];
  /** `--controller` targets (tcp:IP[:PORT], unix:PATH, ptcp:, punix:), unparsed, each `[,bridge=NAME]`. */
  controllers?: string[];
  /** `--fail-mode` values, standalone or secure, each `[,bridge=NAME]`; unset behaves as standalone. */
  failModes?: string[];
  /** Log to the console at this level (the daemon's stderr); default info. */
  consoleLevel?: "off" | "info" | "warn" | "dbg";
}

/** Start-up failed because of what the user asked for (exit code 2 material). */
export class DaemonConfigError extends Error {
  override name = "DaemonConfigError";
}

export class Daemon {
  readonly socketPath: string;
  /** The datapath backer every bridge is on. */
  readonly backer: Backer;
  /** The first bridge (the one `--flows`, `--listen` and `--controller` without `bridge=` apply to). */
  readonly bridge: Bridge;
  readonly config: OtherConfig;
  /** Resolves once the daemon has stopped. */
  readonly done: Promise<void>;
  readonly #pidfile: string | undefined;
  readonly #server: UnixctlServer;
  /** Each bridge's OpenFlow connection manager and controllers, in bridge order. */
  #endpoints: BridgeEndpoints[] = [];
  readonly #timers: Array<ReturnType<typeof setInterval>> = [];
  readonly #signals: Array<[Deno.Signal, () => void]> = [];
  readonly #offWarp: () => void;
  readonly #undo: Array<() => void> = [];
  /** The interfaces behind each bridge's system and tap ports, checked every tick. */
  readonly #links: PortLinkWatch[];
  #finish!: () => void;
  #stopping = false;

  private constructor(
    server: UnixctlServer,
    backer: Backer,
    config: OtherConfig,
    pidfile: string | undefined,
  ) {
    this.#server = server;
    this.socketPath = server.path;
    this.backer = backer;
    this.bridge = backer.bridges[0];
    this.config = config;
    this.#pidfile = pidfile;
    this.done = new Promise((resolve) => (this.#finish = resolve));
    const bridges = backer.bridges;
    this.#links = bridges.map((b) => new PortLinkWatch(b));
    // A vanished interface is noticed from the kernel's link notifications at once.
    this.#timers.push(setInterval(() => this.#links.forEach((l) => l.poll()), 50));
    this.#timers.push(setInterval(() => this.#tick(), 1000));
    // Each warp step: the revalidator cycle it woke, then the main loop's run.
    this.#offWarp = onClockWarp(async () => {
      await backer.udpif.warpAnswered(AbortSignal.timeout(WARP_CYCLE_TIMEOUT_MS));
      for (const b of bridges) b.run();
    });
    // Transmitted frames wait in a ring until collected: collect them promptly for recorders.
    for (const b of bridges) if (b.wantsTx) this.#timers.push(setInterval(() => b.pollTx(), 20));
    // OVS's main loop wakes as soon as a handler changes the MAC table or
    // the revalidators finish a dump (rule expiry waits for the latter).
    this.#timers.push(setInterval(() => {
      for (const b of bridges) {
        b.learning.run(timeMsec());
        b.macLearningRun();
        b.expireRun();
      }
    }, 20));
  }

  /** Starts a switch as `options` say; throws DaemonConfigError for bad options. */
  static async start(options: DaemonOptions): Promise<Daemon> {
    if (options.consoleLevel) setVlogLevel(undefined, "console", options.consoleLevel);
    const config = new OtherConfig();
    const names = typeof options.bridge === "string" ? [options.bridge] : options.bridge;
    let ports: Map<string, PortSpec[]>;
    try {
      config.set(options.otherConfig);
      ports = parseBridgePorts(options.ports, names);
      checkPatchPeers(ports);
    } catch (e) {
      throw new DaemonConfigError(e instanceof Error ? e.message : String(e));
    }
    let perBridge: Map<string, BridgeStartOptions>;
    try {
      perBridge = await parseBridgeStartOptions(names, {
        flows: options.flowsFiles,
        listen: options.listen,
        controllers: options.controllers,
        failModes: options.failModes,
      });
    } catch (e) {
      if (e instanceof BridgeStartError) throw new DaemonConfigError(e.message);
      throw e;
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
    let backer: Backer | undefined;
    const endpoints: BridgeEndpoints[] = [];
    try {
      try {
        backer = await Backer.create({
          datapathType: options.datapathType,
          config,
          bridges: [...ports].map(([name, specs]) => ({ name, ports: specs })),
        });
      } catch (e) {
        throw new DaemonConfigError(e instanceof Error ? e.message : String(e));
      }
      const bridge = backer.bridges[0];
      try {
        loadBridgeFlows(backer, perBridge);
      } catch (e) {
        if (e instanceof BridgeStartError) throw new DaemonConfigError(e.message);
        throw e;
      }
      registerCoreCommands();
      registerBridgeCommands(backer.bridges);
      registerUpcallCommands(allUdpifs);
      registerJsonViews(currentBridge);
      if (options.faultInjection) registerFaultCommands(bridge.udpif);
      registerMemoryShow(currentBridge);
      registerDetraceCommand(() => backer?.bridges ?? []);
      try {
        const bridges = backer.bridges;
        server = await UnixctlServer.listen(socket, {
          beforeCommand: () => {
            for (const b of bridges) {
              b.macLearningRun();
              b.expireRun();
            }
          },
        });
      } catch (e) {
        throw new Error(
          `${socket}: could not initialize control socket (${e instanceof Error ? e.message : e})`,
        );
      }
      // The OpenFlow endpoints: each bridge's BRIDGE.mgmt as in OVS, its --listen ones, its controllers.
      await ensureRundir();
      await openBridgeEndpoints(backer, perBridge, endpoints);
      registerControllerCommands(endpoints.map((e) => e.controllers));
      const daemon = new Daemon(server, backer, config, pidfile);
      daemon.#endpoints = endpoints;
      daemon.#registerCommands();
      daemon.#catchSignals();
      daemon.#catchStrayErrors();
      for (const b of backer.bridges) b.startRx();
      log.info(`udpif started: bridge ${names.join(", ")}, control socket ${socket}`);
      return daemon;
    } catch (e) {
      for (const e of endpoints) await e.connmgr.close();
      await server?.stop();
      registerBridgeCommands([]);
      await backer?.destroy();
      if (pidfile) await removePidfile(pidfile);
      throw e;
    }
  }

  /** Periodic housekeeping: coverage rates, rule stats and expiry, MAC aging. */
  #tick(): void {
    coverageRun();
    for (const b of this.backer.bridges) b.run();
    for (const l of this.#links) l.run();
    for (const e of this.#endpoints) e.controllers.run();
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
    for (const l of this.#links) l.close();
    this.#offWarp();
    for (const undo of this.#undo) undo();
    for (const [signal, handler] of this.#signals) Deno.removeSignalListener(signal, handler);
    for (const e of this.#endpoints) await e.connmgr.close();
    await this.#server.stop();
    for (const name of [...DAEMON_COMMANDS, ...FAULT_COMMANDS]) unregisterCommand(name);
    registerBridgeCommands([]);
    await this.backer.destroy();
    if (this.#pidfile) await removePidfile(this.#pidfile);
    setVlogFile(undefined);
    this.#finish();
  }
}

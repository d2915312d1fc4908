/**
 * The bridge: where one switch is put together. It owns the port list
 * (names, OpenFlow numbers, netdev types and options, VLAN settings,
 * flood/up flags) and is the one place that connects the datapath, the
 * OpenFlow tables, translation and the udpif to each other and to the
 * daemon's configuration and control commands.
 *
 * Thread-safety: main thread. Port and configuration changes made here
 * are forwarded to the layers that own worker-side state.
 */
import { CommandError, registerCommand, unregisterCommand } from "../lib/unixctl.ts";
import { getLogger } from "../lib/log.ts";
import type { OtherConfig } from "./other_config.ts";
import type { PortSpec, PortType } from "./port_spec.ts";
import {
  applyPortSettings,
  formatPortVlanConfig,
  PortConfigError,
  type PortVlanConfig,
} from "./port_config.ts";

const log = getLogger("bridge");

export type DatapathType = "netdev" | "dummy";

/** OpenFlow port config bits that `ofctl mod-port` changes. */
export type PortModAction = "flood" | "no-flood" | "up" | "down";

export interface BridgePort {
  name: string;
  ofport: number;
  type: PortType;
  options: Record<string, string>;
  vlan: PortVlanConfig;
  /** False after `mod-port ... no-flood`: left out of flooding. */
  flood: boolean;
  /** False after `mod-port ... down`: neither receives nor sends. */
  up: boolean;
}

export interface BridgeOptions {
  name: string;
  datapathType: DatapathType;
  ports: PortSpec[];
  config: OtherConfig;
}

type PortListener = (port: BridgePort) => void;

export class Bridge {
  readonly name: string;
  readonly datapathType: DatapathType;
  readonly config: OtherConfig;
  readonly #ports = new Map<string, BridgePort>();
  readonly #portListeners: PortListener[] = [];

  constructor(options: BridgeOptions) {
    this.name = options.name;
    this.datapathType = options.datapathType;
    this.config = options.config;
    for (const spec of options.ports) {
      this.#ports.set(spec.name, {
        ...spec,
        options: { ...spec.options },
        vlan: {},
        flood: true,
        up: true,
      });
    }
    log.info(`bridge ${this.name}: added with ${this.#ports.size} ports`);
  }

  /** Every port, in OpenFlow port order. */
  ports(): BridgePort[] {
    return [...this.#ports.values()].sort((a, b) => a.ofport - b.ofport);
  }

  /** The port called `name` or numbered `name`; throws CommandError when there is none. */
  port(nameOrNumber: string): BridgePort {
    const byName = this.#ports.get(nameOrNumber);
    if (byName) return byName;
    if (/^[0-9]+$/.test(nameOrNumber)) {
      const n = Number(nameOrNumber);
      const byNumber = [...this.#ports.values()].find((p) => p.ofport === n);
      if (byNumber) return byNumber;
    }
    throw new CommandError(`${this.name}: no port named ${nameOrNumber}`);
  }

  /** Calls `listener` after any change to a port's VLAN settings or flags. */
  onPortChange(listener: PortListener): void {
    this.#portListeners.push(listener);
  }

  #changed(port: BridgePort): void {
    for (const l of this.#portListeners) l(port);
  }

  /** `port/set PORT KEY=VALUE...`; all settings or none. */
  setPort(name: string, settings: string[]): BridgePort {
    const port = this.port(name);
    try {
      port.vlan = applyPortSettings(port.vlan, settings);
    } catch (e) {
      if (e instanceof PortConfigError) throw new CommandError(e.message);
      throw e;
    }
    this.#changed(port);
    return port;
  }

  /** `ofctl mod-port BRIDGE PORT ACTION`. */
  modPort(name: string, action: PortModAction): BridgePort {
    const port = this.port(name);
    if (action === "flood" || action === "no-flood") port.flood = action === "flood";
    else port.up = action === "up";
    this.#changed(port);
    return port;
  }

  /** Registers the bridge's own commands. */
  registerCommands(): void {
    registerCommand({
      name: "port/set",
      usage: "port key=value...",
      minArgs: 1,
      maxArgs: Number.MAX_SAFE_INTEGER,
      handler: ([name, ...settings]) => {
        if (!settings.length) {
          return formatPortVlanConfig(this.port(name).name, this.port(name).vlan);
        }
        this.setPort(name, settings);
        return "";
      },
      json: ([name, ...settings]) => {
        const port = settings.length ? this.setPort(name, settings) : this.port(name);
        return { port: port.name, ...port.vlan };
      },
    });
    registerCommand({
      name: "ofctl/mod-port",
      usage: undefined,
      minArgs: 3,
      maxArgs: 3,
      handler: ([bridge, name, action]) => {
        this.#checkBridge(bridge);
        if (!["flood", "no-flood", "up", "down"].includes(action)) {
          throw new CommandError(
            `unknown mod-port command '${action}' (flood, no-flood, up or down)`,
          );
        }
        this.modPort(name, action as PortModAction);
        return "";
      },
    });
  }

  /** Drops the commands `registerCommands` added. */
  unregisterCommands(): void {
    for (const name of ["port/set", "ofctl/mod-port"]) unregisterCommand(name);
  }

  #checkBridge(name: string): void {
    if (name !== this.name) throw new CommandError(`${name} is not a bridge or a socket`);
  }
}

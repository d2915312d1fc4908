/**
 * `--format json` for the show and dump commands other layers print as
 * text: `dpctl/show`, `dpctl/dump-flows`, `dpif/show` and `fdb/show`
 * (the upcall layer gives its own commands theirs). The JSON carries the same facts as the
 * text, one object per datapath, flow, port or MAC entry.
 *
 * Thread-safety: main thread (reads the udpif's shared words and the
 * datapath's stats like the text forms do).
 */
import { DpctlError } from "../dpif/mod.ts";
import { dpDumpFlows } from "./dump_flows.ts";
import { addJsonHandler, CommandError, findCommand, timeMsec } from "../lib/mod.ts";
import type { Bridge } from "./bridge.ts";

/** One datapath flow as `dpctl/dump-flows` shows it. */
export interface FlowJson {
  ufid?: string;
  flow: string;
  packets: number;
  bytes: number;
  used: string;
  actions: string;
}

const FLOW_LINE =
  /^(?:ufid:([0-9a-f-]+),? )?(.*), packets:(\d+), bytes:(\d+), used:([^,]+), (?:dp:\w+, )?actions:(.*?)(?:, dp-extra-info:.*)?$/;

/** Parses dump-flows text (either form, with or without -m) into flows. */
export function parseDumpFlows(text: string): FlowJson[] {
  const out: FlowJson[] = [];
  for (const line of text.split("\n")) {
    const m = FLOW_LINE.exec(line);
    if (!m) continue;
    const f: FlowJson = {
      flow: m[2],
      packets: Number(m[3]),
      bytes: Number(m[4]),
      used: m[5],
      actions: m[6],
    };
    if (m[1]) f.ufid = m[1];
    out.push(f);
  }
  return out;
}

function attach(name: string, json: (args: string[]) => unknown): void {
  const command = findCommand(name);
  if (command && !command.json) addJsonHandler(name, json);
}

/** Adds the JSON forms to whichever of these commands are registered; `bridge` gives the live bridge. */
export function registerJsonViews(bridge: () => Bridge | undefined): void {
  const live = (): Bridge => {
    const b = bridge();
    if (!b) throw new CommandError("no bridge is running");
    return b;
  };
  attach("dpctl/dump-flows", (args) => {
    try {
      return parseDumpFlows(dpDumpFlows(live().dp, args));
    } catch (e) {
      if (e instanceof DpctlError) throw new CommandError(e.message);
      throw e;
    }
  });
  attach("dpctl/show", () => {
    const dp = live().dp;
    const s = dp.getStats();
    return {
      datapath: dp.name,
      lookups: { hit: s.hit, missed: s.missed, lost: s.lost },
      flows: s.flows,
      masks: s.masks,
      ports: dp.portList().map((p) => {
        const [rxPackets, rxBytes, txPackets, txBytes] = dp.portStats(p.portNo);
        return {
          port: p.portNo,
          name: p.name,
          type: p.type,
          rxPackets,
          rxBytes,
          txPackets,
          txBytes,
        };
      }),
    };
  });
  attach("dpif/show", () => {
    const b = live();
    const s = b.dp.getStats();
    return {
      datapath: b.dp.name,
      hit: s.hit,
      missed: s.missed,
      bridge: b.name,
      ports: b.allPorts().map((p) => ({
        name: p.name,
        ofport: p.ofport,
        odpPort: p.odpPort,
        type: p.netdev.type,
      })),
    };
  });
  attach("fdb/show", ([name]) => {
    const b = live();
    if (name !== b.name) throw new CommandError(`${name} is not a bridge or a socket`);
    return b.ml.entries(timeMsec());
  });
}

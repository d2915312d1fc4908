/**
 * The names of OpenFlow endpoints a bridge listens on or connects to, as
 * OVS spells them (pstream_open's `ptcp:PORT[:IP]` and `punix:PATH`;
 * the active `tcp:IP[:PORT]` and `unix:PATH` of rconn.ts): parsed from
 * `--listen`, `--controller` and `set-controller`, each bad one refused
 * with an error naming it.
 *
 * Thread-safety: pure functions, callable from anywhere.
 */
import { type ActiveTarget, parseActiveTarget } from "./rconn.ts";

export type ListenTarget =
  | { kind: "punix"; path: string }
  | { kind: "ptcp"; port: number; host: string };

/** Parses `ptcp:PORT[:IP]` or `punix:PATH` (OVS's passive stream names). */
export function parseListenTarget(text: string): ListenTarget {
  const tcp = /^ptcp:(\d+)(?::(.+))?$/.exec(text);
  if (tcp) {
    const port = Number(tcp[1]);
    if (port > 65535) throw new Error(`${text}: bad port number`);
    const host = tcp[2] ?? "0.0.0.0";
    return { kind: "ptcp", port, host: host.replace(/^\[(.*)\]$/, "$1") };
  }
  const unix = /^punix:(.+)$/.exec(text);
  if (unix) return { kind: "punix", path: unix[1] };
  throw new Error(`${text}: not a passive OpenFlow target (ptcp:PORT[:IP] or punix:PATH)`);
}

/** A controller target: active (kept connected) or passive (listened on). */
export type ControllerTarget =
  | { active: true; target: ActiveTarget }
  | { active: false; target: ListenTarget };

/**
 * Parses one `set-controller` target (tcp:IP[:PORT], unix:PATH,
 * ptcp:PORT[:IP], punix:PATH); throws naming the bad part.
 */
export function parseControllerTarget(text: string): ControllerTarget {
  if (/^p(tcp|unix):/.test(text)) return { active: false, target: parseListenTarget(text) };
  return { active: true, target: parseActiveTarget(text) };
}

/** The target as OVS names it in its log: `punix:PATH` or `ptcp:PORT:IP`. */
export function describeListenTarget(t: ListenTarget): string {
  return t.kind === "punix" ? `punix:${t.path}` : `ptcp:${t.port}:${t.host}`;
}

/**
 * The text side of vlog: what `vlog/list` prints and how `vlog/set`
 * (and `-v` style specs) are parsed, as OVS's lib/vlog.c has them.
 *
 * Thread-safety: main thread (the control socket's owner); the levels it
 * sets are shared with every worker by `log.ts`.
 */
import {
  setVlogLevel,
  VLOG_DESTINATIONS,
  VLOG_LEVELS,
  type VlogDestination,
  type VlogLevel,
  vlogLevel,
  vlogModules,
} from "./log.ts";

/** The reply to `vlog/list`: a header, then one sorted line per module. */
export function vlogListText(): string {
  const lines = vlogModules().map((m) => {
    const cols = VLOG_DESTINATIONS.map((d) => vlogLevel(m, d).toUpperCase().padStart(4));
    return `${m.padEnd(16)}  ${cols[0]}       ${cols[1]}       ${cols[2]}\n`;
  });
  lines.sort();
  return "                 console    syslog    file\n" +
    "                 -------    ------    ------\n" + lines.join("");
}

/** The levels as JSON: `{module: {console, syslog, file}}`. */
export function vlogListJson(): Record<string, Record<VlogDestination, VlogLevel>> {
  const out: Record<string, Record<VlogDestination, VlogLevel>> = {};
  for (const m of [...vlogModules()].sort()) {
    out[m] = {
      console: vlogLevel(m, "console"),
      syslog: vlogLevel(m, "syslog"),
      file: vlogLevel(m, "file"),
    };
  }
  return out;
}

/**
 * Applies one spec such as `dpif:file:dbg`, `ANY:warn` or `dbg` (words
 * separated by `:`, `,`, space or tab, in any order; missing module or
 * destination means all; missing level means dbg). Returns OVS's error
 * text, or undefined on success. Nothing changes on error.
 */
export function vlogSetFromString(spec: string): string | undefined {
  const words = spec.split(/[ ,:\t]+/).filter((w) => w !== "");
  let module: string | undefined;
  let dest: VlogDestination | undefined;
  let level: VlogLevel | undefined;
  const known = new Set(vlogModules());
  for (const word of words) {
    const w = word.toLowerCase();
    if (w === "any") continue;
    if ((VLOG_DESTINATIONS as readonly string[]).includes(w)) {
      if (dest) return "cannot specify multiple destinations";
      dest = w as VlogDestination;
    } else if ((VLOG_LEVELS as readonly string[]).includes(w)) {
      if (level) return "cannot specify multiple levels";
      level = w as VlogLevel;
    } else if (known.has(word)) {
      if (module) return "cannot specify multiple modules";
      module = word;
    } else {
      return `no destination, level, or module "${word}"`;
    }
  }
  setVlogLevel(module, dest, level ?? "dbg");
  return undefined;
}

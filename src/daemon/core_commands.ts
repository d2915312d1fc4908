/**
 * The daemon's own control commands, as OVS's daemon registers them:
 * `list-commands`, `version`, `time/stop`, `time/warp`, `coverage/show`,
 * `coverage/read-counter`, `vlog/list`, `vlog/set`, `vlog/reopen`.
 * (`exit`, `config/set` and `port/set` belong to the running daemon and
 * are registered by it.)
 *
 * Thread-safety: main thread; the clock, coverage and log levels they
 * change are shared memory that workers read.
 */
import {
  clockStop,
  clockWarp,
  CommandError,
  coverageRead,
  coverageRun,
  coverageShow,
  coverageTotal,
  listCommands,
  listCommandsText,
  registerCommand,
  vlogListJson,
  vlogListText,
  vlogReopen,
  vlogSetFromString,
} from "../lib/mod.ts";
import { PROGRAM_VERSION, VERSION } from "../unixctl/mod.ts";

/** Parses like C's atoll: optional sign and leading digits, 0 when there are none. */
function atoll(text: string): number {
  const m = /^\s*([+-]?\d+)/.exec(text);
  return m ? Number(m[1]) : 0;
}

type WarpHook = () => void | Promise<void>;
const warpHooks: WarpHook[] = [];
let warping = false;

/**
 * Runs `hook` after each step of a `time/warp`, before the next step or
 * the reply (e.g. to expire rules at the new time); returns the undo. Warps
 * apply to the shared clock at once; hooks give the layers that sleep on
 * it a chance to run in between, as OVS's main loop does.
 */
export function onClockWarp(hook: WarpHook): () => void {
  warpHooks.push(hook);
  return () => {
    const i = warpHooks.indexOf(hook);
    if (i >= 0) warpHooks.splice(i, 1);
  };
}

async function warp(args: string[]): Promise<string> {
  const total = args.length > 1 ? atoll(args[0]) : 0;
  const step = atoll(args.length > 1 ? args[1] : args[0]);
  if (step <= 0 || total < 0) throw new CommandError("invalid MSECS");
  if (warping) throw new CommandError("A previous warp in progress");
  warping = true;
  try {
    let left = total;
    do {
      clockWarp(step);
      left -= step;
      coverageRun();
      for (const hook of warpHooks) await hook();
      // Let workers' messages and timers run between steps.
      await new Promise((resolve) => setTimeout(resolve, 0));
    } while (left > 0);
  } finally {
    warping = false;
  }
  return "warped";
}

/** Registers the commands above; idempotent. */
export function registerCoreCommands(): void {
  registerCommand({
    name: "list-commands",
    usage: "",
    minArgs: 0,
    maxArgs: 0,
    handler: () => listCommandsText(),
    json: () => listCommands(),
  });
  registerCommand({
    name: "version",
    usage: "",
    minArgs: 0,
    maxArgs: 0,
    handler: () => PROGRAM_VERSION,
    json: () => ({ program: "udpif", version: VERSION }),
  });
  registerCommand({
    name: "time/stop",
    usage: "",
    minArgs: 0,
    maxArgs: 0,
    handler: () => {
      clockStop();
      return "";
    },
  });
  registerCommand({
    name: "time/warp",
    usage: "[large_msecs] msecs",
    minArgs: 1,
    maxArgs: 2,
    handler: warp,
  });
  registerCommand({
    name: "coverage/show",
    usage: "",
    minArgs: 0,
    maxArgs: 0,
    handler: () => coverageShow(),
    json: () => coverageRead(),
  });
  registerCommand({
    name: "coverage/read-counter",
    usage: "COUNTER",
    minArgs: 1,
    maxArgs: 1,
    handler: ([name]) => {
      const total = coverageTotal(name);
      if (total === undefined) throw new CommandError("No such counter");
      return `${total}\n`;
    },
    json: ([name]) => {
      const total = coverageTotal(name);
      if (total === undefined) throw new CommandError("No such counter");
      return { name, total };
    },
  });
  registerCommand({
    name: "vlog/list",
    usage: "",
    minArgs: 0,
    maxArgs: 0,
    handler: () => vlogListText(),
    json: () => vlogListJson(),
  });
  registerCommand({
    name: "vlog/set",
    usage: "{spec}",
    minArgs: 0,
    maxArgs: Number.MAX_SAFE_INTEGER,
    handler: (args) => {
      for (const spec of args.length ? args : ["dbg"]) {
        const error = vlogSetFromString(spec);
        if (error) throw new CommandError(error);
      }
      return "";
    },
  });
  registerCommand({
    name: "vlog/reopen",
    usage: "",
    minArgs: 0,
    maxArgs: 0,
    handler: () => {
      vlogReopen();
      return "";
    },
  });
}

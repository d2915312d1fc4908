/**
 * The upcall/ and revalidator/ unixctl commands, with OVS 3.1's text.
 * Each is a function of the live udpifs; `registerUpcallCommands` adds
 * them to the unixctl registry with OVS's names, usages and argument
 * counts (revalidator/pause and resume are hidden, as in OVS).
 */
import { CommandError, registerCommand, timeMsec } from "../lib/mod.ts";
import { deletionReasonsJson, formatDeletionReasons } from "./deletion_reasons.ts";
import type { Udpif } from "./udpif.ts";

/**
 * upcall/show; with `reasons` (udpif's `--reasons`), each udpif's section
 * ends with its ukey deletions per reason since start.
 */
export function upcallShow(udpifs: readonly Udpif[], now = timeMsec(), reasons = false): string {
  let s = "";
  for (const u of udpifs) {
    const sh = u.shared;
    s += `${u.name}:\n`;
    s +=
      `  flows         : (current ${u.nFlows(now)}) (avg ${sh.avgNFlows}) (max ${sh.maxNFlows})` +
      ` (limit ${sh.flowLimit})\n`;
    s += `  dump duration : ${sh.dumpDuration}ms\n`;
    s += `  ufid enabled : ${sh.useUfid ? "true" : "false"}\n`;
    s += "\n";
    const keys = u.keysPerRevalidator();
    u.revalidatorTids.forEach((tid, i) => (s += `  ${tid}: (keys ${keys[i]})\n`));
    if (reasons) s += formatDeletionReasons(sh);
  }
  return s;
}

/** upcall/show's arguments: none, or `--reasons`. */
function showReasons(args: readonly string[]): boolean {
  if (args.length === 0) return false;
  if (args[0] === "--reasons") return true;
  throw new CommandError(`upcall/show: unknown option "${args[0]}" (expected --reasons)`);
}

/** upcall/show as a JSON value (for `--format json`). */
export function upcallShowJson(
  udpifs: readonly Udpif[],
  now = timeMsec(),
  reasons = false,
): unknown {
  return udpifs.map((u) => {
    const sh = u.shared;
    const keys = u.keysPerRevalidator();
    return {
      name: u.name,
      flows: {
        current: u.nFlows(now),
        avg: sh.avgNFlows,
        max: sh.maxNFlows,
        limit: sh.flowLimit,
      },
      dump_duration_ms: sh.dumpDuration,
      ufid_enabled: sh.useUfid,
      revalidators: u.revalidatorTids.map((id, i) => ({ id, keys: keys[i] })),
      ...(reasons ? { deletion_reasons: deletionReasonsJson(sh) } : {}),
    };
  });
}

/** C's atoi() as glibc does it (strtol, then the low 32 bits), read as unsigned. */
export function atoiUnsigned(text: string): number {
  const m = /^[\t\n\v\f\r ]*([+-]?)(\d+)/.exec(text);
  if (!m) return 0;
  let v = BigInt(m[2]);
  const max = (1n << 63n) - 1n;
  if (m[1] === "-") v = v > max + 1n ? -(max + 1n) : -v;
  else if (v > max) v = max;
  return Number(BigInt.asUintN(32, v));
}

/** upcall/set-flow-limit N: sets the dynamic limit of every udpif. */
export function setFlowLimit(udpifs: readonly Udpif[], arg: string): string {
  const limit = atoiUnsigned(arg);
  for (const u of udpifs) u.shared.flowLimit = limit;
  return `set flow_limit to ${limit}\n`;
}

export async function setMegaflows(udpifs: readonly Udpif[], enable: boolean): Promise<string> {
  for (const u of udpifs) u.shared.megaflows = enable;
  for (const u of udpifs) await u.flush();
  return enable ? "megaflows enabled" : "megaflows disabled";
}

export function setUfid(udpifs: readonly Udpif[], enable: boolean): string {
  for (const u of udpifs) u.shared.ufid = enable;
  return enable
    ? "Datapath dumping tersely using UFID enabled for supported datapaths"
    : "Datapath dumping tersely using UFID disabled";
}

/** revalidator/wait: returns once the current or next dump has finished. */
export async function revalidatorWait(
  udpifs: readonly Udpif[],
  signal?: AbortSignal,
): Promise<string> {
  if (udpifs.length !== 1) throw new CommandError("can't wait on multiple udpifs.");
  await udpifs[0].waitDump(signal);
  return "";
}

/**
 * revalidator/purge. Since OVS 3.3 (bd86266ea "ofproto-dpif-upcall: Pause
 * revalidators when purging.") the revalidators are paused while the
 * main thread purges, so none dumps or sweeps the flows being purged; a
 * pause the user asked for stays. OVS 3.1 purged beside them.
 */
export async function revalidatorPurge(udpifs: readonly Udpif[]): Promise<string> {
  for (const u of udpifs) {
    const pause = !u.shared.compat31 && !u.shared.pauseLatch;
    if (pause) await u.pause();
    try {
      u.purge();
    } finally {
      if (pause) await u.resume();
    }
  }
  return "";
}

export async function revalidatorPause(udpifs: readonly Udpif[]): Promise<string> {
  for (const u of udpifs) await u.pause();
  return "";
}

export async function revalidatorResume(udpifs: readonly Udpif[]): Promise<string> {
  for (const u of udpifs) await u.resume();
  return "";
}

let source: () => readonly Udpif[] = () => [];
let registered = false;

/**
 * Registers every command, over whatever udpifs `udpifs` returns when a
 * command runs. Calling it again only changes that source.
 */
export function registerUpcallCommands(udpifs: () => readonly Udpif[]): void {
  source = udpifs;
  if (registered) return;
  registered = true;
  const list = () => source();
  const reg = (
    name: string,
    usage: string | undefined,
    n: number | [number, number],
    handler: (args: string[], signal: AbortSignal) => Promise<string> | string,
    json?: (args: string[]) => unknown,
  ) =>
    registerCommand({
      name,
      usage,
      minArgs: typeof n === "number" ? n : n[0],
      maxArgs: typeof n === "number" ? n : n[1],
      handler: (args, conn) => handler(args, conn.signal),
      // Commands with a text reply give it as a JSON string; the others null.
      json: json ?? (async (args, conn) => (await handler(args, conn.signal)) || null),
    });
  reg(
    "upcall/show",
    "[--reasons]",
    [0, 1],
    (a) => upcallShow(list(), timeMsec(), showReasons(a)),
    (a) => upcallShowJson(list(), timeMsec(), showReasons(a)),
  );
  reg("upcall/disable-megaflows", "", 0, () => setMegaflows(list(), false));
  reg("upcall/enable-megaflows", "", 0, () => setMegaflows(list(), true));
  reg("upcall/disable-ufid", "", 0, () => setUfid(list(), false));
  reg("upcall/enable-ufid", "", 0, () => setUfid(list(), true));
  reg("upcall/set-flow-limit", "flow-limit-number", 1, (a) => setFlowLimit(list(), a[0]));
  reg("revalidator/wait", "", 0, (_a, signal) => revalidatorWait(list(), signal));
  reg("revalidator/purge", "", 0, () => revalidatorPurge(list()));
  reg("revalidator/pause", undefined, 0, () => revalidatorPause(list()));
  reg("revalidator/resume", undefined, 0, () => revalidatorResume(list()));
}

/**
 * Talking to a running daemon from the command line: which socket
 * (`-t SOCKET`, else `$UDPIF_CTL`, else `$UDPIF_RUNDIR/udpif.ctl`), one
 * request, and how the reply is printed (text as is; `--format json` as
 * indented JSON). An error reply is exit code 2 with the daemon's message
 * on stderr, as with ovs-appctl; no daemon to talk to is exit code 1.
 */
import {
  defaultSocketPath,
  rundirPath,
  UnixctlConnectError,
  unixctlTransact,
} from "../unixctl/mod.ts";
import { UsageError } from "./errors.ts";

export type OutputFormat = "text" | "json";

/**
 * The socket for `-t TARGET`: a path when it contains a `/`, else a name
 * in the run directory (`-t udpif` is `RUNDIR/udpif.ctl`).
 */
export function resolveTarget(target: string | undefined): string {
  const t = target ?? Deno.env.get("UDPIF_CTL");
  if (!t) return defaultSocketPath();
  if (t.includes("/")) return t;
  return `${rundirPath()}/${t.endsWith(".ctl") ? t : `${t}.ctl`}`;
}

/** Checks a `--format` value. */
export function parseFormat(value: string | undefined): OutputFormat {
  if (value === undefined || value === "text") return "text";
  if (value === "json") return "json";
  throw new UsageError(`--format: unknown format "${value}" (text or json)`);
}

const encoder = new TextEncoder();

function write(stream: typeof Deno.stdout | typeof Deno.stderr, text: string): void {
  const bytes = encoder.encode(text);
  let off = 0;
  while (off < bytes.length) off += stream.writeSync(bytes.subarray(off));
}

/** The reply's text, or undefined after printing the error (then the exit code is 2). */
export async function requestText(
  target: string | undefined,
  method: string,
  args: string[],
): Promise<string | { error: string }> {
  const r = await transact(resolveTarget(target), method, args, "text");
  return r.error !== undefined ? { error: r.error } : String(r.result);
}

async function transact(socket: string, method: string, args: string[], format: OutputFormat) {
  try {
    return await unixctlTransact(socket, method, args, { format });
  } catch (e) {
    if (e instanceof UnixctlConnectError) throw new DaemonUnreachable(e.message);
    throw e;
  }
}

/** No daemon answered: exit code 1. */
export class DaemonUnreachable extends Error {
  override name = "DaemonUnreachable";
}

/**
 * Sends `method args` and prints the answer; returns the exit code (0, or
 * 2 on an error reply). Throws DaemonUnreachable when nothing answers.
 */
export async function runAndPrint(
  target: string | undefined,
  method: string,
  args: string[],
  format: OutputFormat = "text",
  errorStatus: (error: string) => number = () => 2,
): Promise<number> {
  const r = await transact(resolveTarget(target), method, args, format);
  if (r.error !== undefined) {
    write(Deno.stderr, r.error.endsWith("\n") ? r.error : r.error + "\n");
    return errorStatus(r.error);
  }
  if (format === "json") write(Deno.stdout, JSON.stringify(r.result, null, 2) + "\n");
  else write(Deno.stdout, String(r.result));
  return 0;
}

/** Writes text to stdout in full. */
export function printOut(text: string): void {
  write(Deno.stdout, text);
}

/** Writes text to stderr in full. */
export function printErr(text: string): void {
  write(Deno.stderr, text);
}

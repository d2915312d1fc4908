/**
 * vlog: OVS-style logging over @logtape/logtape.
 *
 * A module asks for its logger once, by its OVS module name:
 *
 *     const log = getLogger("ofproto_dpif_upcall");
 *     log.warn(`upcall: datapath flow limit reached`);
 *
 * and gets a plain logtape `Logger` (category `["udpif", module]`). What
 * is written where is decided per module and per destination (console =
 * stderr, syslog, file), as `vlog/list` shows and `vlog/set` changes, and
 * lines look like OVS's: `2026-11-22T04:00:00.000Z|00001|dpif|WARN|text`
 * in the file, the same without milliseconds on the console, with
 * `module(thread)` for Web Workers. udpif has no syslog writer: the
 * syslog column is kept so that OVS scripts that set it keep working.
 *
 * Thread-safety: module names, levels, the message sequence number and
 * the log file name live in a SharedArrayBuffer (`logBuffer()`, handed to
 * workers, which call `attachLog`), so a `vlog/set` on the main thread
 * takes effect in every worker at once. Each thread appends to the log
 * file itself; one write per line keeps lines whole.
 */
import {
  configureSync,
  getLogger as logtapeLogger,
  type Logger,
  type LogRecord,
} from "@logtape/logtape";
import { timeWallMsec } from "./clock.ts";

export type { Logger } from "@logtape/logtape";

/** OVS's levels, least to most verbose. */
export const VLOG_LEVELS = ["off", "emer", "err", "warn", "info", "dbg"] as const;
export type VlogLevel = (typeof VLOG_LEVELS)[number];
export const VLOG_DESTINATIONS = ["console", "syslog", "file"] as const;
export type VlogDestination = (typeof VLOG_DESTINATIONS)[number];

const MAX_MODULES = 256;
const NAME_BYTES = 32;
const PATH_BYTES = 1024;
const N_DEST = VLOG_DESTINATIONS.length;
const LEVEL_INFO = VLOG_LEVELS.indexOf("info");
const LEVEL_DBG = VLOG_LEVELS.indexOf("dbg");

// Int32 words: lock, module count, message sequence, file generation, path length.
const LOCK = 0, N_MODULES = 1, MSG_SEQ = 2, FILE_GEN = 3, PATH_LEN = 4;
const HEADER_BYTES = 32;
const NAMES_OFFSET = HEADER_BYTES;
/** Row 0 holds the levels given to modules defined later; module i uses row i + 1. */
const LEVELS_OFFSET = NAMES_OFFSET + MAX_MODULES * NAME_BYTES;
const PATH_OFFSET = LEVELS_OFFSET + (MAX_MODULES + 1) * N_DEST;
const BUFFER_BYTES = PATH_OFFSET + PATH_BYTES;

interface State {
  sab: SharedArrayBuffer;
  header: Int32Array;
  names: Uint8Array;
  levels: Uint8Array;
  path: Uint8Array;
}

function makeState(sab: SharedArrayBuffer): State {
  return {
    sab,
    header: new Int32Array(sab, 0, HEADER_BYTES / 4),
    names: new Uint8Array(sab, NAMES_OFFSET, MAX_MODULES * NAME_BYTES),
    levels: new Uint8Array(sab, LEVELS_OFFSET, (MAX_MODULES + 1) * N_DEST),
    path: new Uint8Array(sab, PATH_OFFSET, PATH_BYTES),
  };
}

function freshState(): State {
  const s = makeState(new SharedArrayBuffer(BUFFER_BYTES));
  s.levels.fill(LEVEL_INFO, 0, N_DEST);
  return s;
}

let state = freshState();
const encoder = new TextEncoder();
const decoder = new TextDecoder();
const slots = new Map<string, number>();
const threadName = "WorkerGlobalScope" in globalThis
  ? (globalThis as { name?: string }).name ?? ""
  : "";

function lock(): void {
  while (Atomics.compareExchange(state.header, LOCK, 0, 1) !== 0) {
    // Held for a short table scan when a module is first defined: spin.
  }
}

function unlock(): void {
  Atomics.store(state.header, LOCK, 0);
}

function moduleNameAt(i: number): string {
  const start = i * NAME_BYTES;
  let end = start;
  while (end < start + NAME_BYTES && state.names[end] !== 0) end++;
  return decoder.decode(state.names.slice(start, end));
}

function slotFor(module: string): number {
  const known = slots.get(module);
  if (known !== undefined) return known;
  const bytes = encoder.encode(module);
  if (!bytes.length || bytes.length > NAME_BYTES || !/^[a-z0-9_]+$/.test(module)) {
    throw new RangeError(`bad vlog module name "${module}"`);
  }
  lock();
  try {
    const n = Atomics.load(state.header, N_MODULES);
    for (let i = 0; i < n; i++) {
      if (moduleNameAt(i) === module) {
        slots.set(module, i);
        return i;
      }
    }
    if (n >= MAX_MODULES) throw new RangeError(`too many vlog modules (max ${MAX_MODULES})`);
    state.names.set(bytes, n * NAME_BYTES);
    for (let d = 0; d < N_DEST; d++) {
      Atomics.store(state.levels, (n + 1) * N_DEST + d, Atomics.load(state.levels, d));
    }
    Atomics.store(state.header, N_MODULES, n + 1);
    slots.set(module, n);
    return n;
  } finally {
    unlock();
  }
}

/**
 * Whether a debug message of `module` would reach the console or the log
 * file (vlog_is_enabled): callers skip building text nobody takes, which
 * matters where a message would be built per flow.
 */
export function vlogDebugEnabled(module: string): boolean {
  const row = slotFor(module) + 1;
  return Atomics.load(state.levels, row * N_DEST) >= LEVEL_DBG ||
    (Atomics.load(state.levels, row * N_DEST + 2) >= LEVEL_DBG &&
      Atomics.load(state.header, PATH_LEN) !== 0);
}

/** The level module `module` logs at on `dest`. */
export function vlogLevel(module: string, dest: VlogDestination): VlogLevel {
  const row = slotFor(module) + 1;
  return VLOG_LEVELS[Atomics.load(state.levels, row * N_DEST + VLOG_DESTINATIONS.indexOf(dest))];
}

const LOGTAPE_TO_VLOG: Record<string, number> = {
  fatal: 1,
  error: 2,
  warning: 3,
  info: 4,
  debug: 5,
  trace: 5,
};

function renderMessage(record: LogRecord): string {
  let text = "";
  for (let i = 0; i < record.message.length; i++) {
    const part = record.message[i];
    text += i % 2 === 0 ? String(part) : typeof part === "string" ? part : Deno.inspect(part);
  }
  return text;
}

function pad2(n: number): string {
  return n < 10 ? `0${n}` : `${n}`;
}

function timestamp(ms: number, withMillis: boolean): string {
  const d = new Date(ms);
  const base = `${d.getUTCFullYear()}-${pad2(d.getUTCMonth() + 1)}-${pad2(d.getUTCDate())}T${
    pad2(d.getUTCHours())
  }:${pad2(d.getUTCMinutes())}:${pad2(d.getUTCSeconds())}`;
  return withMillis ? `${base}.${String(d.getUTCMilliseconds()).padStart(3, "0")}Z` : `${base}Z`;
}

let file: { gen: number; handle: Deno.FsFile | undefined } = { gen: 0, handle: undefined };

function logFileHandle(): Deno.FsFile | undefined {
  const gen = Atomics.load(state.header, FILE_GEN);
  if (gen !== file.gen) {
    file.handle?.close();
    const path = vlogFile();
    let handle: Deno.FsFile | undefined;
    if (path) {
      try {
        handle = Deno.openSync(path, { append: true, create: true });
      } catch {
        handle = undefined;
      }
    }
    file = { gen, handle };
  }
  return file.handle;
}

/** Formats and writes one record to every destination whose level admits it. */
function vlogSink(record: LogRecord): void {
  const module = record.category[1] ?? record.category[0] ?? "udpif";
  const row = slotFor(module) + 1;
  const level = LOGTAPE_TO_VLOG[record.level] ?? LEVEL_INFO;
  const toConsole = level <= Atomics.load(state.levels, row * N_DEST);
  const toFile = level <= Atomics.load(state.levels, row * N_DEST + 2) &&
    logFileHandle() !== undefined;
  if (!toConsole && !toFile) return;
  const seq = String((Atomics.add(state.header, MSG_SEQ, 1) + 1) % 100000).padStart(5, "0");
  const who = threadName ? `${module}(${threadName})` : module;
  const tail = `|${seq}|${who}|${VLOG_LEVELS[level].toUpperCase()}|${renderMessage(record)}\n`;
  const now = timeWallMsec();
  // A closed stderr (a detached daemon's) or a full disk must not take the
  // switch down, nor keep the line from the other destination.
  if (toConsole) {
    try {
      Deno.stderr.writeSync(encoder.encode(timestamp(now, false) + tail));
    } catch {
      // Nowhere to report it.
    }
  }
  if (toFile) {
    try {
      file.handle!.writeSync(encoder.encode(timestamp(now, true) + tail));
    } catch {
      // Nowhere to report it.
    }
  }
}

configureSync({
  reset: true,
  sinks: { vlog: vlogSink },
  loggers: [
    { category: ["udpif"], sinks: ["vlog"], lowestLevel: "debug" },
    { category: ["logtape", "meta"], sinks: [], lowestLevel: "warning" },
  ],
});

/** The logger of OVS module `module` (e.g. "dpif", "ofproto_dpif_upcall"). */
export function getLogger(module: string): Logger {
  slotFor(module);
  return logtapeLogger(["udpif", module]);
}

/** The buffer to pass to workers (in their start message). */
export function logBuffer(): SharedArrayBuffer {
  return state.sab;
}

/** Makes this thread use the main thread's levels, sequence and log file. */
export function attachLog(buffer: SharedArrayBuffer): void {
  if (buffer.byteLength !== BUFFER_BYTES) {
    throw new RangeError(`log buffer must be ${BUFFER_BYTES} bytes, got ${buffer.byteLength}`);
  }
  const mine = [...slots.keys()];
  state = makeState(buffer);
  slots.clear();
  for (const module of mine) slotFor(module);
}

/** Starts (or, with undefined, stops) writing the log to `path`; every thread follows. */
export function setVlogFile(path: string | undefined): void {
  const bytes = encoder.encode(path ?? "");
  if (bytes.length > PATH_BYTES) throw new RangeError("log file name too long");
  state.path.fill(0);
  state.path.set(bytes);
  Atomics.store(state.header, PATH_LEN, bytes.length);
  Atomics.add(state.header, FILE_GEN, 1);
}

/** The log file in use, if any. */
export function vlogFile(): string | undefined {
  const n = Atomics.load(state.header, PATH_LEN);
  return n ? decoder.decode(state.path.slice(0, n)) : undefined;
}

/** Closes and reopens the log file (after it was rotated). */
export function vlogReopen(): void {
  Atomics.add(state.header, FILE_GEN, 1);
}

/** Sets `level` for `module` (all modules, including later ones, when undefined) on `dest` (all when undefined). */
export function setVlogLevel(
  module: string | undefined,
  dest: VlogDestination | undefined,
  level: VlogLevel,
): void {
  const value = VLOG_LEVELS.indexOf(level);
  const dests = dest ? [VLOG_DESTINATIONS.indexOf(dest)] : [0, 1, 2];
  const rows = module === undefined
    ? Array.from({ length: Atomics.load(state.header, N_MODULES) + 1 }, (_, i) => i)
    : [slotFor(module) + 1];
  for (const row of rows) {
    for (const d of dests) Atomics.store(state.levels, row * N_DEST + d, value);
  }
}

/** Every module defined so far, in any thread. */
export function vlogModules(): string[] {
  const n = Atomics.load(state.header, N_MODULES);
  return Array.from({ length: n }, (_, i) => moduleNameAt(i));
}

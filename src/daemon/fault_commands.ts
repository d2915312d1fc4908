/**
 * Fault injection for the udpif's workers, registered only when the
 * daemon runs with `udpif start --enable-fault-injection` (without it the
 * commands do not exist: "... is not a valid command", as any unknown
 * command gets):
 *
 *     fault/kill-worker [--throw[=before-commit|after-commit|after-delete]] handler|revalidator INDEX
 *         Terminates that worker (Worker.terminate(), as harsh as Deno
 *         gets: the worker stops at its next await), or with --throw
 *         makes it throw at its next section; with a POINT, at its next
 *         stats commit, just before or just after the commit point, while
 *         it holds the rule stats queue's lock (upcall/worker_journal.ts);
 *         with after-delete, a revalidator right after the datapath
 *         deleted a batch of its flows, before their last stats are
 *         credited.
 *         Either way the main thread cleans up after it and starts a
 *         replacement with the same index (upcall/worker_supervisor.ts).
 *         Replies once the death is recorded (kill) or armed (--throw).
 *     fault/show-workers
 *         One line per handler and revalidator: its state, thread id,
 *         how many times it was restarted and why it last died.
 *
 * Thread-safety: main thread.
 */
import { CommandError, registerCommand } from "../lib/mod.ts";
import type { Udpif } from "../upcall/mod.ts";

export const FAULT_COMMANDS = ["fault/kill-worker", "fault/show-workers"];

const USAGE = "[--throw[=before-commit|after-commit|after-delete]] handler|revalidator INDEX";

/** How fault/kill-worker kills. */
export type KillHow = "terminate" | "section" | "before-commit" | "after-commit" | "after-delete";

/** Parses fault/kill-worker's arguments; throws CommandError naming the bad one. */
export function parseKillArgs(
  args: string[],
): { how: KillHow; role: "handler" | "revalidator"; index: number } {
  let how: KillHow = "terminate";
  const rest = [...args];
  if (rest[0]?.startsWith("--")) {
    const opt = rest.shift()!;
    if (opt === "--throw") how = "section";
    else if (opt === "--throw=before-commit") how = "before-commit";
    else if (opt === "--throw=after-commit") how = "after-commit";
    else if (opt === "--throw=after-delete") how = "after-delete";
    else {
      throw new CommandError(
        `fault/kill-worker: unknown option "${opt}" ` +
          "(--throw, --throw=before-commit, --throw=after-commit or --throw=after-delete)",
      );
    }
  }
  if (rest.length !== 2) throw new CommandError(`fault/kill-worker: usage: ${USAGE}`);
  const [role, text] = rest;
  if (role !== "handler" && role !== "revalidator") {
    throw new CommandError(`fault/kill-worker: "${role}" is not handler or revalidator`);
  }
  if (how === "after-delete" && role !== "revalidator") {
    throw new CommandError(
      "fault/kill-worker: --throw=after-delete: only a revalidator deletes flows",
    );
  }
  if (!/^\d+$/.test(text)) {
    throw new CommandError(`fault/kill-worker: "${text}" is not a worker index`);
  }
  return { how, role, index: Number(text) };
}

/** Registers the fault/ commands over `udpif`. */
export function registerFaultCommands(udpif: Udpif): void {
  registerCommand({
    name: "fault/kill-worker",
    usage: USAGE,
    minArgs: 2,
    maxArgs: 3,
    handler: (args) => {
      const { how, role, index } = parseKillArgs(args);
      try {
        if (how === "terminate") udpif.workers.kill(role, index);
        else udpif.workers.injectThrow(role, index, how);
      } catch (e) {
        throw new CommandError(`fault/kill-worker: ${e instanceof Error ? e.message : e}`);
      }
      return "";
    },
  });
  registerCommand({
    name: "fault/show-workers",
    usage: "",
    minArgs: 0,
    maxArgs: 0,
    handler: () => showWorkers(udpif),
    json: () =>
      udpif.workers.seatsInfo().map((s) => ({
        role: s.role,
        index: s.index,
        state: s.state,
        tid: s.tid,
        restarts: s.restarts,
        last_cause: s.lastCause || null,
      })),
  });
}

function showWorkers(udpif: Udpif): string {
  return udpif.workers.seatsInfo().map((s) =>
    `${s.role} ${s.index}: ${s.state} (tid ${s.tid}) restarts ${s.restarts}` +
    (s.lastCause ? `, last died: ${s.lastCause}` : "") + "\n"
  ).join("");
}

/**
 * The one table of control commands, after OVS's `unixctl_command_register`.
 *
 * Every layer registers its commands here at start-up:
 *
 *     registerCommand({
 *       name: "upcall/set-flow-limit", usage: "flow-limit-number",
 *       minArgs: 1, maxArgs: 1,
 *       handler: ([n]) => `set flow_limit to ${setLimit(n)}`,
 *     });
 *
 * A handler gets the arguments (without the command name) and the
 * connection, and returns the reply text, or throws `CommandError` for an
 * error reply (any other exception also becomes an error reply, so a
 * buggy command never takes the daemon down). Replies get a trailing
 * newline when they lack one, as OVS adds. `usage: undefined` hides a
 * command from `list-commands` (it still works), as a NULL usage does in
 * OVS. The server (`unixctl_server.ts`) speaks the wire protocol and
 * dispatches through `runCommand`.
 *
 * Structured output works as in OVS 3.3's `ovs-appctl --format json`: the
 * client first sends `set-options --format json` on its connection, and
 * later commands on that connection reply with a JSON value made by the
 * command's `json` handler (a command without one refuses the format).
 *
 * Thread-safety: main thread only; commands that need workers talk to
 * them through their own layer's shared memory or messages.
 */

/** An error reply: the message is sent to the client as the error text. */
export class CommandError extends Error {
  override name = "CommandError";
}

export type OutputFormat = "text" | "json";

/** What a handler knows about the client that asked. */
export interface UnixctlConn {
  /** The output format the client asked for with `set-options`. */
  format: OutputFormat;
  /** Aborted when the client disconnects or the server stops: long waits should give up. */
  readonly signal: AbortSignal;
  /** Runs after the reply has been written (used by `exit` to stop once the client has its answer). */
  afterReply(fn: () => void | Promise<void>): void;
}

export type CommandHandler = (args: string[], conn: UnixctlConn) => Promise<string> | string;

export interface CommandSpec {
  name: string;
  /** Shown by `list-commands`; undefined hides the command. */
  usage: string | undefined;
  minArgs: number;
  maxArgs: number;
  handler: CommandHandler;
  /** Gives the reply as a JSON value when the client asked for `--format json`. */
  json?: (args: string[], conn: UnixctlConn) => Promise<unknown> | unknown;
}

/** A reply ready to send: `ok` false makes it a JSON-RPC error (always text). */
export type CommandReply = { ok: true; text: string } | { ok: true; json: unknown } | {
  ok: false;
  text: string;
};

const commands = new Map<string, CommandSpec>();

/**
 * Adds a command. Registering the same name again with the same handler
 * is a no-op (as in OVS); with a different handler it is a programming
 * error and throws.
 */
export function registerCommand(spec: CommandSpec): void {
  const known = commands.get(spec.name);
  if (known) {
    if (known.handler !== spec.handler) {
      throw new Error(`unixctl command "${spec.name}" registered twice`);
    }
    return;
  }
  if (!(spec.minArgs >= 0 && spec.maxArgs >= spec.minArgs)) {
    throw new RangeError(`unixctl command "${spec.name}": bad argument counts`);
  }
  commands.set(spec.name, spec);
}

function setOptions(args: string[], conn: UnixctlConn): string {
  for (let i = 0; i < args.length; i++) {
    const arg = args[i];
    const value = arg.startsWith("--format=")
      ? arg.slice(9)
      : arg === "--format"
      ? args[++i]
      : null;
    if (value === null) throw new CommandError(`unknown option "${arg}"`);
    if (value !== "text" && value !== "json") {
      throw new CommandError(`option format has invalid value "${value ?? ""}"`);
    }
    conn.format = value;
  }
  return "";
}

registerCommand({
  name: "set-options",
  usage: undefined,
  minArgs: 0,
  maxArgs: 2,
  handler: setOptions,
  json: (args, conn) => (setOptions(args, conn), null),
});

/**
 * Gives an already registered command a JSON form (for commands whose
 * text comes from one layer and whose structure another can describe).
 * Throws if the command is unknown or already has one.
 */
export function addJsonHandler(
  name: string,
  json: (args: string[], conn: UnixctlConn) => Promise<unknown> | unknown,
): void {
  const command = commands.get(name);
  if (!command) throw new Error(`unixctl command "${name}" is not registered`);
  if (command.json) throw new Error(`unixctl command "${name}" already has a JSON form`);
  command.json = json;
}

/** Removes a command (for a component that is shut down and restarted). */
export function unregisterCommand(name: string): void {
  commands.delete(name);
}

/** The registered command called `name`, if any. */
export function findCommand(name: string): CommandSpec | undefined {
  return commands.get(name);
}

/** All visible commands, sorted by name. */
export function listCommands(): Array<{ name: string; usage: string }> {
  return [...commands.values()]
    .filter((c) => c.usage !== undefined)
    .map((c) => ({ name: c.name, usage: c.usage as string }))
    .sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
}

/** The reply to `list-commands`, in OVS's layout. */
export function listCommandsText(): string {
  return "The available commands are:\n" +
    listCommands().map((c) => `  ${c.name.padEnd(23)} ${c.usage}\n`).join("");
}

function withNewline(text: string): string {
  return text !== "" && !text.endsWith("\n") ? text + "\n" : text;
}

/**
 * Validates a request the way OVS does (unknown command, too few or too
 * many arguments, non-string arguments) and runs its handler.
 */
export async function runCommand(
  method: string,
  params: unknown[],
  conn: UnixctlConn,
): Promise<CommandReply> {
  const command = commands.get(method);
  if (!command) {
    return {
      ok: false,
      text:
        `"${method}" is not a valid command (use "list-commands" to see a list of valid commands)\n`,
    };
  }
  if (params.length < command.minArgs) {
    return {
      ok: false,
      text: `"${method}" command requires at least ${command.minArgs} arguments\n`,
    };
  }
  if (params.length > command.maxArgs) {
    return { ok: false, text: `"${method}" command takes at most ${command.maxArgs} arguments\n` };
  }
  if (params.some((p) => typeof p !== "string")) {
    return { ok: false, text: `"${method}" command has non-string argument\n` };
  }
  const args = params as string[];
  try {
    if (conn.format === "json") {
      if (!command.json) {
        return {
          ok: false,
          text: `"${method}" command does not support output format "json"\n`,
        };
      }
      return { ok: true, json: (await command.json(args, conn)) ?? null };
    }
    const text = await command.handler(args, conn);
    return { ok: true, text: withNewline(text ?? "") };
  } catch (e) {
    const message = e instanceof CommandError
      ? e.message
      : `${method}: internal error: ${e instanceof Error ? e.message : String(e)}`;
    return { ok: false, text: withNewline(message) };
  }
}

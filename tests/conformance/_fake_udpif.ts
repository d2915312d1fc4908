/**
 * A stand-in for `udpif` in replay_test.ts: just enough of the CLI and
 * the control socket to let a replay run, recording every command it
 * receives (one line each, in `$UDPIF_RUNDIR/calls.log`) so the test can
 * check the replay's steps and their order without a real switch.
 *
 *   start --detach --unixctl SOCK --pidfile FILE ...  serve SOCK in the background
 *   appctl|ofctl|set-config|set-port -t SOCK ARGS     log, print a canned reply
 *
 * coverage/show reports `xlate_actions` as the number of
 * netdev-dummy/receive calls so far, so the replay's delta is checkable.
 */
import { readJsonMessage } from "./unixctl.ts";

const rundir = Deno.env.get("UDPIF_RUNDIR") ?? "/tmp";
const log = (line: string) =>
  Deno.writeTextFileSync(`${rundir}/calls.log`, line + "\n", { append: true });

function option(args: string[], name: string): string {
  const i = args.indexOf(name);
  if (i < 0 || i + 1 >= args.length) throw new Error(`missing ${name}`);
  return args[i + 1];
}

function reply(method: string, params: string[], received: number): string {
  switch (method) {
    case "dpctl/dump-flows":
      return params.includes("-m") ? "flow-dump (verbose)\n" : "flow-dump\n";
    case "upcall/show":
      return "dummy@ovs-dummy:\n  flows         : (current 0)\n";
    case "coverage/show":
      return "Event coverage:\n" +
        `xlate_actions   0.0/sec 0.000/sec 0.0000/sec   total: ${received}\n` +
        "poll_create_node   0.0/sec 0.000/sec 0.0000/sec   total: 7\n";
    default:
      return "";
  }
}

async function serve(socket: string): Promise<void> {
  const listener = Deno.listen({ transport: "unix", path: socket });
  let received = 0;
  for await (const conn of listener) {
    const req = await readJsonMessage(conn) as
      | { id: number; method: string; params: string[] }
      | null;
    if (!req) {
      conn.close();
      continue;
    }
    log(["call", req.method, ...req.params].join(" "));
    if (req.method === "netdev-dummy/receive") received++;
    const answer = req.method === "no/such"
      ? { id: req.id, result: null, error: `"no/such" is not a valid command` }
      : { id: req.id, result: reply(req.method, req.params, received), error: null };
    await conn.write(new TextEncoder().encode(JSON.stringify(answer)));
    conn.close();
    if (req.method === "exit") {
      listener.close();
      Deno.removeSync(socket);
      Deno.exit(0);
    }
  }
}

async function main(args: string[]): Promise<number> {
  const [cmd, ...rest] = args;
  if (cmd === "serve") {
    await serve(rest[0]);
    return 0;
  }
  log([cmd, ...rest].join(" "));
  if (cmd === "start") {
    Deno.writeTextFileSync(`${rundir}/rundir.txt`, rundir);
    const socket = option(rest, "--unixctl");
    const child = new Deno.Command(Deno.execPath(), {
      args: ["run", "-A", new URL(import.meta.url).pathname, "serve", socket],
      stdin: "null",
      stdout: "null",
      stderr: "null",
    }).spawn();
    child.unref();
    Deno.writeTextFileSync(option(rest, "--pidfile"), `${child.pid}\n`);
    for (let i = 0; i < 500; i++) {
      try {
        Deno.statSync(socket);
        return 0;
      } catch {
        await new Promise((r) => setTimeout(r, 10));
      }
    }
    return 1;
  }
  if (cmd === "ofctl" && rest.includes("dump-flows")) console.log("NXST_FLOW reply:");
  return 0;
}

if (import.meta.main) Deno.exit(await main(Deno.args));

import assert from "node:assert/strict";
import {
  addJsonHandler,
  CommandError,
  findCommand,
  listCommandsText,
  registerCommand,
  runCommand,
  type UnixctlConn,
  unregisterCommand,
} from "./unixctl.ts";

const conn: UnixctlConn = {
  format: "text",
  signal: new AbortController().signal,
  afterReply: () => {},
};

Deno.test("a registered command runs with its arguments and its reply gets a newline", async () => {
  registerCommand({
    name: "test/echo",
    usage: "word...",
    minArgs: 1,
    maxArgs: 3,
    handler: (args) => args.join(" "),
  });
  assert.deepEqual(await runCommand("test/echo", ["a", "b"], conn), { ok: true, text: "a b\n" });
});

Deno.test("argument counts are checked with OVS's messages", async () => {
  registerCommand({
    name: "test/one",
    usage: "flow-limit-number",
    minArgs: 1,
    maxArgs: 1,
    handler: () => "ok",
  });
  assert.deepEqual(await runCommand("test/one", [], conn), {
    ok: false,
    text: '"test/one" command requires at least 1 arguments\n',
  });
  assert.deepEqual(await runCommand("test/one", ["1", "2"], conn), {
    ok: false,
    text: '"test/one" command takes at most 1 arguments\n',
  });
  assert.deepEqual(await runCommand("test/one", [7], conn), {
    ok: false,
    text: '"test/one" command has non-string argument\n',
  });
});

Deno.test("an unknown command gets OVS's not-a-valid-command error", async () => {
  assert.deepEqual(await runCommand("nosuch/cmd", [], conn), {
    ok: false,
    text:
      '"nosuch/cmd" is not a valid command (use "list-commands" to see a list of valid commands)\n',
  });
});

Deno.test("a CommandError becomes an error reply, any other exception an internal error", async () => {
  registerCommand({
    name: "test/fails",
    usage: "",
    minArgs: 0,
    maxArgs: 1,
    handler: (args) => {
      if (args[0] === "bug") throw new TypeError("x is undefined");
      throw new CommandError("invalid MSECS");
    },
  });
  assert.deepEqual(await runCommand("test/fails", [], conn), {
    ok: false,
    text: "invalid MSECS\n",
  });
  assert.deepEqual(await runCommand("test/fails", ["bug"], conn), {
    ok: false,
    text: "test/fails: internal error: x is undefined\n",
  });
});

Deno.test("list-commands shows visible commands sorted, padded to 23 columns", () => {
  registerCommand({
    name: "test/hidden",
    usage: undefined,
    minArgs: 0,
    maxArgs: 0,
    handler: () => "",
  });
  registerCommand({
    name: "test/a-rather-long-command-name",
    usage: "[dp]",
    minArgs: 0,
    maxArgs: 0,
    handler: () => "",
  });
  const text = listCommandsText();
  assert.ok(text.startsWith("The available commands are:\n"));
  assert.ok(text.includes("  test/echo               word...\n"));
  assert.ok(text.includes("  test/a-rather-long-command-name [dp]\n"));
  assert.ok(!text.includes("test/hidden"));
  const names = text.trimEnd().split("\n").slice(1).map((l) => l.trim().split(" ")[0]);
  assert.deepEqual(names, [...names].sort());
  assert.ok(findCommand("test/hidden"));
});

Deno.test("registering a name twice with another handler throws; the same handler is a no-op", () => {
  const handler = () => "";
  registerCommand({ name: "test/dup", usage: "", minArgs: 0, maxArgs: 0, handler });
  registerCommand({ name: "test/dup", usage: "", minArgs: 0, maxArgs: 0, handler });
  assert.throws(
    () =>
      registerCommand({ name: "test/dup", usage: "", minArgs: 0, maxArgs: 0, handler: () => "x" }),
    /registered twice/,
  );
  unregisterCommand("test/dup");
  assert.equal(findCommand("test/dup"), undefined);
  assert.throws(
    () => registerCommand({ name: "test/bad", usage: "", minArgs: 2, maxArgs: 1, handler }),
    /bad argument counts/,
  );
});

Deno.test("after set-options --format json a command replies with its JSON handler", async () => {
  registerCommand({
    name: "test/structured",
    usage: "",
    minArgs: 0,
    maxArgs: 0,
    handler: () => "flows: 3",
    json: () => ({ flows: 3 }),
  });
  const c: UnixctlConn = { ...conn };
  assert.deepEqual(await runCommand("set-options", ["--format", "json"], c), {
    ok: true,
    text: "",
  });
  assert.equal(c.format, "json");
  assert.deepEqual(await runCommand("test/structured", [], c), { ok: true, json: { flows: 3 } });
  assert.deepEqual(await runCommand("test/echo", ["a"], c), {
    ok: false,
    text: '"test/echo" command does not support output format "json"\n',
  });
  const t: UnixctlConn = { ...conn };
  assert.deepEqual(await runCommand("set-options", ["--format=yaml"], t), {
    ok: false,
    text: 'option format has invalid value "yaml"\n',
  });
  assert.equal(t.format, "text");
});

Deno.test("a JSON form can be added to a command registered elsewhere, once", async () => {
  registerCommand({ name: "test/late", usage: "", minArgs: 0, maxArgs: 0, handler: () => "x" });
  addJsonHandler("test/late", () => ({ x: 1 }));
  const c: UnixctlConn = { ...conn, format: "json" };
  assert.deepEqual(await runCommand("test/late", [], c), { ok: true, json: { x: 1 } });
  assert.throws(() => addJsonHandler("test/late", () => 2), /already has a JSON form/);
  assert.throws(() => addJsonHandler("test/none", () => 2), /is not registered/);
});

import assert from "node:assert/strict";
import {
  attachLog,
  getLogger,
  logBuffer,
  setVlogFile,
  setVlogLevel,
  vlogFile,
  vlogLevel,
  vlogModules,
} from "./log.ts";
import { vlogListJson, vlogListText, vlogSetFromString } from "./log_control.ts";

const LINE =
  /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z\|\d{5}\|test_file\|WARN\|disk is full: 3 bytes left$/;

Deno.test("a module's logger writes OVS-style lines to the log file", () => {
  const dir = Deno.makeTempDirSync();
  const path = `${dir}/udpif.log`;
  setVlogFile(path);
  const log = getLogger("test_file");
  log.warn(`disk is full: ${3} bytes left`);
  log.debug("not at info level");
  setVlogFile(undefined);
  const lines = Deno.readTextFileSync(path).trimEnd().split("\n");
  assert.equal(lines.length, 1);
  assert.match(lines[0], LINE);
  assert.equal(vlogFile(), undefined);
  Deno.removeSync(dir, { recursive: true });
});

Deno.test("setting a module to dbg on the file lets its debug lines through", () => {
  const dir = Deno.makeTempDirSync();
  const path = `${dir}/udpif.log`;
  setVlogFile(path);
  const log = getLogger("test_dbg");
  setVlogLevel("test_dbg", "console", "off");
  assert.equal(vlogSetFromString("test_dbg:file:dbg"), undefined);
  log.debug("now visible");
  setVlogFile(undefined);
  assert.match(Deno.readTextFileSync(path), /\|test_dbg\|DBG\|now visible\n$/);
  assert.equal(vlogLevel("test_dbg", "file"), "dbg");
  assert.equal(vlogLevel("test_dbg", "console"), "off");
  Deno.removeSync(dir, { recursive: true });
});

Deno.test("vlog/list prints OVS's header and a sorted, aligned line per module", () => {
  getLogger("test_zz");
  getLogger("test_aa");
  setVlogLevel("test_aa", "syslog", "warn");
  const text = vlogListText();
  const lines = text.split("\n");
  assert.equal(lines[0], "                 console    syslog    file");
  assert.equal(lines[1], "                 -------    ------    ------");
  assert.ok(lines.includes("test_aa           INFO       WARN       INFO"));
  assert.ok(
    lines.indexOf("test_aa           INFO       WARN       INFO") <
      lines.findIndex((l) => l.startsWith("test_zz")),
  );
  assert.deepEqual(vlogListJson().test_aa, { console: "info", syslog: "warn", file: "info" });
});

Deno.test("vlog/set names the unknown word and changes nothing", () => {
  getLogger("test_keep");
  assert.equal(
    vlogSetFromString("test_keep:nosuch:dbg"),
    'no destination, level, or module "nosuch"',
  );
  assert.equal(vlogLevel("test_keep", "console"), "info");
  assert.equal(vlogSetFromString("test_keep:info:dbg"), "cannot specify multiple levels");
  assert.equal(vlogSetFromString("console:file"), "cannot specify multiple destinations");
  assert.equal(vlogSetFromString("test_keep:test_aa"), "cannot specify multiple modules");
});

Deno.test("a spec without a module applies to every module, including ones defined later", () => {
  getLogger("test_before");
  assert.equal(vlogSetFromString("ANY:syslog:err"), undefined);
  getLogger("test_after");
  assert.equal(vlogLevel("test_before", "syslog"), "err");
  assert.equal(vlogLevel("test_after", "syslog"), "err");
  assert.equal(vlogLevel("test_after", "console"), "info");
  assert.equal(vlogSetFromString("syslog:info"), undefined);
});

Deno.test("bad module names are refused", () => {
  assert.throws(() => getLogger("Has-Dash"), /bad vlog module name/);
});

Deno.test("a worker logs with the main thread's levels and names its thread", async () => {
  const dir = Deno.makeTempDirSync();
  const path = `${dir}/udpif.log`;
  setVlogFile(path);
  getLogger("test_worker");
  setVlogLevel("test_worker", "console", "off");
  setVlogLevel("test_worker", "file", "dbg");
  const src = `
    import { attachLog, getLogger } from "${new URL("./log.ts", import.meta.url).href}";
    const log = getLogger("test_worker");
    self.onmessage = (e) => {
      attachLog(e.data);
      log.debug("from the handler");
      self.postMessage("done");
    };`;
  const url = URL.createObjectURL(new Blob([src], { type: "application/javascript" }));
  const worker = new Worker(url, { type: "module", name: "handler7" });
  const done = new Promise((resolve) => (worker.onmessage = resolve));
  worker.postMessage(logBuffer());
  await done;
  worker.terminate();
  URL.revokeObjectURL(url);
  setVlogFile(undefined);
  assert.match(Deno.readTextFileSync(path), /\|test_worker\(handler7\)\|DBG\|from the handler\n$/);
  assert.ok(vlogModules().includes("test_worker"));
  assert.throws(() => attachLog(new SharedArrayBuffer(8)), /log buffer must be/);
  Deno.removeSync(dir, { recursive: true });
});

/** Golden tests of usage errors and of talking to no daemon: one line on stderr, exit 2 or 1. */
import assert from "node:assert/strict";
import { udpif } from "./_run.ts";

const env = { UDPIF_RUNDIR: "/nonexistent/udpif-run", UDPIF_CTL: "" };

Deno.test("a client with no daemon to talk to fails with exit code 1 naming the socket", async () => {
  assert.deepEqual(await udpif(["upcall/show"], { env }), {
    code: 1,
    stdout: "",
    stderr:
      'udpif: cannot connect to "/nonexistent/udpif-run/udpif.ctl" (No such file or directory)\n',
  });
  assert.deepEqual(await udpif(["appctl", "-t", "/nonexistent/x.ctl", "version"], { env }), {
    code: 1,
    stdout: "",
    stderr: 'udpif: cannot connect to "/nonexistent/x.ctl" (No such file or directory)\n',
  });
});

Deno.test("-t NAME without a slash is a socket in the run directory", async () => {
  const r = await udpif(["flush", "-t", "other"], { env });
  assert.equal(
    r.stderr,
    'udpif: cannot connect to "/nonexistent/udpif-run/other.ctl" (No such file or directory)\n',
  );
});

Deno.test("bad start options are usage errors naming the bad part", async () => {
  const cases: Array<[string[], string]> = [
    [
      ["start", "--datapath-type", "kernel"],
      'udpif: --datapath-type: unknown type "kernel" (netdev or dummy)\n',
    ],
    [
      ["start", "--port", "p1:0"],
      'udpif: --port p1:0: bad OpenFlow port number "0" (1 to 65279)\n',
    ],
    [
      ["start", "--port", "p1,type=tap"],
      'udpif: --port p1,type=tap: bad type "tap" (dummy, pcap, system or patch)\n',
    ],
    [
      ["start", "--bridge", "br0", "--port", "p1,bridge=br9"],
      "udpif: --port p1: no bridge named br9\n",
    ],
    [
      ["start", "--bridge", "br0", "--bridge", "br0"],
      "udpif: --bridge br0: bridge name used twice\n",
    ],
    [
      ["start", "--bridge", "br0", "--bridge", "br1", "--port", "p1", "--port", "p1,bridge=br1"],
      "udpif: --port p1: port name used twice\n",
    ],
    [
      ["start", "--port", "x,type=patch"],
      "udpif: --port x,type=patch: type=patch needs peer=PORT\n",
    ],
    [
      ["start", "--port", "p1,peer=x"],
      "udpif: --port p1,peer=x: peer is an option of type=patch ports\n",
    ],
    [
      ["start", "--bridge", "br0", "--bridge", "br1", "--port", "a,type=patch,peer=b"],
      "udpif: --port a: peer b must be another type=patch port with peer=a\n",
    ],
    [
      ["start", "--other-config", "flow-limit=-1"],
      'udpif: other_config:flow-limit: "-1" is not an integer between 0 and 4294967295\n',
    ],
    [
      ["start", "--flows", "/nonexistent/rules.txt"],
      "udpif: --flows /nonexistent/rules.txt: cannot read the file\n",
    ],
    [
      ["start", "--flows", "/nonexistent/rules.txt,bridge=br0"],
      "udpif: --flows /nonexistent/rules.txt: cannot read the file\n",
    ],
    [
      ["start", "--bridge", "br0", "--bridge", "br1", "--controller", "tcp:127.0.0.1,bridge=br9"],
      "udpif: --controller tcp:127.0.0.1,bridge=br9: no bridge named br9\n",
    ],
    [
      ["start", "--listen", "ptcp:6653,bridge=br1"],
      "udpif: --listen ptcp:6653,bridge=br1: no bridge named br1\n",
    ],
    [
      ["start", "--controller", "udp:1.2.3.4,bridge=br0"],
      "udpif: --controller udp:1.2.3.4: unknown connection method (tcp:IP[:PORT] or unix:PATH)\n",
    ],
    [
      [
        "start",
        ...["--bridge", "br0", "--bridge", "br1"],
        ...["--fail-mode", "secure,bridge=br1", "--fail-mode", "standalone,bridge=br1"],
      ],
      "udpif: --fail-mode standalone,bridge=br1: bridge br1 has a fail mode already\n",
    ],
    [
      ["start", "--fail-mode", "open,bridge=br0"],
      'udpif: --fail-mode "open": fail mode must be standalone or secure\n',
    ],
  ];
  for (const [args, stderr] of cases) {
    assert.deepEqual(await udpif(args, { env }), { code: 2, stdout: "", stderr }, args.join(" "));
  }
});

Deno.test("unknown subcommands and options are usage errors", async () => {
  assert.deepEqual(await udpif(["frobnicate"], { env }), {
    code: 2,
    stdout: "",
    stderr: "error: unknown command 'frobnicate'\n",
  });
  assert.deepEqual(await udpif(["flush", "--bogus"], { env }), {
    code: 2,
    stdout: "",
    stderr: "error: unknown option '--bogus'\n",
  });
  assert.deepEqual(await udpif(["upcall/show", "-t"], { env }), {
    code: 2,
    stdout: "",
    stderr: "udpif: option '-t' argument missing\n",
  });
});

Deno.test("ofctl checks its command, argument count and -O before talking to the daemon", async () => {
  assert.deepEqual(await udpif(["ofctl", "add-flow", "br0"], { env }), {
    code: 2,
    stdout: "",
    stderr: "udpif: 'add-flow' command requires 2 arguments\n",
  });
  assert.deepEqual(await udpif(["ofctl", "-O", "OpenFlow99", "dump-flows", "br0"], { env }), {
    code: 2,
    stdout: "",
    stderr: 'udpif: -O: unknown OpenFlow version "OpenFlow99" (OpenFlow10 to OpenFlow15)\n',
  });
  assert.deepEqual(await udpif(["ofctl", "zap-flows", "br0"], { env }), {
    code: 2,
    stdout: "",
    stderr:
      "udpif: unknown ofctl command 'zap-flows' (add-flow, add-flows, mod-flows, del-flows, dump-flows, mod-port, show, dump-ports, dump-ports-desc, packet-out, add-group, add-groups, mod-group, del-groups, insert-buckets, remove-buckets, dump-groups, dump-group-stats, dump-group-features)\n",
  });
  assert.deepEqual(await udpif(["ofctl", "dump-ports", "br0", "1", "2"], { env }), {
    code: 2,
    stdout: "",
    stderr: "udpif: 'dump-ports' command requires 1 to 2 arguments\n",
  });
  assert.deepEqual(await udpif(["ofctl", "add-flows", "br0", "/nonexistent/f"], { env }), {
    code: 2,
    stdout: "",
    stderr:
      "udpif: /nonexistent/f: cannot read (No such file or directory (os error 2): readfile '/nonexistent/f')\n",
  });
});

Deno.test("--version prints the version", async () => {
  assert.deepEqual(await udpif(["--version"], { env }), { code: 0, stdout: "0.1.0\n", stderr: "" });
});

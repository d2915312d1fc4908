import assert from "node:assert/strict";
import { bondPortsOf, shellQuote, vsctlToOtherConfig, writeWrappers } from "./wrappers.ts";

/**
 * The wrappers are run for real, with a recording script in udpif's
 * place that prints the argv it was given, one word per line.
 */
async function withWrappers(fn: (bin: string) => Promise<void>): Promise<void> {
  const dir = await Deno.makeTempDir({ prefix: "wrappers-test." });
  try {
    const recorder = `${dir}/udpif`;
    await Deno.writeTextFile(recorder, '#!/usr/bin/env bash\nprintf "%s\\n" "$@"\n', {
      mode: 0o755,
    });
    await Deno.mkdir(`${dir}/bin`);
    await writeWrappers(`${dir}/bin`, recorder, `${dir}/ctl sock`);
    await fn(`${dir}/bin`);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
}

async function argvOf(bin: string, command: string): Promise<{ code: number; words: string[] }> {
  const out = await new Deno.Command("bash", {
    args: ["-c", command],
    env: { PATH: `${bin}:${Deno.env.get("PATH")}` },
    stdout: "piped",
    stderr: "piped",
  }).output();
  const text = new TextDecoder().decode(out.stdout) + new TextDecoder().decode(out.stderr);
  return { code: out.code, words: text.split("\n").filter((l) => l !== "") };
}

Deno.test("ovs-appctl becomes udpif appctl on the replay's socket, OVS-only options dropped", async () => {
  await withWrappers(async (bin) => {
    const r = await argvOf(bin, "ovs-appctl --timeout=5 dpctl/dump-flows -m");
    assert.equal(r.code, 0);
    assert.deepEqual(r.words.slice(0, 2), ["appctl", "-t"]);
    assert.match(r.words[2], /\/ctl sock$/);
    assert.deepEqual(r.words.slice(3), ["dpctl/dump-flows", "-m"]);
  });
});

Deno.test("ovs-ofctl keeps its own options and the flow as one word", async () => {
  await withWrappers(async (bin) => {
    const r = await argvOf(
      bin,
      "ovs-ofctl --strict mod-flows br0 'priority=5,tcp,actions=output:3'",
    );
    assert.deepEqual(r.words.slice(3), [
      "--strict",
      "mod-flows",
      "br0",
      "priority=5,tcp,actions=output:3",
    ]);
    assert.deepEqual(r.words.slice(0, 2), ["ofctl", "-t"]);
  });
});

Deno.test("ovs-vsctl other_config and port settings map onto config/set and port/set", async () => {
  await withWrappers(async (bin) => {
    const a = await argvOf(
      bin,
      "ovs-vsctl set Open_vSwitch . other_config:n-handler-threads=2 other_config:n-revalidator-threads=2",
    );
    assert.equal(a.code, 0);
    assert.deepEqual(a.words.slice(0, 2), ["appctl", "-t"]);
    assert.deepEqual(a.words.slice(3), [
      "config/set",
      "n-handler-threads=2",
      "n-revalidator-threads=2",
    ]);
    const b = await argvOf(bin, "ovs-vsctl --no-wait set port p1 vlan_mode=native-untagged tag=10");
    assert.deepEqual(b.words.slice(0, 2), ["appctl", "-t"]);
    assert.deepEqual(b.words.slice(3), ["port/set", "p1", "vlan_mode=native-untagged", "tag=10"]);
  });
});

Deno.test("an ovs-vsctl command udpif has no equivalent for fails with status 2, naming it", async () => {
  await withWrappers(async (bin) => {
    const r = await argvOf(bin, "ovs-vsctl add-br br1");
    assert.equal(r.code, 2);
    assert.match(r.words.join(" "), /cannot map onto udpif: add-br br1/);
    const s = await argvOf(bin, "ovs-vsctl set Open_vSwitch . external_ids:x=1");
    assert.equal(s.code, 2);
  });
});

Deno.test("--vsctl other_config before start becomes --other-config KEY=VALUE", () => {
  assert.deepEqual(
    vsctlToOtherConfig([
      "set",
      "Open_vSwitch",
      ".",
      "other_config:flow-limit=3",
      "other_config:max-idle=1000",
    ]),
    ["flow-limit=3", "max-idle=1000"],
  );
  assert.throws(
    () => vsctlToOtherConfig(["set", "port", "p1", "tag=10"]),
    /cannot be mapped onto udpif start/,
  );
});

Deno.test("shell quoting survives single quotes", () => {
  assert.equal(shellQuote("it's"), `'it'\\''s'`);
});

Deno.test("in wire mode ovs-ofctl is the real tool, every option kept, OVS_RUNDIR at the run directory", async () => {
  const dir = await Deno.makeTempDir({ prefix: "wrappers-test." });
  try {
    // A recorder in the real ovs-ofctl's place: its argv, then OVS_RUNDIR.
    const recorder = `${dir}/ovs-ofctl-real`;
    await Deno.writeTextFile(
      recorder,
      '#!/usr/bin/env bash\nprintf "%s\\n" "$@" "OVS_RUNDIR=$OVS_RUNDIR"\n',
      { mode: 0o755 },
    );
    await Deno.mkdir(`${dir}/bin`);
    await writeWrappers(`${dir}/bin`, "/nonexistent/udpif", `${dir}/ctl`, undefined, {
      rundir: `${dir}/run dir`,
      ovsOfctl: recorder,
    });
    const r = await argvOf(
      `${dir}/bin`,
      "ovs-ofctl --timeout=5 -O OpenFlow13 --strict del-flows br0 'priority=5,tcp'",
    );
    assert.equal(r.code, 0);
    assert.deepEqual(r.words, [
      "--timeout=5",
      "-O",
      "OpenFlow13",
      "--strict",
      "del-flows",
      "br0",
      "priority=5,tcp",
      `OVS_RUNDIR=${dir}/run dir`,
    ]);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("a --pre ovs-vsctl add-bond becomes udpif start's --port for the bond and its members", () => {
  assert.deepEqual(
    bondPortsOf([
      "ovs-appctl vlog/list",
      "ovs-vsctl add-bond br0 bond0 p4 p5 bond_mode=balance-slb other_config:bond-hash-basis=7 " +
      "-- set interface p4 type=dummy ofport_request=4 -- set interface p5 type=dummy ofport_request=5",
      "ovs-vsctl add-bond br0 bond1 p6 p7 lacp=active -- set interface p6 type=dummy " +
      "ofport_request=6 options:stream=unix:$OVS_RUNDIR/l1.sock other_config:lacp-port-id=9",
    ], "/run/x"),
    [
      "bond0,type=bond,members=p4:4+p5:5,bond_mode=balance-slb,other_config:bond-hash-basis=7",
      "p6:6,stream=unix:/run/x/l1.sock",
      "bond1,type=bond,members=p6+p7,lacp=active,iface_other_config:p6:lacp-port-id=9",
    ],
  );
  assert.throws(
    () => bondPortsOf(["ovs-vsctl add-bond br0 b p1 p2 -- set interface p1 mtu_request=9000"]),
    /cannot map onto udpif start: mtu_request=9000/,
  );
});

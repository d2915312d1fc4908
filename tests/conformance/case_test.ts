import assert from "node:assert/strict";
import {
  agesFlows,
  listCases,
  loadCase,
  measuresRealTime,
  parseOptions,
  parsePackets,
  racyReason,
  shellSplitArgs,
  splitWords,
} from "./case.ts";

const CASES = new URL("./cases/", import.meta.url).pathname;

Deno.test("packets.txt: packet lines, shell lines and comments, in file order", () => {
  const steps = parsePackets(
    "# comment\n\np1 in_port(1),eth() --len 64\n  ! ovs-appctl upcall/show\r\nlonely\n",
  );
  assert.deepEqual(steps, [
    { kind: "packets", port: "p1", args: ["in_port(1),eth()", "--len", "64"] },
    { kind: "shell", command: "ovs-appctl upcall/show" },
    { kind: "bad", line: "lonely" },
  ]);
});

Deno.test("args: shell quoting is undone by bash itself, comment lines dropped", async () => {
  const words = await shellSplitArgs(
    `# a comment\n--post "ovs-appctl fdb/show br0 | awk '{\\$NF=\\"\\"; print}'"\n--time-stop\n`,
  );
  assert.deepEqual(words, [
    "--post",
    `ovs-appctl fdb/show br0 | awk '{$NF=""; print}'`,
    "--time-stop",
  ]);
});

Deno.test("options map onto the oracle's, --vsctl split into words", () => {
  const o = parseOptions([
    "--vsctl",
    "set Open_vSwitch . other_config:flow-limit=3",
    "--pre",
    "a",
    "--pre",
    "b",
    "--ofctl-opts",
    "-O OpenFlow13",
    "--waits",
    "3",
  ]);
  assert.deepEqual(o.vsctl, [["set", "Open_vSwitch", ".", "other_config:flow-limit=3"]]);
  assert.deepEqual(o.pre, ["a", "b"]);
  assert.deepEqual(o.ofctlOpts, ["-O", "OpenFlow13"]);
  assert.equal(o.waits, 3);
  assert.equal(o.ports, 3);
});

Deno.test("an option the replay cannot honour is refused by name", () => {
  assert.throws(() => parseOptions(["--tx-pcap"]), /option --tx-pcap is not supported/);
  assert.throws(() => parseOptions(["--pre"]), /--pre needs an argument/);
  assert.throws(() => parseOptions(["--waits", "x"]), /--waits needs a number/);
});

Deno.test("a '# RACY' comment marks a case as timing dependent", () => {
  assert.equal(
    racyReason("# plain\n", "# RACY (timing dependent): burst\n"),
    "RACY (timing dependent): burst",
  );
  assert.equal(racyReason("# not racy\n"), null);
  assert.deepEqual(splitWords("  a \t b\n"), ["a", "b"]);
});

Deno.test("every recorded case loads, and there are at least 64", async () => {
  const names = listCases(CASES);
  assert.ok(names.length >= 64, `${names.length} cases`);
  for (const name of names) {
    const c = await loadCase(`${CASES}${name}`);
    assert.ok(c.expected.length > 0, name);
    assert.ok(c.flowsFile !== null || c.packets.length >= 0);
  }
});

Deno.test("the oracle's racy flow-limit bursts are the only racy cases", async () => {
  const racy: string[] = [];
  for (const name of listCases(CASES)) {
    if ((await loadCase(`${CASES}${name}`)).racy) racy.push(name);
  }
  assert.deepEqual(racy, ["e1-flow-limit-burst", "e2-set-flow-limit-burst"]);
});

Deno.test("a case measures real time when a shell line or a --pre/--post command sleeps", async () => {
  const paced = await loadCase(`${CASES}g1-idle-expiry-realtime`);
  const warped = await loadCase(`${CASES}g2-idle-expiry-timewarp`);
  assert.equal(measuresRealTime(paced), true);
  assert.equal(measuresRealTime(warped), false);
  const post = { ...warped, options: { ...warped.options, post: ["x=1; sleep 0.5"] } };
  assert.equal(measuresRealTime(post), true);
  const word = { ...warped, packets: parsePackets("! ovs-appctl vlog/set sleepy:dbg\n") };
  assert.equal(measuresRealTime(word), false);
});

Deno.test("a case ages flows on purpose when it sleeps, warps time or sets max-idle", async () => {
  const paced = await loadCase(`${CASES}g1-idle-expiry-realtime`);
  const warped = await loadCase(`${CASES}g2-idle-expiry-timewarp`);
  const plain = await loadCase(`${CASES}nrm-three-hosts`);
  assert.deepEqual([agesFlows(paced), agesFlows(warped), agesFlows(plain)], [true, true, false]);
  const idle = { ...plain, options: { ...plain.options, vsctl: [["other_config:max-idle=500"]] } };
  assert.equal(agesFlows(idle), true);
});

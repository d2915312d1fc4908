/**
 * Worker faults (issue 13, item 3): a daemon started with
 * --enable-fault-injection loses handlers and revalidators under traffic
 * (terminated, or made to throw) and goes on serving upcalls; the
 * revalidators' barrier survives a dead follower and a dead leader; every
 * killed index comes back; and every rule's n_packets ends equal to the
 * packets sent to it.
 */
import assert from "node:assert/strict";
import { unixctlTransact } from "../../src/unixctl/mod.ts";
import { POLL_TIMEOUT_MS } from "../poll.ts";
import { TestDaemon } from "./_run.ts";

const N_RULES = 8;

/** One command over the daemon's socket; returns its text, throws on an error reply. */
async function appctl(d: TestDaemon, ...args: string[]): Promise<string> {
  const [method, ...params] = args;
  const r = await unixctlTransact(d.socket, method, params);
  if (r.error !== undefined) throw new Error(`${args.join(" ")}: ${r.error}`);
  return String(r.result);
}

function packet(dst: number): string {
  return "in_port(1),eth(src=50:54:00:00:00:05,dst=50:54:00:00:00:07),eth_type(0x0800)," +
    `ipv4(src=10.0.0.1,dst=10.0.1.${dst},proto=17,tos=0,ttl=64,frag=no),udp(src=1000,dst=2000)`;
}

/** Sends `n` packets to rule `dst` (netdev-dummy/receive waits for their upcalls). */
async function send(d: TestDaemon, sent: number[], dst: number, n: number): Promise<void> {
  for (let i = 0; i < n; i++) await appctl(d, "netdev-dummy/receive", "p1", packet(dst));
  sent[dst] += n;
}

/** Installs one UDP rule per destination 10.0.1.R; returns the per-rule sent counts, all 0. */
async function addRules(d: TestDaemon): Promise<number[]> {
  const rules = Array.from(
    { length: N_RULES },
    (_, i) => `priority=10,udp,nw_dst=10.0.1.${i},actions=output:2`,
  ).join("\n");
  await d.run(["ofctl", "add-flows", "br0", "-"], rules);
  return new Array(N_RULES).fill(0);
}

/** Every rule's n_packets equals the packets sent to it. */
async function assertRuleCounts(d: TestDaemon, sent: number[]): Promise<void> {
  const dump = await appctl(d, "ofctl/dump-flows", "br0");
  for (let r = 0; r < N_RULES; r++) {
    const line = dump.split("\n").find((l) => l.includes(`nw_dst=10.0.1.${r} `));
    assert.ok(line, `rule ${r} in ${dump}`);
    assert.match(line, new RegExp(`n_packets=${sent[r]},`), `rule ${r}: ${line}`);
  }
}

async function flowCount(d: TestDaemon): Promise<number> {
  return (await appctl(d, "dpctl/dump-flows")).split("\n").filter((l) => l.startsWith("recirc_id"))
    .length;
}

interface Seat {
  role: string;
  index: number;
  state: string;
  tid: number;
  restarts: number;
}

async function seats(d: TestDaemon): Promise<Seat[]> {
  const r = await unixctlTransact(d.socket, "fault/show-workers", [], { format: "json" });
  if (r.error !== undefined) throw new Error(r.error);
  return r.result as Seat[];
}

/** Waits until `role index` has been restarted `restarts` times and runs again. */
async function waitRestarted(d: TestDaemon, role: string, index: number, restarts: number) {
  let last: Seat | undefined;
  const deadline = performance.now() + POLL_TIMEOUT_MS;
  for (;;) {
    last = (await seats(d)).find((s) => s.role === role && s.index === index);
    if (last && last.restarts >= restarts && last.state === "running") return last;
    if (performance.now() > deadline) {
      throw new Error(`${role} ${index} never came back: ${JSON.stringify(last)}`);
    }
  }
}

Deno.test("without --enable-fault-injection there is no fault/ command", async () => {
  const d = await TestDaemon.start(["--datapath-type", "dummy"]);
  try {
    const r = await unixctlTransact(d.socket, "fault/kill-worker", ["handler", "0"]);
    assert.equal(
      r.error,
      '"fault/kill-worker" is not a valid command (use "list-commands" to see a list of valid commands)\n',
    );
  } finally {
    await d.stop();
  }
});

Deno.test("killed and throwing workers come back, upcalls go on, and rule stats are exact", async () => {
  const d = await TestDaemon.start([
    "--datapath-type",
    "dummy",
    "--enable-fault-injection",
    "--other-config",
    "n-handler-threads=2",
    "--other-config",
    "n-revalidator-threads=3",
  ]);
  let ok = false;
  try {
    const sent = await addRules(d);
    const bad = await unixctlTransact(d.socket, "fault/kill-worker", ["handler", "9"]);
    assert.equal(bad.error, "fault/kill-worker: no handler 9 (there are 2)\n");
    const bad2 = await unixctlTransact(d.socket, "fault/kill-worker", ["--now", "handler", "0"]);
    assert.match(bad2.error ?? "", /^fault\/kill-worker: unknown option "--now" \(--throw, /);

    for (let r = 0; r < 4; r++) await send(d, sent, r, 3);
    assert.equal(await flowCount(d), 4);

    // Handler 0 dies mid-traffic: upcalls sent right after are still served.
    await appctl(d, "fault/kill-worker", "handler", "0");
    for (let r = 4; r < N_RULES; r++) await send(d, sent, r, 2);
    assert.equal(await flowCount(d), N_RULES, "new flows installed after the kill");
    await waitRestarted(d, "handler", 0, 1);

    await appctl(d, "fault/kill-worker", "--throw", "handler", "1");
    for (let r = 0; r < N_RULES; r++) await send(d, sent, r, 1);
    await waitRestarted(d, "handler", 1, 1);

    // A follower, then the leader, then a follower that throws.
    const before = await seats(d);
    await appctl(d, "fault/kill-worker", "revalidator", "1");
    await appctl(d, "revalidator/wait");
    await appctl(d, "revalidator/wait");
    await appctl(d, "fault/kill-worker", "revalidator", "0");
    await appctl(d, "revalidator/wait");
    await appctl(d, "revalidator/wait");
    await appctl(d, "fault/kill-worker", "--throw", "revalidator", "2");
    await appctl(d, "revalidator/wait");
    await appctl(d, "revalidator/wait");
    for (const i of [0, 1, 2]) await waitRestarted(d, "revalidator", i, 1);
    // A follower killed while the revalidators are paused: resume still returns.
    await appctl(d, "revalidator/pause");
    await appctl(d, "fault/kill-worker", "revalidator", "1");
    await appctl(d, "revalidator/resume");
    await appctl(d, "revalidator/wait");
    await appctl(d, "revalidator/wait");
    await waitRestarted(d, "revalidator", 1, 2);
    const after = await seats(d);
    assert.deepEqual(
      after.map((s) => [s.role, s.index, s.state, s.restarts]),
      [
        ["handler", 0, "running", 1],
        ["handler", 1, "running", 1],
        ["revalidator", 0, "running", 1],
        ["revalidator", 1, "running", 2],
        ["revalidator", 2, "running", 1],
      ],
    );
    assert.deepEqual(after.map((s) => s.tid), before.map((s) => s.tid), "same seats, same tids");
    // upcall/show lists the three revalidators again, under their tids, as OVS lists its threads.
    const show = await appctl(d, "upcall/show");
    const listed = [...show.matchAll(/^ {2}(\d+): \(keys \d+\)$/gm)].map((m) => Number(m[1]));
    assert.deepEqual(listed, after.filter((s) => s.role === "revalidator").map((s) => s.tid));

    // Traffic over the installed flows, counted by the revalidators now running.
    for (let r = 0; r < N_RULES; r++) await send(d, sent, r, 2);
    await appctl(d, "revalidator/wait");
    await appctl(d, "revalidator/wait");
    await assertRuleCounts(d, sent);
    const coverage = await appctl(d, "coverage/show");
    assert.match(coverage, /handler_restarted .* total: 2\n/);
    assert.match(coverage, /revalidator_restarted .* total: 4\n/);
    ok = true;
  } finally {
    const { log } = await d.stop();
    // A failure above is the one to report.
    if (ok) {
      for (
        const w of ["handler 0", "handler 1", "revalidator 0", "revalidator 1", "revalidator 2"]
      ) {
        assert.match(log, new RegExp(`\\|ofproto_dpif_upcall\\|WARN\\|${w} \\(tid \\d+\\) died: `));
      }
    }
  }
});

Deno.test("workers that die at a stats commit, holding its lock, leave every rule's count exact", async () => {
  // One handler and one revalidator, so that the armed one is the one that works.
  const d = await TestDaemon.start([
    "--datapath-type",
    "dummy",
    "--enable-fault-injection",
    "--other-config",
    "n-handler-threads=1",
    "--other-config",
    "n-revalidator-threads=1",
  ]);
  try {
    const sent = await addRules(d);
    for (let r = 0; r < 4; r++) await send(d, sent, r, 2);

    // Dies before its batch's commit: the batch is read again by the replacement.
    await appctl(d, "fault/kill-worker", "--throw=before-commit", "handler", "0");
    await send(d, sent, 4, 1);
    await waitRestarted(d, "handler", 0, 1);
    assert.equal(await flowCount(d), 5, "the re-read upcall installed its flow");

    // Dies after it: the packet is counted (not forwarded, not installed); the next one installs.
    await appctl(d, "fault/kill-worker", "--throw=after-commit", "handler", "0");
    await send(d, sent, 5, 1);
    await waitRestarted(d, "handler", 0, 2);
    await send(d, sent, 5, 1);
    assert.equal(await flowCount(d), 6);

    // The revalidator dies before, then after, a commit of pushed stats.
    // Armed before the packets: a pass that pushes their stats may run
    // at any time from the first of them, and only a pass with stats to
    // push reaches the commit point.
    for (const [point, restarts] of [["before-commit", 1], ["after-commit", 2]] as const) {
      await appctl(d, "fault/kill-worker", `--throw=${point}`, "revalidator", "0");
      for (let r = 0; r < 6; r++) await send(d, sent, r, 3);
      await appctl(d, "revalidator/wait");
      await waitRestarted(d, "revalidator", 0, restarts);
    }
    await appctl(d, "revalidator/wait");
    await appctl(d, "revalidator/wait");
    await assertRuleCounts(d, sent);
  } finally {
    await d.stop();
  }
});

Deno.test("a revalidator that dies after the datapath deleted its flows leaves every rule's count exact", async () => {
  // Idle flows are deleted by the dump once the stopped clock is warped past max-idle.
  const d = await TestDaemon.start([
    "--datapath-type",
    "dummy",
    "--enable-fault-injection",
    "--other-config",
    "n-revalidator-threads=1",
    "--other-config",
    "max-idle=10000",
  ]);
  try {
    await appctl(d, "time/stop");
    const sent = await addRules(d);
    for (let r = 0; r < 6; r++) await send(d, sent, r, 2);
    await appctl(d, "revalidator/wait");
    await appctl(d, "revalidator/wait");
    // Packets since the flows' last dump: only their deletes' final stats carry them.
    for (let r = 0; r < 6; r++) await send(d, sent, r, 3);
    await appctl(d, "fault/kill-worker", "--throw=after-delete", "revalidator", "0");
    await appctl(d, "time/warp", "20000");
    await appctl(d, "revalidator/wait");
    await waitRestarted(d, "revalidator", 0, 1);
    await appctl(d, "revalidator/wait");
    await appctl(d, "revalidator/wait");
    assert.equal(await flowCount(d), 0, "the idle flows were deleted");
    await assertRuleCounts(d, sent);
    const coverage = await appctl(d, "coverage/show");
    assert.match(coverage, /revalidator_deletes_settled/);
    assert.doesNotMatch(coverage, /revalidator_deletes_lost/);
  } finally {
    await d.stop();
  }
});

Deno.test("the daemon exits cleanly while dead workers are being replaced", async () => {
  const d = await TestDaemon.start([
    "--datapath-type",
    "dummy",
    "--enable-fault-injection",
    "--other-config",
    "n-revalidator-threads=2",
  ]);
  await appctl(d, "fault/kill-worker", "revalidator", "0");
  await appctl(d, "fault/kill-worker", "revalidator", "1");
  await appctl(d, "fault/kill-worker", "handler", "0");
  const { code, log } = await d.stop();
  assert.equal(code, 0);
  assert.match(log, /\|vswitchd\|INFO\|stopping: exit requested over the control socket\n/);
});

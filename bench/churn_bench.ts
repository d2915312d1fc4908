/**
 * Exact churn, long (issue 13, item 2): CHURN_ROUNDS (default 1000) rounds
 * of seeded rule adds, modifies and deletes (strict and not) and 16
 * packets of random flows each, every datapath flow checked against a
 * fresh translation after each round (tests/reliability/_churn.ts).
 * CHURN_SEED replays a run; the seed is printed either way.
 *
 *     churn_rounds: 1000 seed: S checks: 1000 flows_checked: F violations: 0 (T s)
 */
import { TestDaemon } from "../tests/cli/_run.ts";
import { appctl } from "../tests/reliability/_daemon.ts";
import { churn, CHURN_DAEMON_ARGS, formatViolations } from "../tests/reliability/_churn.ts";
import { checkFlows } from "../tests/reliability/_churn_check.ts";

const rounds = Number(Deno.env.get("CHURN_ROUNDS") ?? 1000);
const seed = Number(Deno.env.get("CHURN_SEED") ?? (Date.now() % 0x7fffffff));
const d = await TestDaemon.start(CHURN_DAEMON_ARGS);
let failed = false;
try {
  const t0 = performance.now();
  const res = await churn(d.socket, {
    seed,
    rounds,
    opsPerRound: 3,
    packetsPerRound: 16,
    checkEvery: 1,
  }, (round, flows) => {
    if (round % 100 === 0) console.error(`churn: round ${round}, ${flows} flows`);
  });
  const secs = ((performance.now() - t0) / 1000).toFixed(1);
  console.log(
    `churn_rounds: ${res.rounds} seed: ${seed} checks: ${res.checks} flows_checked: ${res.flowsChecked} ` +
      `rule_ops: ${res.ops} refused: ${res.refused.length} packets: ${res.packets} ` +
      `violations: ${res.violations.length} (${secs} s)`,
  );
  if (res.violations.length) {
    console.error(formatViolations(seed, res));
    // The state the violation was found in, to see why without replaying.
    console.error(await appctl(d.socket, "ofctl/dump-flows", ["br0"]));
    console.error(await appctl(d.socket, "fdb/show", ["br0"]));
    for (const v of res.violations) {
      console.error(await appctl(d.socket, "ofproto/trace", [v.flow.replace(/\/[^,)]+/g, "")]));
    }
    // Whether more revalidation repairs it (late) or the flow stays wrong (stuck).
    for (let i = 0; i < 4; i++) await appctl(d.socket, "revalidator/wait");
    const again = await checkFlows(d.socket);
    console.error(
      `after 4 more revalidations: ${again.violations.length} violation(s)\n` +
        again.violations.map((v) => `  ${v.kind}: ${v.flow} ${v.installed} / ${v.expected}`).join(
          "\n",
        ),
    );
    failed = true;
  }
} finally {
  await d.stop();
}
if (failed) Deno.exit(1);

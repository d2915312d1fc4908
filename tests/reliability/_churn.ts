/**
 * Rule churn against the real daemon: seeded random OpenFlow adds,
 * modifies and deletes (strict and not), conntrack matches and actions
 * among them, interleaved with many flows of traffic, and after every few
 * rounds the check revalidation exists for: every datapath flow agrees
 * with a fresh translation of its key, actions and mask.
 *
 * The generators are in _churn_gen.ts, the check in _churn_check.ts.
 */
import { appctl, AppctlError, Rng } from "./_daemon.ts";
import { randomPacket, RuleGen } from "./_churn_gen.ts";
import { checkFlows, settle, type Violation } from "./_churn_check.ts";

/** A three-port dummy switch whose revalidators run often and whose flows expire soon. */
export const CHURN_DAEMON_ARGS = [
  "--port",
  "p3",
  "--datapath-type",
  "dummy",
  "--other-config",
  "max-revalidator=100",
  "--other-config",
  "max-idle=2000",
];

export interface ChurnOptions {
  seed: number;
  rounds: number;
  /** Rule changes per round (1..opsPerRound). */
  opsPerRound: number;
  packetsPerRound: number;
  /** Check after every `checkEvery` rounds (and after the last). */
  checkEvery: number;
}

export interface ChurnResult {
  rounds: number;
  checks: number;
  flowsChecked: number;
  /** Flows checked whose actions run conntrack or that are recirculated. */
  ctFlowsChecked: number;
  ops: number;
  /** Rule changes the daemon refused (generator combinations OVS would refuse too). */
  refused: string[];
  packets: number;
  /** The first check's violations, with the round they were found in. */
  violations: Violation[];
  failedRound: number;
}

/** Runs the churn against the daemon at `socket`; stops at the first check that finds violations. */
export async function churn(
  socket: string,
  opts: ChurnOptions,
  progress?: (round: number, flows: number) => void,
): Promise<ChurnResult> {
  const r = new Rng(opts.seed);
  const rules = new RuleGen(r);
  const res: ChurnResult = {
    rounds: 0,
    checks: 0,
    flowsChecked: 0,
    ctFlowsChecked: 0,
    ops: 0,
    refused: [],
    packets: 0,
    violations: [],
    failedRound: -1,
  };
  for (let round = 1; round <= opts.rounds; round++) {
    for (let n = 1 + r.int(opts.opsPerRound); n > 0; n--) {
      const op = rules.next();
      res.ops++;
      try {
        await appctl(socket, op.method, op.params);
      } catch (e) {
        if (!(e instanceof AppctlError)) throw e;
        res.refused.push(e.message);
      }
    }
    const byPort = new Map<string, string[]>();
    for (let i = 0; i < opts.packetsPerRound; i++) {
      const p = randomPacket(r);
      byPort.set(p.port, [...(byPort.get(p.port) ?? []), p.spec]);
    }
    for (const [port, specs] of byPort) {
      await appctl(socket, "netdev-dummy/receive", [port, ...specs]);
      res.packets += specs.length;
    }
    res.rounds = round;
    if (round % opts.checkEvery !== 0 && round !== opts.rounds) continue;
    await settle(socket);
    const { flows, ctFlows, violations } = await checkFlows(socket);
    res.checks++;
    res.flowsChecked += flows;
    res.ctFlowsChecked += ctFlows;
    progress?.(round, flows);
    if (violations.length) {
      res.violations = violations;
      res.failedRound = round;
      break;
    }
  }
  return res;
}

/** The violations as lines a person can act on, with the seed to replay them. */
export function formatViolations(seed: number, res: ChurnResult): string {
  return [
    `churn seed ${seed}: ${res.violations.length} violation(s) at round ${res.failedRound}`,
    ...res.violations.map((v) =>
      `  ${v.kind}: ${v.flow}\n    installed: ${v.installed}\n    fresh:     ${v.expected}`
    ),
  ].join("\n");
}

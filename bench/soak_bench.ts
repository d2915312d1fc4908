/**
 * Soak (issue 13, item 5): SOAK_SECONDS (default 600) of rule churn,
 * traffic of many flows and idle expiry (max-idle 1000 ms) against the
 * real daemon. Once a second it reads the daemon's RSS and the size of
 * every table memory grows with (`memory/show`: rules, udpif keys,
 * recirculation ids; `dpctl/show` flows; `fdb/show` MAC entries); every
 * 50 rounds it checks the datapath flows against fresh translations.
 * Prints the curve (means over each SOAK_SAMPLE_SECONDS window, default
 * a twentieth of the run), then the growth from the warm second quarter
 * of the run to its last quarter (means of the readings in each; the
 * tables come and go with the churn, so single readings are noise), with
 * each table's band of readings once warm:
 *
 *     soak_rss_growth_pct: X (tables: rules Y % [lo-hi], udpif keys Z % [lo-hi], ...) violations: V
 *       after_idle: flows F udpif_keys U recirc_ids R
 *
 * The last figures are read once traffic has stopped and max-idle has
 * passed: every flow, ukey and recirculation id must be gone (0), whatever
 * the counts did while the churn ran.
 */
import { TestDaemon } from "../tests/cli/_run.ts";
import { appctl, daemonPid, memoryOf, Rng } from "../tests/reliability/_daemon.ts";
import { CHURN_DAEMON_ARGS } from "../tests/reliability/_churn.ts";
import { randomPacket, RuleGen } from "../tests/reliability/_churn_gen.ts";
import { checkFlows, settle } from "../tests/reliability/_churn_check.ts";

const seconds = Number(Deno.env.get("SOAK_SECONDS") ?? 600);
const sampleEvery = Number(Deno.env.get("SOAK_SAMPLE_SECONDS") ?? Math.max(seconds / 20, 1));
const seed = Number(Deno.env.get("SOAK_SEED") ?? (Date.now() % 0x7fffffff));
/** The rule count the churn hovers around (it deletes while above). */
const RULES = 40;
const PACKETS_PER_ROUND = 16;
const CHECK_EVERY = 50;

/** One reading (once a second). */
interface Sample {
  t: number;
  rssKb: number;
  tables: Record<string, number>;
}

// The churn daemon, with flows idling out sooner (a later setting wins).
const d = await TestDaemon.start([...CHURN_DAEMON_ARGS, "--other-config", "max-idle=1000"]);
const s = d.socket;
const samples: Sample[] = [];
let rounds = 0, violations = 0, checks = 0;
let idle: Record<string, number> = {};
try {
  const pid = await daemonPid(`${d.dir}/udpif.pid`);
  const r = new Rng(seed);
  const rules = new RuleGen(r);
  const t0 = performance.now();
  const elapsed = () => (performance.now() - t0) / 1000;
  const tables = async (): Promise<Record<string, number>> => {
    const mem = await appctl(s, "memory/show");
    const count = (name: string) => Number(new RegExp(`${name}:(\\d+)`).exec(mem)?.[1] ?? 0);
    const flows = Number(/flows: (\d+)/.exec(await appctl(s, "dpctl/show"))?.[1]);
    const macs = (await appctl(s, "fdb/show", ["br0"])).trim().split("\n").length - 1;
    return {
      rules: count("rules"),
      "udpif keys": count("udpif keys"),
      "recirc ids": count("recirc ids"),
      flows,
      macs,
    };
  };
  const sample = async () => {
    samples.push({ t: elapsed(), rssKb: (await memoryOf(pid)).rssKb, tables: await tables() });
  };
  await sample();
  let nextSample = 1;
  while (elapsed() < seconds) {
    const nRules = (await tables()).rules;
    for (let n = 1 + r.int(3); n > 0; n--) {
      const op = rules.next(nRules > RULES);
      await appctl(s, op.method, op.params).catch(() => {});
    }
    const byPort = new Map<string, string[]>();
    for (let i = 0; i < PACKETS_PER_ROUND; i++) {
      const p = randomPacket(r);
      byPort.set(p.port, [...(byPort.get(p.port) ?? []), p.spec]);
    }
    for (const [port, specs] of byPort) await appctl(s, "netdev-dummy/receive", [port, ...specs]);
    if (++rounds % CHECK_EVERY === 0) {
      await settle(s);
      const c = await checkFlows(s);
      checks++;
      violations += c.violations.length;
      for (const v of c.violations) {
        console.error(`soak: ${v.kind}: ${v.flow} ${v.installed} / ${v.expected}`);
      }
    }
    if (elapsed() >= nextSample) {
      await sample();
      nextSample += 1;
    }
  }
  await sample();
  // Traffic stops: within max-idle every flow expires, and with the last
  // ukeys their recirculation ids go. What is left is held by nothing.
  for (let i = 0; i < 50 && (await tables()).flows > 0; i++) {
    await appctl(s, "revalidator/wait");
  }
  await appctl(s, "revalidator/wait");
  idle = await tables();
} finally {
  await d.stop();
}

/** Mean of a figure over the readings taken in [from, to) seconds. */
function meanIn(from: number, to: number, pick: (x: Sample) => number): number {
  const xs = samples.filter((x) => x.t >= from && x.t < to).map(pick);
  return xs.length ? xs.reduce((a, b) => a + b, 0) / xs.length : NaN;
}
/** Mean over [from, to) of the run, as fractions of its length. */
const mean = (from: number, to: number, pick: (x: Sample) => number) =>
  meanIn(from * seconds, to * seconds, pick);
const names = Object.keys(samples[0].tables);
for (let t = 0; t < seconds; t += sampleEvery) {
  const m = (pick: (x: Sample) => number) => meanIn(t, t + sampleEvery, pick).toFixed(0);
  console.log(
    `soak: t=${String(t).padStart(5)}-${String(t + sampleEvery).padEnd(5)} s ` +
      `rss_kb=${m((x) => x.rssKb)} ` +
      names.map((k) => `${k.replace(" ", "_")}=${m((x) => x.tables[k])}`).join(" "),
  );
}
const growth = (pick: (x: Sample) => number) => {
  const warm = mean(0.25, 0.5, pick), end = mean(0.75, 1.01, pick);
  return warm === 0 && end === 0 ? 0 : (100 * (end - warm)) / warm;
};
/** The smallest and largest reading once warm: a table that comes and goes with the churn stays in a band. */
const band = (pick: (x: Sample) => number) => {
  const xs = samples.filter((x) => x.t >= 0.25 * seconds).map(pick);
  return `${Math.min(...xs)}-${Math.max(...xs)}`;
};
const tableGrowth = names.map((k) =>
  `${k} ${growth((x) => x.tables[k]).toFixed(1)} % [${band((x) => x.tables[k])}]`
);
console.log(
  `soak_rss_growth_pct: ${growth((x) => x.rssKb).toFixed(1)} (tables: ${tableGrowth.join(", ")}) ` +
    `seconds: ${seconds} seed: ${seed} rounds: ${rounds} checks: ${checks} violations: ${violations} ` +
    `after_idle: flows ${idle.flows} udpif_keys ${idle["udpif keys"]} recirc_ids ${
      idle["recirc ids"]
    }`,
);
if (violations || idle.flows || idle["udpif keys"] || idle["recirc ids"]) Deno.exit(1);

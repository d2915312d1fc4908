/**
 * The conformance suite: every case folder under `cases/` replayed through
 * udpif (see replay.ts) and compared, normalized, with the output the real
 * Open vSwitch 3.1 printed for it (`expected.txt`). One test per case.
 *
 * Cases listed in known_failures.txt, and cases marked `# RACY` (their OVS
 * output is timing dependent), are registered as ignored with the reason
 * in the test name. Environment:
 *
 *   CONFORMANCE_ALL=1        run every case, listed or racy
 *   CONFORMANCE_ONLY=REGEX   only the cases whose name matches
 *   CONFORMANCE_SETTLE=S     pause before each coverage snapshot (default 0; the OVS
 *                            shim below needs the oracle's 1.1)
 *   CONFORMANCE_TIMEOUT=S    time limit per command (default 30)
 *   CONFORMANCE_CASE_TIMEOUT=S  time limit per case (default 90)
 *   CONFORMANCE_JOBS=N       replay up to N cases at once (default 4; cases that
 *                            measure real time still run alone, last)
 *   CONFORMANCE_KEEP=DIR     keep each case's run directory (daemon log) under DIR
 *   CONFORMANCE_OFCTL=wire   the cases' ovs-ofctl lines run the real ovs-ofctl over
 *                            OpenFlow (br0.mgmt) instead of `udpif ofctl`
 *   CONFORMANCE_UDPIF=PATH   the udpif to replay through (default bin/udpif;
 *                            oracle/udpif-ovs-shim.sh replays through the real OVS,
 *                            which checks the replay itself)
 */
import { listCases, loadCase, measuresRealTime } from "./case.ts";
import type { ConformanceCase } from "./case.ts";
import { readKnownFailures } from "./known_failures.ts";
import { configFromEnv, diffFromOvs, replayCase } from "./replay.ts";
import { reapStale } from "./stale.ts";

const HERE = new URL(".", import.meta.url).pathname;
const CASES = `${HERE}cases`;
const UDPIF = Deno.env.get("CONFORMANCE_UDPIF") ??
  new URL("../../bin/udpif", import.meta.url).pathname;

const all = Deno.env.get("CONFORMANCE_ALL") === "1";
const only = Deno.env.get("CONFORMANCE_ONLY");
const known = readKnownFailures(`${HERE}known_failures.txt`);
// Daemons of earlier runs that were killed before they could clean up.
await reapStale();

// With CONFORMANCE_JOBS=N, up to N replays run at once: each test starts
// the next N-1 runnable cases before awaiting its own. The replays mostly
// wait for revalidator cycles, so 4 (the default) cost little CPU; cases
// that measure real time (measuresRealTime) run after all the others, one
// at a time. CONFORMANCE_JOBS=1 replays every case alone, in name order.
const jobs = Math.max(1, Math.floor(Number(Deno.env.get("CONFORMANCE_JOBS") ?? "4")) || 1);
const cfg = configFromEnv(UDPIF);
type Outcome = { normalized: string } | { error: unknown };
const runnable: ConformanceCase[] = [];

const started = new Map<string, Promise<Outcome>>();

function startFrom(i: number): void {
  for (let k = i; k < Math.min(runnable.length, i + jobs); k++) {
    const c = runnable[k];
    if (started.has(c.name)) continue;
    started.set(
      c.name,
      replayCase(c, cfg).then((r) => ({ normalized: r.normalized }), (error) => ({ error })),
    );
  }
}

// A case folder that does not load (bad args, no expected.txt) is a
// failing test of its own, not a broken test file.
const cases = await Promise.all(
  listCases(CASES).filter((name) => !only || new RegExp(only).test(name)).map(async (name) => ({
    name,
    loaded: await loadCase(`${CASES}/${name}`).catch((e: unknown) =>
      e instanceof Error ? e : new Error(String(e))
    ),
  })),
);
const alone = (c: { loaded: ConformanceCase | Error }) =>
  jobs > 1 && !(c.loaded instanceof Error) && measuresRealTime(c.loaded);

for (const { name, loaded } of [...cases.filter((c) => !alone(c)), ...cases.filter(alone)]) {
  const reason = known.get(name) ?? (loaded instanceof Error ? null : loaded.racy);
  const ignore = reason !== null && !all;
  const index = runnable.length;
  const parallel = !ignore && !(loaded instanceof Error) && !alone({ loaded });
  if (parallel) runnable.push(loaded);
  Deno.test({
    name: ignore ? `conformance: ${name} (skipped: ${reason})` : `conformance: ${name}`,
    ignore,
    // The replay runs a daemon and many short commands; it cleans up after
    // itself (see replay.ts), so the per-test op/resource checks add nothing.
    sanitizeOps: false,
    sanitizeResources: false,
    fn: async () => {
      if (loaded instanceof Error) throw loaded;
      let outcome: Outcome;
      if (parallel) {
        startFrom(index);
        outcome = await started.get(name)!;
        started.delete(name);
      } else {
        outcome = await replayCase(loaded, cfg).then(
          (r) => ({ normalized: r.normalized }),
          (error) => ({ error }),
        );
      }
      if ("error" in outcome) throw outcome.error;
      const diff = diffFromOvs(loaded, outcome.normalized);
      // One replay decides: a case that differs only sometimes is a bug
      // (in udpif, or in a case whose OVS output depends on timing).
      if (diff !== "") throw new Error(`udpif's output differs from OVS's:\n${diff}`);
    },
  });
}

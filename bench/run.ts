/**
 * `make bench`: runs every bench/*_bench.ts in its own process, in name
 * order; each prints its figures on one line. The long reliability runs
 * are shortened here unless asked for in full: the soak to 60 s
 * (SOAK_SECONDS, 600 when run alone) and the churn to 200 rounds
 * (CHURN_ROUNDS, 1000 when run alone).
 */
const dir = new URL(".", import.meta.url);
const files = [...Deno.readDirSync(dir)]
  .map((e) => e.name)
  .filter((n) => n.endsWith("_bench.ts"))
  .sort();
let failed = 0;
for (const f of files) {
  const cmd = new Deno.Command(Deno.execPath(), {
    // All permissions: reading /proc/self/task (per-thread CPU time, as
    // pmd_scaling_bench.ts does) needs --allow-all.
    args: ["run", "--allow-all", new URL(f, dir).pathname],
    stdout: "inherit",
    stderr: "inherit",
    env: {
      SOAK_SECONDS: Deno.env.get("SOAK_SECONDS") ?? "60",
      CHURN_ROUNDS: Deno.env.get("CHURN_ROUNDS") ?? "200",
    },
  });
  const { code } = await cmd.output();
  if (code !== 0) {
    console.error(`${f}: exit ${code}`);
    failed++;
  }
}
Deno.exit(failed ? 1 : 0);

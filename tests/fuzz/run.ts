/**
 * `make fuzz`: runs every target (or FUZZ_TARGETS=a,b) from its corpus
 * under fixtures/fuzz/, each for FUZZ_SECONDS (default 10) or
 * FUZZ_INPUTS inputs, whichever ends first, from FUZZ_SEED (default 1).
 * Prints one line per target and then
 *   fuzz: T targets, N inputs, C crashes
 * where C counts distinct failures (the same property failing twice is
 * one crash, up to 5 a target). Each is shrunk and saved as
 * fixtures/fuzz/<target>/crash-* (a regression input the smoke test
 * replays once the bug is fixed); exit status 1 if any.
 */
import { fuzz } from "./engine.ts";
import { loadCorpus, saveCrash } from "./corpus.ts";
import { TARGETS } from "./targets/mod.ts";

const env = (k: string) => Deno.env.get(k);
function num(k: string, dflt: number | undefined): number | undefined {
  const v = env(k);
  if (v === undefined || v === "") return dflt;
  const n = Number(v);
  if (!Number.isFinite(n) || n <= 0) {
    console.error(`fuzz: ${k}=${v} is not a positive number`);
    Deno.exit(2);
  }
  return n;
}
const inputs = num("FUZZ_INPUTS", undefined);
const seconds = num("FUZZ_SECONDS", inputs === undefined ? 10 : undefined);
const seed = num("FUZZ_SEED", 1)!;
const wanted = env("FUZZ_TARGETS")?.split(",").filter((s) => s);
const unknown = wanted?.filter((w) => !TARGETS.some((t) => t.name === w)) ?? [];
if (unknown.length) {
  console.error(
    `fuzz: unknown target ${unknown.join(", ")} (targets: ${
      TARGETS.map((t) => t.name).join(", ")
    })`,
  );
  Deno.exit(2);
}
const targets = TARGETS.filter((t) => !wanted || wanted.includes(t.name));

let total = 0, crashes = 0;
for (const t of targets) {
  await t.setup?.();
  const corpus = loadCorpus(t).map((e) => e.input);
  const r = await fuzz(t, corpus, { seed, inputs, seconds });
  t.teardown?.();
  total += r.inputs;
  crashes += r.crashes.length;
  const rate = Math.round(r.inputs / r.seconds);
  console.log(
    `fuzz: ${t.name}: ${r.inputs} inputs in ${r.seconds.toFixed(1)} s (${rate}/s), ` +
      `${r.crashes.length} crashes, corpus ${corpus.length}`,
  );
  for (const c of r.crashes) console.log(`  crash ${saveCrash(t, c)}: ${c.error}`);
}
console.log(`fuzz: ${targets.length} targets, ${total} inputs, ${crashes} crashes`);
Deno.exit(crashes ? 1 : 0);

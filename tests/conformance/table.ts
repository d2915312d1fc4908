/**
 * Prints the conformance table (markdown) for the README: every case
 * replayed through udpif, passing or failing, each failing case with the
 * reason it fails now (where its output first departs from OVS's, or why
 * it could not run).
 *
 *   deno run -A tests/conformance/table.ts [--only REGEX] [--write-known] [--keep-reasons]
 *
 * --write-known rewrites known_failures.txt from this run: the cases that
 * failed, and the entries of cases the run did not replay (--only).
 * --keep-reasons keeps the reason already written for a listed case that
 * still fails (a hand-written explanation) instead of the computed one.
 */
import { listCases, loadCase } from "./case.ts";
import { readKnownFailures } from "./known_failures.ts";
import { errorReason, firstDifference } from "./reason.ts";
import { configFromEnv, replayCase } from "./replay.ts";
import { reapStale } from "./stale.ts";

const HERE = new URL(".", import.meta.url).pathname;
const CASES = `${HERE}cases`;
const KNOWN = `${HERE}known_failures.txt`;
const UDPIF = Deno.env.get("CONFORMANCE_UDPIF") ??
  new URL("../../bin/udpif", import.meta.url).pathname;

export interface Row {
  name: string;
  pass: boolean;
  racy: boolean;
  reason: string;
}

/**
 * The README table: a summary line, the passing cases, and the failing
 * ones grouped by reason (so that 60 cases failing for one reason read as
 * one row, and each case still appears with its reason).
 */
export function markdown(rows: Row[]): string {
  const passing = rows.filter((r) => r.pass);
  const racy = rows.filter((r) => !r.pass && r.racy);
  const failing = rows.filter((r) => !r.pass && !r.racy);
  const byReason = new Map<string, string[]>();
  for (const r of failing) byReason.set(r.reason, [...(byReason.get(r.reason) ?? []), r.name]);
  const cell = (s: string) => s.replaceAll("|", "\\|");
  const out = [
    `${rows.length} cases: ${passing.length} passing, ${failing.length} failing, ` +
    `${racy.length} racy (not compared).`,
    "",
    `Passing: ${passing.length ? passing.map((r) => r.name).join(", ") : "none yet"}.`,
    "",
  ];
  if (failing.length > 0) {
    out.push("| reason it differs | failing cases |", "| --- | --- |");
    for (const [reason, names] of byReason) out.push(`| ${cell(reason)} | ${names.join(", ")} |`);
    out.push("");
  }
  if (racy.length > 0) {
    out.push(`Racy in OVS itself, not compared: ${racy.map((r) => r.name).join(", ")}.`);
  }
  return out.join("\n");
}

async function main(args: string[]): Promise<number> {
  let only: RegExp | null = null;
  let writeKnown = false;
  let keepReasons = false;
  for (let i = 0; i < args.length; i++) {
    if (args[i] === "--only" && i + 1 < args.length) only = new RegExp(args[++i]);
    else if (args[i] === "--write-known") writeKnown = true;
    else if (args[i] === "--keep-reasons") keepReasons = true;
    else {
      console.error(
        `table.ts: unknown argument '${args[i]}' (use --only REGEX, --write-known, --keep-reasons)`,
      );
      return 2;
    }
  }
  const known = readKnownFailures(KNOWN);
  await reapStale();
  const cfg = configFromEnv(UDPIF);
  const rows: Row[] = [];
  for (const name of listCases(CASES)) {
    if (only && !only.test(name)) continue;
    let row: Row;
    let racy = false;
    try {
      const c = await loadCase(`${CASES}/${name}`);
      racy = c.racy !== null;
      const { normalized } = await replayCase(c, cfg);
      const pass = normalized === c.expected;
      row = { name, pass, racy, reason: pass ? "" : firstDifference(c.expected, normalized) };
    } catch (e) {
      row = { name, pass: false, racy, reason: errorReason(e) };
    }
    if (!row.pass && keepReasons && known.has(name)) row.reason = known.get(name)!;
    console.error(`${row.pass ? "pass" : "FAIL"} ${name}${row.pass ? "" : `: ${row.reason}`}`);
    rows.push(row);
  }
  console.log(markdown(rows));
  if (writeKnown) {
    // Cases this run did not replay (--only) keep their entries.
    const ran = new Set(rows.map((r) => r.name));
    const entries = new Map([...known].filter(([name]) => !ran.has(name)));
    for (const r of rows) if (!r.pass && !r.racy) entries.set(r.name, r.reason);
    const text = [
      "# Recorded conformance cases that udpif does not reproduce yet: CASE<TAB>reason.",
      "# Listed cases run as ignored tests (CONFORMANCE_ALL=1 runs them anyway).",
      "# Regenerate: deno run -A tests/conformance/table.ts --write-known [--keep-reasons]",
      ...[...entries].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)).map(([n, r]) =>
        `${n}\t${r}`
      ),
      "",
    ].join("\n");
    await Deno.writeTextFile(KNOWN, text);
  }
  return 0;
}

if (import.meta.main) Deno.exit(await main(Deno.args));

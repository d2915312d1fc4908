/**
 * The corpus of a target under fixtures/fuzz/<target>/: seeds
 * (make_seeds.ts) and crash fixtures (crash-*, written by run.ts, kept as
 * regression tests). Text targets read every .txt file, one input per
 * line; byte targets read every .bin file, one input per file.
 */
import type { AnyTarget, Crash } from "./engine.ts";
import { fnv1a } from "./engine.ts";

export const FUZZ_FIXTURES = new URL("../../fixtures/fuzz/", import.meta.url);

export interface CorpusEntry {
  file: string;
  input: string | Uint8Array;
}

export function loadCorpus(t: AnyTarget): CorpusEntry[] {
  const dir = new URL(`${t.name}/`, FUZZ_FIXTURES);
  let names: string[];
  try {
    names = [...Deno.readDirSync(dir)].filter((e) => e.isFile).map((e) => e.name).sort();
  } catch {
    return [];
  }
  const out: CorpusEntry[] = [];
  for (const file of names) {
    if (t.kind === "text" && file.endsWith(".txt")) {
      for (const line of Deno.readTextFileSync(new URL(file, dir)).split("\n")) {
        if (line) out.push({ file, input: line });
      }
    } else if (t.kind === "bytes" && file.endsWith(".bin")) {
      out.push({ file, input: Deno.readFileSync(new URL(file, dir)) });
    }
  }
  return out;
}

/** Saves a (minimized) crash as a fixture; returns its file name. */
export function saveCrash(t: AnyTarget, crash: Crash<string | Uint8Array>): string {
  const dir = new URL(`${t.name}/`, FUZZ_FIXTURES);
  Deno.mkdirSync(dir, { recursive: true });
  const bytes = typeof crash.input === "string"
    ? new TextEncoder().encode(crash.input)
    : crash.input;
  const name = `crash-${fnv1a(bytes).toString(16).padStart(8, "0")}`;
  if (t.kind === "text") {
    Deno.writeTextFileSync(new URL(`${name}.txt`, dir), `${crash.input}\n`);
    return `${name}.txt`;
  }
  Deno.writeFileSync(new URL(`${name}.bin`, dir), bytes);
  return `${name}.bin`;
}

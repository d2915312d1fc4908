/**
 * The fuzzing engine: a seeded PRNG, byte and token mutators, a loop that
 * feeds one target mutated corpus entries (or generated inputs) until an
 * input budget or a time budget runs out, and a minimizer that shrinks a
 * failing input before it is saved as a fixture.
 *
 * Mutation from a seed corpus, not coverage guidance: the coverage-guided
 * fuzzers for JavaScript (jazzer.js) need a native libFuzzer addon and
 * instrument code through Node's module loader, neither of which Deno
 * runs; see README.md, "Fuzzing".
 *
 * A target's `run` throws only when a property fails: the errors a bad
 * input is allowed to raise (OdpParseError, OfctlError, PcapError...) are
 * caught and checked by the target itself.
 */

/** xorshift32 with a splitmix-style seed scramble: small, fast, deterministic. */
export class Rng {
  private s: number;
  constructor(seed: number) {
    let z = (seed + 0x9e3779b9) | 0;
    z = Math.imul(z ^ (z >>> 16), 0x85ebca6b);
    z = Math.imul(z ^ (z >>> 13), 0xc2b2ae35);
    this.s = (z ^ (z >>> 16)) | 0 || 0x2545f491;
  }
  next(): number {
    let s = this.s;
    s ^= s << 13;
    s ^= s >>> 17;
    s ^= s << 5;
    this.s = s;
    return s >>> 0;
  }
  /** An integer in [0, n). */
  int(n: number): number {
    return this.next() % n;
  }
  pick<T>(xs: readonly T[]): T {
    return xs[this.next() % xs.length];
  }
  chance(oneIn: number): boolean {
    return this.next() % oneIn === 0;
  }
}

/** FNV-1a over bytes: names crash fixtures and seeds per-input choices. */
export function fnv1a(b: Uint8Array): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < b.length; i++) h = Math.imul(h ^ b[i], 0x01000193);
  return h >>> 0;
}

export interface Target<T> {
  readonly name: string;
  /** "bytes" inputs are saved as .bin fixtures, "text" ones as .txt lines. */
  readonly kind: T extends string ? "text" : "bytes";
  /** Prepares shared state (a datapath, a reader); called once before any run. */
  setup?(): void | Promise<void>;
  teardown?(): void;
  /** Makes a new input from the corpus (and the target's own generators). */
  mutate(rng: Rng, corpus: readonly T[]): T;
  /** Checks one input; throws when a property fails. */
  run(input: T): void | Promise<void>;
}

// deno-lint-ignore no-explicit-any
export type AnyTarget = Target<any>;

const INTERESTING_BYTES = [0x00, 0x01, 0x7f, 0x80, 0xff, 0x81, 0x88, 0x86, 0xdd, 0x08, 0x06, 0x11];
const INTERESTING_U16 = [
  0x0000,
  0xffff,
  0x8100,
  0x88a8,
  0x0800,
  0x86dd,
  0x0806,
  0x8035,
  0x8847,
  0x8848,
  0x05ff,
  0x0600,
  0x2000,
  0x3fff,
  0x4500,
  0x4f00,
];

/** One to four byte-level mutations of a corpus entry (flips, splices, truncations...). */
export function mutateBytes(rng: Rng, corpus: readonly Uint8Array[], maxLen = 2048): Uint8Array {
  let b: Uint8Array = rng.pick(corpus).slice();
  for (let n = 1 + rng.int(4); n > 0; n--) {
    const at = b.length ? rng.int(b.length) : 0;
    switch (rng.int(10)) {
      case 0:
        if (b.length) b[at] ^= 1 << rng.int(8);
        break;
      case 1:
        if (b.length) b[at] = rng.int(256);
        break;
      case 2:
        if (b.length) b[at] = rng.pick(INTERESTING_BYTES);
        break;
      case 3:
        if (b.length > 1) {
          const v = rng.pick(INTERESTING_U16), o = rng.int(b.length - 1);
          b[o] = v >> 8, b[o + 1] = v & 0xff;
        }
        break;
      case 4: // truncate
        b = b.slice(0, rng.int(b.length + 1));
        break;
      case 5: { // delete a range
        const n = 1 + rng.int(8);
        b = concat(b.subarray(0, at), b.subarray(at + n));
        break;
      }
      case 6: { // insert random bytes
        const ins = new Uint8Array(1 + rng.int(8));
        for (let i = 0; i < ins.length; i++) ins[i] = rng.int(256);
        b = concat(b.subarray(0, at), ins, b.subarray(at));
        break;
      }
      case 7: { // splice with another entry
        const o = rng.pick(corpus);
        const from = rng.int(o.length + 1);
        b = concat(b.subarray(0, at), o.subarray(from));
        break;
      }
      case 8: { // duplicate a range
        const n = 1 + rng.int(16);
        b = concat(b.subarray(0, at + n), b.subarray(at));
        break;
      }
      default: // arithmetic on a byte
        if (b.length) b[at] = (b[at] + rng.int(33) - 16) & 0xff;
    }
  }
  return b.length > maxLen ? b.slice(0, maxLen) : b;
}

export function concat(...parts: Uint8Array[]): Uint8Array {
  const out = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
  let o = 0;
  for (const p of parts) out.set(p, o), o += p.length;
  return out;
}

const TOKEN = /0x[0-9a-fA-F]+|[0-9]+|[A-Za-z_][A-Za-z_0-9]*|\s+|./g;
const INTERESTING_NUMBERS = [
  "0",
  "1",
  "-1",
  "255",
  "256",
  "4095",
  "4096",
  "65535",
  "65536",
  "0xffff",
  "0x10000",
  "4294967295",
  "4294967296",
  "0xffffffff",
  "0x100000000",
  "18446744073709551615",
  "18446744073709551616",
  "0xffffffffffffffff",
  "99999999999999999999999",
  "010",
  "09",
  "0x",
  "1e3",
];
const PUNCT = ["(", ")", ",", "=", "/", ":", ".", "-", ">", " ", "[", "]", "'", "\\", "\t"];

export function tokens(s: string): string[] {
  return s.match(TOKEN) ?? [];
}

/** One to three token-level mutations of a corpus line. */
export function mutateText(rng: Rng, corpus: readonly string[], maxLen = 1024): string {
  let t = tokens(rng.pick(corpus));
  for (let n = 1 + rng.int(3); n > 0; n--) {
    const at = rng.int(t.length + 1);
    switch (rng.int(9)) {
      case 0:
        t.splice(at, 1 + rng.int(2));
        break;
      case 1:
        if (at < t.length) t.splice(at, 0, t[at]);
        break;
      case 2: { // a token from another line
        const o = tokens(rng.pick(corpus));
        if (o.length) t.splice(at, rng.int(2), o[rng.int(o.length)]);
        break;
      }
      case 3: { // a number replaced by a boundary value
        const nums = t.map((x, i) => /^(0x)?[0-9a-fA-F]+$/.test(x) ? i : -1).filter((i) => i >= 0);
        if (nums.length) t[rng.pick(nums)] = rng.pick(INTERESTING_NUMBERS);
        break;
      }
      case 4:
        t.splice(at, rng.int(2), rng.pick(PUNCT));
        break;
      case 5: { // swap two tokens
        const j = rng.int(t.length + 1);
        if (at < t.length && j < t.length) [t[at], t[j]] = [t[j], t[at]];
        break;
      }
      case 6: { // splice: our head, another line's tail
        const o = tokens(rng.pick(corpus));
        t = t.slice(0, at).concat(o.slice(rng.int(o.length + 1)));
        break;
      }
      case 7:
        t = t.slice(0, at);
        break;
      default: { // a character changed inside a token
        if (at < t.length && t[at].length) {
          const s = t[at], i = rng.int(s.length);
          t[at] = s.slice(0, i) + String.fromCharCode(32 + rng.int(95)) + s.slice(i + 1);
        }
      }
    }
  }
  const s = t.join("");
  return s.length > maxLen ? s.slice(0, maxLen) : s;
}

export interface RunBudget {
  seed: number;
  /** Stop after this many inputs... */
  inputs?: number;
  /** ...or after this many seconds, whichever comes first. */
  seconds?: number;
  /** Crashes kept per target (each is minimized, which costs runs). */
  maxCrashes?: number;
}

/** A distinct failure (by `signature`), its input shrunk. */
export interface Crash<T> {
  input: T;
  error: string;
}

export interface RunResult<T> {
  target: string;
  inputs: number;
  seconds: number;
  crashes: Crash<T>[];
}

/** The one-line description of a failure. */
export function describe(e: unknown): string {
  return e instanceof Error ? `${e.name}: ${e.message.split("\n")[0]}` : String(e);
}

/**
 * What makes two failures the same bug: the error type and the message up
 * to its first ": " (targets put the failed property first, the input after).
 */
export function signature(description: string): string {
  const i = description.indexOf(": ", description.indexOf(": ") + 2);
  return i < 0 ? description : description.slice(0, i);
}

async function fails<T>(t: Target<T>, input: T): Promise<string | null> {
  try {
    await t.run(input);
    return null;
  } catch (e) {
    return describe(e);
  }
}

/** Runs `t` on `input`, returning the failure or null; for replays. */
export function check<T>(t: Target<T>, input: T): Promise<string | null> {
  return fails(t, input);
}

/** Feeds `t` mutated inputs within `budget`; the corpus entries are run first, as they are. */
export async function fuzz<T>(
  t: Target<T>,
  corpus: readonly T[],
  budget: RunBudget,
): Promise<RunResult<T>> {
  const rng = new Rng(budget.seed ^ fnv1a(new TextEncoder().encode(t.name)));
  const limit = budget.inputs ?? Infinity;
  const deadline = budget.seconds === undefined
    ? Infinity
    : performance.now() + budget.seconds * 1000;
  const crashes: Crash<T>[] = [];
  const seen = new Set<string>();
  const maxCrashes = budget.maxCrashes ?? 5;
  const start = performance.now();
  let n = 0;
  const isAsync = t.run.constructor.name === "AsyncFunction";
  const sync = t.run.bind(t) as (x: T) => void;
  for (; n < limit; n++) {
    if ((n & 63) === 0 && performance.now() >= deadline) break;
    const input = n < corpus.length ? corpus[n] : t.mutate(rng, corpus);
    let error: string | null = null;
    if (isAsync) error = await fails(t, input);
    else {
      try {
        sync(input);
      } catch (e) {
        error = describe(e);
      }
    }
    if (error === null) continue;
    const sig = signature(error);
    if (seen.has(sig) || crashes.length >= maxCrashes) continue;
    seen.add(sig);
    const small = await minimize(t, input, sig);
    crashes.push({ input: small, error: (await fails(t, small)) ?? error });
  }
  return { target: t.name, inputs: n, seconds: (performance.now() - start) / 1000, crashes };
}

/**
 * Shrinks a failing input while it still fails the same way (`sig`):
 * drops halves, then chunks, then single bytes or tokens. Bounded in runs.
 */
export async function minimize<T>(t: Target<T>, input: T, sig: string, maxRuns = 3000): Promise<T> {
  const text = typeof input === "string";
  let parts: (string | number)[] = text ? tokens(input as string) : Array.from(input as Uint8Array);
  const build = (p: (string | number)[]) =>
    (text ? (p as string[]).join("") : Uint8Array.from(p as number[])) as T;
  let runs = 0;
  for (let chunk = Math.max(1, parts.length >> 1); chunk >= 1 && runs < maxRuns; chunk >>= 1) {
    for (let i = 0; i + chunk <= parts.length && runs < maxRuns;) {
      const cand = parts.slice(0, i).concat(parts.slice(i + chunk));
      runs++;
      const e = await fails(t, build(cand));
      if (e !== null && signature(e) === sig) parts = cand;
      else i += chunk;
    }
  }
  return build(parts);
}
